"""A `model` (or `Model`) column names the runs (they showed as 'row28'), without losing a row: a table with
one row per (model, token count) has several rows per model, which the curve rule (rows sharing a run id
are one training curve) would fold to one run each, 4 runs of 2 models read as 2. So a model name orders a
curve only with a step column; without one, every row is a run."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import run_cli
from tokenplan.runs import read_runs

PER_ROW = """model,params,tokens,loss
A,1e7,2e8,4.1
A,1e7,4e8,3.9
B,4e7,8e8,3.5
B,4e7,1.6e9,3.3
C,1.6e8,3.2e9,3.0
D,6.4e8,1.28e10,2.7
"""
CURVES = """Model,step,params,tokens,loss
A,1,1e7,1e8,4.5
A,2,1e7,2e8,4.1
B,1,4e7,4e8,3.8
B,2,4e7,8e8,3.5
"""


def test_one_row_per_model_and_token_count_keeps_every_row(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text(PER_ROW)
    runs = read_runs(path)
    assert len(runs) == 6 and runs.curves is None
    assert list(runs.run_id) == ["A #1", "A #2", "B #1", "B #2", "C", "D"]
    assert np.allclose(runs.n_tokens, [2e8, 4e8, 8e8, 1.6e9, 3.2e9, 1.28e10])
    assert any("rows sharing a model name (A, B) read as separate runs" in n for n in runs.notes)


def test_a_model_column_with_steps_is_one_curve_per_model(tmp_path):
    path = tmp_path / "curves.csv"
    path.write_text(CURVES)
    runs = read_runs(path)
    assert list(runs.run_id) == ["A", "B"] and runs.curves is not None
    assert np.allclose(runs.loss, [4.1, 3.5])  # each curve's last step
    assert runs.curves.n_runs == 2 and len(runs.curves.run_id) == 4


def test_run_id_wins_over_model(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("run_id,model,params,tokens,loss\nr1,A,1e7,2e8,4.1\nr2,A,1e7,4e8,3.9\n")
    assert list(read_runs(path).run_id) == ["r1", "r2"]


@pytest.mark.parametrize("column", ["model", "Model", "model_name"])
def test_the_model_column_is_read_under_its_usual_spellings(tmp_path, column):
    path = tmp_path / "runs.csv"
    path.write_text(PER_ROW.replace("model", column, 1))
    assert read_runs(path).run_id[-1] == "D"


def test_fit_names_held_out_runs_by_model(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text(PER_ROW)
    r = run_cli("fit", str(path), "--json", "--form", "shared-exponent", "--bootstrap", "0")
    assert r.returncode == 0, r.stderr
    assert [row["run_id"] for row in json.loads(r.stdout)["backtest"]["rows"]] == ["D"]
