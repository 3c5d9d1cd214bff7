"""Count flags take a whole number and say so in one line (they printed click's raw "'1.5' is not a valid
integer"): those of sweep and select, then fit's --drop-highest, --bootstrap and --seed, select's --n,
--seed, --min-chars and --max-chars and the flops shape sizes, where 0 is a value for a seed or a count
to drop; a bad size in a sweep spec file names its key."""

from __future__ import annotations

import pytest

from helpers import REPO, run_cli
from tokenplan.cli import main
from tokenplan.cli._options import Number

_COUNTS = [
    ("sweep", "--n-sizes"),
    ("sweep", "--seq-len"),
    ("sweep", "--batch-size"),
    ("sweep", "--n-evals"),
    ("sweep", "--workers"),
    ("select", "--budget-tokens"),
    ("select", "--batch-size"),
    ("select", "--n-clusters"),
    ("select", "--workers"),
]


@pytest.mark.parametrize(("command", "flag"), _COUNTS)
def test_a_fractional_count_is_one_line_naming_the_flag(command, flag):
    r = run_cli(command, flag, "1.5")
    assert r.returncode == 2 and r.stdout == "", (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert f"{flag}='1.5' must be a whole number > 0" in lines[0] and f"e.g. {flag} " in lines[0]
    assert "Traceback" not in r.stderr and "not a valid integer" not in r.stderr


RESULTS = str(REPO / "tests" / "data" / "fit" / "results.csv")
# (command line before the flag, the flag, whether 0 is a value)
_WHOLE = [
    (("fit", RESULTS), "--drop-highest", True),
    (("fit", RESULTS), "--bootstrap", True),
    (("fit", RESULTS), "--seed", True),
    (("select",), "--seed", True),
    (("select",), "--min-chars", True),
    (("select",), "--max-chars", False),
    (("select",), "--n", False),
    *((("flops",), f, False) for f in ("--layers", "--d-model", "--heads", "--kv-heads")),
    *((("flops",), f, False) for f in ("--kv-size", "--ffw-size", "--vocab", "--seq-len")),
]


def _one_error_line(capsys, *args: str) -> str:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert exc.value.code == 2 and out == "" and len(lines) == 1, (exc.value.code, out, err)
    assert "Traceback" not in err and "not a valid integer" not in err
    return lines[0]


_BAD = [
    pytest.param(base, flag, zero_ok, value, id=f"{base[0]}{flag}={value}")
    for base, flag, zero_ok in _WHOLE
    for value in ["1.5", "-1", "nan", "1e400", "abc", *([] if zero_ok else ["0"])]
]


@pytest.mark.parametrize(("base", "flag", "zero_ok", "value"), _BAD)
def test_a_count_that_is_not_a_whole_number_in_range_is_the_house_line(
    capsys, base, flag, zero_ok, value
):
    """fit --seed 1.5 printed click's "'1.5' is not a valid integer"; flops --layers 0 the library's
    "n_layers=0 must be > 0" after the flag: now one line with the range and an example, as --workers."""
    line = _one_error_line(capsys, *base, flag, value)
    bound = ">= 0" if zero_ok else "> 0"
    assert f"{flag}={value!r} must be a whole number {bound} (no K/M/B/T suffix)" in line, line
    assert f"e.g. {flag} " in line


def test_zero_is_a_value_where_it_means_something():
    """A seed, a count of runs to drop or of bootstrap refits and a minimum length may be 0."""
    count = Number("0", whole=True, allow_zero=True)
    assert count.convert("0", None, None) == 0 and count.convert("12", None, None) == 12
    with pytest.raises(Exception, match=r"value='-1' must be a whole number >= 0"):
        count.convert("-1", None, None)
    with pytest.raises(Exception, match=r"value='0' must be a whole number > 0"):
        Number("8", whole=True).convert("0", None, None)


def test_fit_takes_zero_for_its_counts():
    r = run_cli("fit", RESULTS, "--drop-highest", "0", "--bootstrap", "0", "--seed", "0", "--json")
    assert r.returncode == 0, r.stderr


def test_a_bad_size_in_a_spec_file_names_the_file_and_the_key(tmp_path):
    spec = tmp_path / "h.yaml"
    spec.write_text("kind: isoflop\nbudgets: [1e12]\nsizes: [xx]\n")
    r = run_cli("sweep", str(spec), "--dry-run")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{spec}: sizes='xx' is not of the form L<layers>" in lines[0], lines
    assert "--sizes" not in r.stderr
