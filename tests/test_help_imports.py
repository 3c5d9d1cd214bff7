"""`tokenplan --help` builds every sub-command, and the fit, sweep and select commands imported their
libraries for their option lists (tokenplan.fit.report for five tuples, tokenplan.sweep.data,
tokenplan.select.embed ...): --help's CPU rose from 0.15 to 0.21 s. The lists now live in each package's
``choices`` module, which imports nothing, and tokenplan.fit and tokenplan.sweep import their modules on first
use (as tokenplan.select did), so --help loads none of the three libraries (bench/help_coldstart.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

LIBRARIES = ("tokenplan.fit", "tokenplan.sweep", "tokenplan.select", "tokenplan.report")
LIGHT = {f"{p}{s}" for p in LIBRARIES for s in ("", ".choices")}


def _imported(*argv: str) -> list[str]:
    code = (
        "import json, sys\nfrom tokenplan.cli import main\n"
        f"sys.argv = ['tokenplan', *{list(argv)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"sys.stderr.write(json.dumps(sorted(m for m in sys.modules if m.startswith({LIBRARIES!r}))))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(r.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "argv",
    [("--help",), ("fit", "--help"), ("sweep", "--help"), ("select", "--help"), ("data", "--help")],
)
def test_help_imports_no_library_module(argv):
    heavy = [m for m in _imported(*argv) if m not in LIGHT]
    assert heavy == [], f"tokenplan {' '.join(argv)} imported {heavy}"


def test_the_packages_still_give_every_public_name():
    import tokenplan.fit as fit
    import tokenplan.sweep as sweep

    for package in (fit, sweep):
        for name in package.__all__:
            assert getattr(package, name) is not None
        assert sorted(package.__all__) == sorted(n for n in dir(package) if n in package.__all__)
    from tokenplan.fit.report import run_fit

    assert fit.run_fit is run_fit


def test_the_backtest_function_survives_an_import_of_its_module():
    """tokenplan.fit.backtest is a function and the module that defines it; importing the module set the
    lazy package's attribute to the module ("'module' object is not callable")."""
    code = (
        "import tokenplan.fit.backtest, tokenplan.fit as fit\n"
        "from tokenplan.fit import backtest\n"
        "print(callable(fit.backtest), callable(backtest), fit.backtest is backtest)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.split() == ["True", "True", "True"]
