"""Count flags of sweep and select take a whole number and say so in one line (they printed click's raw
"'1.5' is not a valid integer"); a bad size in a sweep spec file names its key."""

from __future__ import annotations

import pytest

from helpers import run_cli

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


def test_a_bad_size_in_a_spec_file_names_the_file_and_the_key(tmp_path):
    spec = tmp_path / "h.yaml"
    spec.write_text("kind: isoflop\nbudgets: [1e12]\nsizes: [xx]\n")
    r = run_cli("sweep", str(spec), "--dry-run")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{spec}: sizes='xx' is not of the form L<layers>" in lines[0], lines
    assert "--sizes" not in r.stderr
