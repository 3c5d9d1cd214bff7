"""The CLI's choice lists are the library's own constants, never copies.

A flag such as ``--profile`` offers exactly the names the library accepts; the list lives once, in the
library. The identity check fails if a list is written out again in the CLI (even with the same values),
and the scan fails if a new ``click.Choice([...])`` spells its values out.
"""

from __future__ import annotations

import ast
from pathlib import Path

import click
import pytest

from tokenplan.cli import core, plan, select, sweep
from tokenplan.cli import fit as fit_cli
from tokenplan.fit.forms import FORMS
from tokenplan.fit.isoflop import PROFILES
from tokenplan.fit.parametric import REDUCTIONS
from tokenplan.fit.report import APPROACHES, FORM_CHOICES, LAW_KINDS
from tokenplan.flops import NORMS, POSITIONS
from tokenplan.plan.batch import BATCH_RULES
from tokenplan.select.embed import BACKENDS
from tokenplan.select.filters import FILTER_PRESETS
from tokenplan.sweep.data import TOKENIZER_NAMES, TOKENIZERS
from tokenplan.sweep.executors import EXECUTOR_NAMES, EXECUTORS
from tokenplan.sweep.spec import KINDS

CLI_DIR = Path(fit_cli.__file__).resolve().parent

# (command, the click parameter's name, the library's constant)
CASES = [
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
]

# Choice lists the CLI owns (no library constant names these values): file -> values.
CLI_OWNED = {("sweep.py", ("shakespeare", "chatterbot", "sample"))}  # `tokenplan data NAME`


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


def _literal_choices(path: Path) -> list[tuple[int, tuple]]:
    """``click.Choice([...])`` calls in ``path`` whose first argument is a literal list or tuple."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name == "Choice" and isinstance(node.args[0], ast.List | ast.Tuple):
            out.append((node.lineno, tuple(ast.literal_eval(node.args[0]))))
    return out


def test_scan_finds_a_literal_choice(tmp_path):
    # guards the scan itself: a spelled-out list must be found
    src = tmp_path / "x.py"
    src.write_text('import click\nT = click.Choice(["a", "b"])\nU = click.Choice(NAMES)\n')
    assert _literal_choices(src) == [(2, ("a", "b"))]


def test_no_cli_choice_spells_out_its_values():
    found = [
        f"{path.name}:{line} {values}"
        for path in sorted(CLI_DIR.glob("*.py"))
        for line, values in _literal_choices(path)
        if (path.name, values) not in CLI_OWNED
    ]
    assert found == [], f"use the library's constant instead of a literal list: {found}"
