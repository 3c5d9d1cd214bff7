"""The CLI's choice lists are the library's own constants, never copies.

A flag such as ``--profile`` offers exactly the names the library accepts; the list lives once, in the
library. The identity check fails if a list is written out again in the CLI (even with the same values),
and the scan fails if a new ``click.Choice(...)`` spells its values out or builds its own list
(``sorted(NAMES)``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import click
import pytest

from tokenplan.cli import core, plan, select, sweep
from tokenplan.cli import fit as fit_cli
from tokenplan.datasets import DATASETS, FIT_EXAMPLE_NAMES, FIT_EXAMPLES
from tokenplan.fit.forms import FORMS
from tokenplan.fit.isoflop import PROFILES
from tokenplan.fit.parametric import REDUCTIONS
from tokenplan.fit.report import APPROACHES, FORM_CHOICES, LAW_KINDS
from tokenplan.flops import NORMS, POSITIONS
from tokenplan.plan.batch import BATCH_RULES
from tokenplan.select.embed import BACKENDS
from tokenplan.select.filters import FILTER_PRESETS
from tokenplan.sweep.data import EXAMPLE_CORPORA, TOKENIZER_NAMES, TOKENIZERS
from tokenplan.sweep.executors import EXECUTOR_NAMES, EXECUTORS
from tokenplan.sweep.spec import KINDS

CLI_DIR = Path(fit_cli.__file__).resolve().parent

# (command, the click parameter's name, the library's constant)
CASES = [
    (fit_cli.fit, "example", FIT_EXAMPLE_NAMES),
    (fit_cli.fit, "approach", APPROACHES),
    (fit_cli.fit, "form", FORM_CHOICES),
    (fit_cli.fit, "law_kind", LAW_KINDS),
    (fit_cli.fit, "reduction", REDUCTIONS),
    (fit_cli.fit, "profile", PROFILES),
    (core.flops, "position", POSITIONS),
    (core.flops, "norm", NORMS),
    (plan.plan, "batch_rule", BATCH_RULES),
    (select.select, "filter_preset", FILTER_PRESETS),
    (select.select, "embed_backend", BACKENDS),
    (sweep.sweep, "kind", KINDS),
    (sweep.sweep, "tokenizer", TOKENIZER_NAMES),
    (sweep.sweep, "executor", EXECUTOR_NAMES),
    (sweep.data, "name", EXAMPLE_CORPORA),
]


def _param(command: click.Command, name: str) -> click.Parameter:
    found = [p for p in command.params if p.name == name]
    assert len(found) == 1, f"{command.name} has no parameter {name!r}"
    return found[0]


@pytest.mark.parametrize(("command", "name", "constant"), CASES, ids=[c[1] for c in CASES])
def test_choice_list_is_the_library_constant(command, name, constant):
    choice = _param(command, name).type
    assert isinstance(choice, click.Choice)
    assert tuple(choice.choices) == tuple(constant)
    assert choice.choices is constant, f"--{name} copies the library's list instead of using it"


def test_name_tuples_follow_their_registries():
    assert FORM_CHOICES == ("auto", *FORMS)
    assert TOKENIZER_NAMES == tuple(TOKENIZERS)
    assert EXECUTOR_NAMES == tuple(EXECUTORS)
    assert FIT_EXAMPLE_NAMES == tuple(FIT_EXAMPLES)
    assert all(DATASETS[name].kind == "runs" for name in FIT_EXAMPLES.values())


def _own_choices(path: Path) -> list[tuple[int, str]]:
    """``click.Choice(...)`` calls in ``path`` whose list is not a name: spelled out (``["a", "b"]``) or
    made on the spot (``sorted(NAMES)``), so not the library's own constant."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name == "Choice" and not isinstance(node.args[0], ast.Name | ast.Attribute):
            out.append((node.lineno, ast.unparse(node.args[0])))
    return out


def test_scan_finds_a_choice_list_of_the_clis_own(tmp_path):
    # guards the scan itself: a spelled-out or computed list must be found, a constant must not
    src = tmp_path / "x.py"
    src.write_text(
        'import click\nT = click.Choice(["a", "b"])\nU = click.Choice(NAMES)\n'
        "V = click.Choice(sorted(NAMES))\nW = click.Choice(mod.NAMES)\n"
    )
    assert _own_choices(src) == [(2, "['a', 'b']"), (4, "sorted(NAMES)")]


def test_no_cli_choice_makes_its_own_list():
    found = [
        f"{path.name}:{line} {values}"
        for path in sorted(CLI_DIR.glob("*.py"))
        for line, values in _own_choices(path)
    ]
    assert found == [], f"use the library's constant instead of a list of the CLI's own: {found}"
