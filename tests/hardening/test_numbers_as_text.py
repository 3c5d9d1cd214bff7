"""One rule for numbers written as text in a sweep spec and a select recipe (docs/safety.md): the text is
read as the number it spells (YAML 1.1 reads 1e3 and 3e-3 as text; some tools quote every value), a count
must still be whole, and text that spells no number is one line naming the key, exit 2. The sweep read
`n_sizes: "3"` while select refused `n_select: "3"`."""

from __future__ import annotations

import json

import pytest

from helpers import TEST_DATA, run_cli

POOL = TEST_DATA / "select" / "tiny.jsonl"


def _select(tmp_path, lines: str):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"input: {POOL}\nembedder: tfidf\n{lines}\n")
    return run_cli("select", str(recipe), "--json", "--no-cache")


def _sweep(tmp_path, lines: str):
    spec = tmp_path / "s.yaml"
    spec.write_text(f"preset: cpu-demo\n{lines}\n")
    return run_cli("sweep", str(spec), "--dry-run", "--json")


def test_quoted_counts_are_read_by_both_commands(tmp_path):
    r = _select(tmp_path, 'n_select: "3"\nseed: "7"\nn_clusters: "2"\nfilters: {max_chars: "4000"}')
    assert r.returncode == 0, r.stderr
    recipe = json.loads(r.stdout)["recipe"]
    assert (recipe["n_select"], recipe["seed"], recipe["n_clusters"]) == (3, 7, 2)
    assert (
        recipe["filters"]["max_chars"] == 4000 and json.loads(r.stdout)["report"]["n_selected"] == 3
    )
    r = _sweep(tmp_path, 'n_sizes: "3"\nseeds: ["0", "1"]\nseq_len: "64"\nn_evals: 1e1')
    assert r.returncode == 0, r.stderr
    spec = json.loads(r.stdout)["spec"]
    assert (spec["n_sizes"], spec["seeds"], spec["seq_len"], spec["n_evals"]) == (3, [0, 1], 64, 10)


def test_quantities_keep_their_suffixes(tmp_path):
    r = _sweep(tmp_path, 'budgets: 3e11\nlrs: 3e-3\neval_tokens: "16K"')
    assert r.returncode == 0, r.stderr
    spec = json.loads(r.stdout)["spec"]
    assert (spec["budgets"], spec["lrs"], spec["eval_tokens"]) == ([3e11], [3e-3], 16000)
    r = _select(tmp_path, 'budget_tokens: "2K"')
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["recipe"]["budget_tokens"] == 2000


@pytest.mark.parametrize(
    ("command", "line", "key"),
    [
        (_select, "n_select: three", "n_select"),
        (_select, "n_select: 3\nn_workers: many", "n_workers"),
        (_select, "n_select: 3\nfilters: {min_chars: lots}", "min_chars"),
        (_sweep, "n_sizes: three", "n_sizes"),
        (_sweep, "seeds: [zero]", "seeds"),
        (_sweep, "dropout: none", "dropout"),
    ],
)
def test_text_that_spells_no_number_is_one_line_naming_the_key(tmp_path, command, line, key):
    r = command(tmp_path, line)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    (error,) = r.stderr.strip().splitlines()
    value = line.rsplit(": ", 1)[1].strip("[]}")
    assert f"{key}='{value}' is not a number; write it in digits (like 3, 0.25 or 1e3)." in error


@pytest.mark.parametrize(
    ("command", "line", "message"),
    [
        (_select, 'n_select: "2.5"', "n_select=2.5 must be a whole number"),
        (_sweep, 'n_sizes: "2.5"', "n_sizes=2.5 must be a whole number"),
        (_sweep, 'seeds: "0,-1"', "seeds=-1 must be >= 0"),
    ],
)
def test_a_count_written_as_text_must_still_be_whole(tmp_path, command, line, message):
    r = command(tmp_path, line)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
