"""The package contract: a light import, a curated __all__, a working console entry point, README truths."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import tokenplan
from helpers import REPO, run_cli

HEAVY = (
    "torch",
    "sklearn",
    "pandas",
    "matplotlib",
    "ray",
    "sentence_transformers",
    "faiss",
    "scipy.optimize",
)


def test_import_is_light():
    """`import tokenplan` must not import torch, sklearn, pandas (nor the other heavy extras)."""
    code = (
        "import sys, json, tokenplan\n"
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_all_is_curated():
    assert sorted(tokenplan.__all__) == sorted(set(tokenplan.__all__))
    for name in tokenplan.__all__:
        assert hasattr(tokenplan, name), name


VERBS = (
    "plan",
    "compare",
    "repeat",
    "optimal_table",
    "predict",
    "read_runs",
    "run_fit",
    "run_sweep",
)


def test_the_verbs_are_top_level_and_lazy():
    """tokenplan.__all__ listed laws and errors but no verb: `tokenplan.plan(...)` raised AttributeError (or,
    once tokenplan.plan was imported, "'module' object is not callable"). The verbs resolve on first use,
    so `import tokenplan` still loads none of their modules."""
    assert set(VERBS) <= set(tokenplan.__all__) and set(VERBS) <= set(dir(tokenplan))
    code = (
        "import sys, tokenplan\n"
        "print(sorted(m for m in ('tokenplan.plan', 'tokenplan.fit', 'tokenplan.runs', "
        "'tokenplan.sweep') if m in sys.modules))\n"
        "p = tokenplan.plan(flops=1e22)\n"
        "import tokenplan.plan\n"
        "q = tokenplan.plan(flops=1e22)\n"
        "print(p == q == tokenplan.plan.plan(flops=1e22), tokenplan.repeat is tokenplan.plan.repeat)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "True True"]
    from tokenplan.fit import run_fit
    from tokenplan.sweep import run_sweep

    assert (tokenplan.run_fit, tokenplan.run_sweep) == (run_fit, run_sweep)
    pred = tokenplan.predict("epoch2024", 1e9, 2e10)
    assert pred.loss == tokenplan.get_law("epoch2024").predict(1e9, 2e10).loss


def test_version_and_help():
    r = run_cli("--version")
    assert r.returncode == 0 and tokenplan.__version__ in r.stdout
    r = run_cli("--help")
    assert r.returncode == 0
    for cmd in ("laws", "flops"):
        assert cmd in r.stdout


def test_readme_starts_with_two_commands_and_ci_runs_the_test_one():
    """README: exactly two commands at the top (demo, tests); .ci/run runs the README's test command."""
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", readme, flags=re.S)
    first = [line for line in blocks[0].splitlines() if line.strip() and not line.startswith("#")]
    assert len(first) == 2, first
    demo, tests = first
    assert "tokenplan" in demo and "pytest" in tests
    ci = (REPO / ".ci" / "run").read_text()
    assert tests.strip() in ci
    assert "torch==2.13.0" in tests


def test_verbs_show_their_signature():
    """`tokenplan.plan` is a callable package whose __call__ takes (*args, **kwargs): inspect.signature,
    IPython's `tokenplan.plan?` and IDEs showed that instead of plan's keywords."""
    import inspect

    for verb in VERBS:
        params = inspect.signature(getattr(tokenplan, verb)).parameters
        assert not any(p.kind is p.VAR_POSITIONAL for p in params.values()), verb
    assert "flops" in inspect.signature(tokenplan.plan).parameters


def test_readme_command_table_lists_every_command():
    """README's command table left out `tokenplan data` (in `--help` since the sweeps needed a corpus): a
    user reading the table did not learn the corpora for sweep and select are one command away."""
    from tokenplan.cli import COMMANDS

    readme = (REPO / "README.md").read_text()
    table = re.findall(r"^\| `tokenplan (\w+)` \|", readme, flags=re.M)
    assert sorted(table) == sorted(COMMANDS), (sorted(table), sorted(COMMANDS))


def test_python_m_entry_point_matches_console_script():
    r = run_cli("laws", "--json")
    assert r.returncode == 0
    assert {law["name"] for law in json.loads(r.stdout)["laws"]} >= {
        "epoch2024",
        "kaplan",
        "chinchilla-a1",
    }


def test_pyproject_declares_extras():
    text = (Path(REPO) / "pyproject.toml").read_text()
    for extra in ("train", "select", "ray", "plot"):
        assert re.search(rf"^{extra} = \[", text, flags=re.M), extra


def test_select_package_names_are_lazy_and_complete():
    """tokenplan.select resolves every name of its __all__ on first use (PEP 562), to the object its
    module defines, and importing the package alone does not import the pipeline."""
    import importlib
    import subprocess
    import sys

    import tokenplan.select as sel

    assert set(sel.__all__) == set(sel._HOME)
    # the default embedding's names are public like the other embedders'
    assert {"DEFAULT_EMBEDDER", "EnsembleEmbedder", "combine_views"} <= set(sel.__all__)
    for name in sel.__all__:
        home = importlib.import_module(f"tokenplan.select.{sel._HOME[name]}")
        assert getattr(sel, name) is getattr(home, name)
    code = "import sys, tokenplan.select; print('tokenplan.select.pipeline' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_lazy_verbs_have_types_for_type_checkers():
    """py.typed ships, but the names tokenplan loads on first use (PEP 562 __getattr__) were typed Any for
    mypy (`reveal_type(tokenplan.run_fit)` was Any), and run_fit itself had no return annotation. Each lazy
    name is imported from its defining module under `if TYPE_CHECKING:`, and every public verb annotates
    its return."""
    import ast
    import importlib
    import inspect

    tree = ast.parse((REPO / "src/tokenplan/__init__.py").read_text())
    typed = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
        for imp in node.body
        if isinstance(imp, ast.ImportFrom)
        for alias in imp.names
    }
    lazy = set(tokenplan._LAZY) - {
        "plan"
    }  # `plan` is the callable package itself: a module to mypy
    assert lazy <= typed, f"lazy names without a type: {sorted(lazy - typed)}"
    unannotated = []
    for module in (
        "tokenplan",
        "tokenplan.plan",
        "tokenplan.fit",
        "tokenplan.runs",
        "tokenplan.sweep",
    ):
        mod = importlib.import_module(module)
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.isfunction(obj) and "return" not in obj.__annotations__:
                unannotated.append(f"{module}.{name}")
    assert unannotated == []


def test_every_readme_python_block_runs_and_shows_what_it_prints():
    """tests/plan runs the README blocks that plan; the laws block (get_law) ran in no test, and its
    comment showed `Allocation(n_params=72.2B, n_tokens=1.33T, tokens_per_param=18.4, loss=...)` where
    the repr prints law= and flops= too."""
    from helpers import run_python_example

    blocks = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    assert len(blocks) >= 2
    for i, block in enumerate(blocks):
        run_python_example(block, f"<README.md python block {i}>")
