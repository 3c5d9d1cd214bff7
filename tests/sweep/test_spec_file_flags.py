"""`tokenplan sweep SPEC.yaml` with flags: --preset is the base the file's keys override (it was ignored
in silence), and a bad value in the file is named by the file and its key, not by the flag that could also
set it ('--budgets: b.yaml: budgets=-1 must be > 0.' for a flag nobody typed)."""

from __future__ import annotations

import json

import pytest

from helpers import run_cli


def _dry(*args: str) -> dict:
    r = run_cli("sweep", *args, "--dry-run", "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_preset_is_the_base_the_spec_file_overrides_and_flags_override_both(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("budgets: [3e9, 1e10]\nseq_len: 64\n")
    out = _dry(str(spec), "--preset", "micro")
    # micro's sizes, batch and evals; the file's budgets and seq_len (was: sizes auto, seq_len 64, 10 runs)
    assert out["spec"]["sizes"] == ["L1-d16-h1", "L1-d32-h2"] and out["n_runs"] == 4
    assert out["spec"]["budgets"] == [3e9, 1e10] and out["spec"]["seq_len"] == 64
    assert out["spec"]["batch_size"] == 8 and out["spec"]["n_evals"] == 2
    assert out["spec"]["description"].endswith("(preset micro, with budgets changed).")
    flags = _dry(str(spec), "--preset", "micro", "--seq-len", "16", "--budgets", "6e9")
    assert flags["spec"]["seq_len"] == 16 and flags["spec"]["budgets"] == [6e9]
    assert flags["spec"]["batch_size"] == 8


def test_a_file_naming_another_preset_is_refused(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("preset: cpu-demo\n")
    r = run_cli("sweep", str(spec), "--preset", "micro", "--dry-run")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert f"--preset: {spec} names preset 'cpu-demo' and preset='micro'" in r.stderr
    assert _dry(str(spec), "--preset", "cpu-demo")["n_runs"] == 15  # the same preset twice is fine


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("budgets: [3e9, -1]\n", "budgets=-1 must be > 0."),
        ("preset: micro\nseq_len: abc\n", "seq_len='abc' is not a number"),
        ("preset: micro\nn_sizes: 0\n", "n_sizes=0 must be > 0."),
        ("preset: cpu-dmeo\n", "unknown sweep preset 'cpu-dmeo'"),
        # a repeat spec's n_tokens of .nan / .inf was a ValueError / OverflowError from round(n_tokens / epochs)
        ("preset: repeat-demo\nn_tokens: .nan\n", "n_tokens=nan must be a finite number."),
        ("preset: repeat-demo\nn_tokens: .inf\n", "n_tokens=inf must be a finite number."),
        # checked only when the runs were built, the file not named
        ("preset: micro\nschedule: linear\n", "schedule='linear' must be one of cosine, wsd."),
        ("preset: micro\nflops_method: 6N\n", "flops_method='6N' must be one of appendix-f, 6n."),
        # Path('') is '.': the sweep trained on every .txt/.jsonl/.json file below the current folder
        ("preset: micro\ndata: ''\n", "data='' is empty; give a file or folder, or leave data out"),
    ],
)
def test_a_bad_value_in_the_file_names_the_file_and_key_not_a_flag(tmp_path, text, message):
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    r = run_cli("sweep", str(spec), "--dry-run")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert r.stderr == f"tokenplan: error: {spec}: {message}" + r.stderr.split(message, 1)[1]


def test_a_bad_flag_beside_a_file_names_the_flag_and_a_clash_names_the_file(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("preset: micro\n")
    r = run_cli("sweep", str(spec), "--seeds", "0,-1", "--dry-run")
    assert r.returncode == 2 and r.stderr.startswith("tokenplan: error: --seeds: seeds=-1")
    spec.write_text("preset: repeat-demo\n")  # the file's epochs meet --n-tokens 10
    r = run_cli("sweep", str(spec), "--n-tokens", "10", "--dry-run")
    assert r.returncode == 2
    assert r.stderr.startswith(f"tokenplan: error: {spec} with the flags given: epochs=64 leaves")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty; see docs/sweep.md"),
        ("budgets: [1e9\n", "is not valid YAML (line 2, column 1"),
        ("seq_len: 1\nseq_len: 2\n", "gives the key 'seq_len' twice"),
    ],
)
def test_a_bad_sweep_spec_is_named_once(tmp_path, text, message):
    """'tokenplan: error: SPEC_FILE: sweep spec 's.yaml' is empty': the file was named as the argument and
    again (select's recipe errors name it once)."""
    spec = tmp_path / "s.yaml"
    spec.write_text(text)
    r = run_cli("sweep", str(spec), "--dry-run")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert r.stderr.startswith(f"tokenplan: error: sweep spec {str(spec)!r} {message}")
