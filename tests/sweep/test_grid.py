"""Grid specs: validation, auto sizes around the optimum, the repetition grid's unique-token subsets, the
results files (rebuild from result.json, torn temp files), and every shipped YAML spec."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from tokenplan.errors import InvalidInputError, UnknownNameError
from tokenplan.laws import get_law
from tokenplan.sweep.config import parse_size
from tokenplan.sweep.grid import _total_params, auto_sizes, expand
from tokenplan.sweep.presets import PRESETS, SIZE_LADDER
from tokenplan.sweep.results import RESULT_COLUMNS, read_results, rebuild_results
from tokenplan.sweep.spec import SweepSpec, load_spec, preset_dict, spec_digest, spec_from_dict

EXAMPLES = Path(__import__("tokenplan.sweep", fromlist=["x"]).__file__).parent / "examples"
CONTRACT = (
    "run_id,status,n_params,n_params_non_embedding,n_params_embedding,n_params_lm_head,n_tokens,flops,"
    "flops_budget,loss,unique_tokens,epochs,dropout,dropout_start,lr,batch_tokens,steps,seed,kind,"
    "wall_seconds"
).split(",")


def test_result_columns_start_with_the_fit_contract():
    assert list(RESULT_COLUMNS[: len(CONTRACT)]) == CONTRACT


def _expected_runs(spec) -> int:
    """The grid's size by hand: isoflop = budgets x sizes x LRs x seeds; repeat = epochs x dropout
    schedules x LRs x seeds."""
    per = len(spec.lrs) * len(spec.seeds)
    if spec.kind == "isoflop":
        n_sizes = spec.n_sizes if spec.sizes == "auto" else len(spec.sizes)
        return len(spec.budgets) * n_sizes * per
    return len(spec.epochs) * len(spec.dropout_schedules) * per


def _check_grid(spec, runs) -> None:
    assert len(runs) == _expected_runs(spec)
    assert len({r.run_id for r in runs}) == len(runs)
    for r in runs:
        assert r.config.steps >= 1 and r.config.seq_len == spec.seq_len
        assert r.config.lr in spec.lrs and r.config.seed in spec.seeds
        if spec.kind == "isoflop":
            assert r.flops_budget in spec.budgets and r.config.flops_budget == r.flops_budget
            # the run spends its budget to within half an optimizer step
            step_flops = r.config.batch_tokens * r.config.flops_per_token
            assert abs(r.cost - r.flops_budget) <= step_flops / 2
        else:
            assert r.config.n_tokens == spec.n_tokens and r.epochs_target in spec.epochs
            assert r.config.unique_tokens == round(spec.n_tokens / r.epochs_target)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_yaml_loads_and_expands(path):
    spec = load_spec(path)
    _check_grid(spec, expand(spec))


def test_examples_exist():
    names = {p.name for p in EXAMPLES.glob("*.yaml")}
    assert {
        "isoflop_cpu.yaml",
        "repeat_dropout.yaml",
        "lr_minisweep.yaml",
        "gpu_small.yaml",
    } <= names


@pytest.mark.parametrize(
    ("name", "n_runs"), [("micro", 4), ("cpu-demo", 15), ("repeat-demo", 12), ("gpu-small", 35)]
)
def test_every_preset_expands_to_its_grid(name, n_runs):
    assert set(PRESETS) == {"micro", "cpu-demo", "repeat-demo", "gpu-small"}
    spec = spec_from_dict({"preset": name})
    runs = expand(spec)
    assert len(runs) == n_runs
    _check_grid(spec, runs)


def test_cpu_demo_budgets_and_size():
    spec = spec_from_dict({"preset": "cpu-demo"})
    runs = expand(spec)
    assert min(spec.budgets) == 3e11 and max(spec.budgets) == 3e12
    assert len(runs) == 15
    assert sum(r.cost for r in runs) < 3e13  # ~10 min at ~30 GFLOP/s per core on 2 cores


def test_auto_sizes_bracket_the_optimum():
    for flops in (3e11, 1e12, 3e12, 1e16):
        sizes = auto_sizes(flops, n_sizes=5, spread=4.0)
        assert len(sizes) == 5 == len(set(sizes))
        n = [_total_params(*parse_size(s), vocab_size=256, seq_len=128, tied=True) for s in sizes]
        assert n == sorted(n)
        n_opt = get_law("chinchilla-a1").optimal(flops).n_params
        assert n[0] < n_opt < n[-1]  # the predicted optimum is inside the grid
        assert n[-1] / n[0] > 4.0


def test_auto_sizes_at_the_ladder_edge_still_give_n_distinct():
    sizes = auto_sizes(1e6, n_sizes=4)  # far below the smallest shape
    assert len(set(sizes)) == 4
    assert sizes[0] == "L{}-d{}-h{}".format(*SIZE_LADDER[0])


def test_repeat_grid_unique_token_subsets():
    """U = n_tokens / epochs; every run has the same model, tokens and budget; schedules cross epochs."""
    spec = spec_from_dict(
        {
            "kind": "repeat",
            "model": "L2-d64-h2",
            "n_tokens": "4M",
            "epochs": [1, 4, 16, 64],
            "dropout_schedules": ["none", "constant", "late"],
            "dropout": 0.1,
            "late_start": 0.5,
        }
    )
    runs = expand(spec)
    assert len(runs) == 12
    by = {(r.epochs_target, r.dropout_schedule): r.config for r in runs}
    for epochs in (1, 4, 16, 64):
        assert by[(epochs, "none")].unique_tokens == round(4e6 / epochs)
        assert by[(epochs, "none")].dropout == 0.0
        assert (
            by[(epochs, "constant")].dropout == 0.1 and by[(epochs, "constant")].dropout_start == 0
        )
        assert by[(epochs, "late")].dropout == 0.1 and by[(epochs, "late")].dropout_start == 0.5
    assert len({r.flops_budget for r in runs}) == 1
    assert len({(c.n_layers, c.d_model, c.n_tokens) for c in by.values()}) == 1


def test_run_ids_are_stable_and_change_with_the_config():
    a = expand(spec_from_dict({"preset": "micro"}))
    b = expand(spec_from_dict({"preset": "micro"}))
    assert [r.run_id for r in a] == [r.run_id for r in b]
    c = expand(spec_from_dict({"preset": "micro", "batch_size": 4}))
    assert not {r.run_id for r in a} & {r.run_id for r in c}


def test_spec_validation_reports_every_problem_and_unknown_keys():
    with pytest.raises(InvalidInputError) as info:
        spec_from_dict({"kind": "repeat", "epochs": [0.5], "dropout_schedules": ["sometimes"]})
    msg = str(info.value)
    assert "needs model" in msg and "needs n_tokens" in msg
    assert "epochs=0.5 must be >= 1" in msg and "'sometimes'" in msg
    with pytest.raises(InvalidInputError, match=r"unknown key.*budget.*valid keys"):
        spec_from_dict({"budget": [1e12]})
    with pytest.raises(InvalidInputError, match="L<layers>-d<d_model>-h<heads>"):
        spec_from_dict({"budgets": [1e12], "sizes": ["big"]})
    with pytest.raises(InvalidInputError, match="budgets is empty"):
        SweepSpec(kind="isoflop")
    with pytest.raises(UnknownNameError, match="cpu-demo"):
        preset_dict("cpu-dmeo")


@pytest.mark.parametrize(
    ("kw", "key"),
    [
        ({"budgets": 3e9}, "budgets"),
        ({"budgets": (1e12,), "seeds": 0}, "seeds"),
        ({"budgets": (1e12,), "lrs": 3e-3}, "lrs"),
        ({"kind": "repeat", "model": "L2-d64-h2", "n_tokens": 1e6, "epochs": 4}, "epochs"),
    ],
)
def test_a_spec_built_in_python_names_a_lone_value_where_a_list_is_wanted(kw, key):
    """SweepSpec(budgets=3e9) raised TypeError: 'float' object is not iterable; lists are taken as tuples."""
    with pytest.raises(InvalidInputError, match=rf"^{key}=.* must be a tuple or list") as err:
        SweepSpec(**kw)
    assert err.value.param == key
    spec = SweepSpec(budgets=[1e12, 3e12], lrs=[3e-3])
    assert spec.budgets == (1e12, 3e12) and spec.lrs == (3e-3,)


def test_a_value_listed_twice_names_its_key():
    """Epochs 1,1 (or budgets, schedules listed twice) said only 'the spec lists the same run twice
    (duplicate sizes, LRs or seeds)', naming no key; now the key and the value, with param set."""
    repeat = {"kind": "repeat", "model": "L2-d64-h2", "n_tokens": 1e6}
    for kw, key in (
        ({**repeat, "epochs": (1, 4, 1.0)}, "epochs"),
        ({**repeat, "epochs": (1,), "dropout_schedules": ("none", "none")}, "dropout_schedules"),
        ({"budgets": (1e12, 1e12)}, "budgets"),
        ({"budgets": (1e12,), "sizes": ("L2-d64-h2", "L2-d64-h2")}, "sizes"),
        ({"budgets": (1e12,), "seeds": (0, 0)}, "seeds"),
    ):
        with pytest.raises(InvalidInputError, match=rf"^{key} lists \S+ twice") as err:
            SweepSpec(**kw)
        assert err.value.param == key
    # distinct epoch counts whose n_tokens / epochs round to one count: still one run, named by epochs
    with pytest.raises(InvalidInputError, match="same unique tokens") as err:
        expand(SweepSpec(**repeat, epochs=(1, 1 + 1e-9)))
    assert err.value.param == "epochs"


def test_spec_file_errors_name_the_file_and_the_law_is_checked(tmp_path):
    """A value out of range in a spec file said 'warmup_fraction=2 must lie in [0, 1].' without the file
    (type errors named it); and `law: foo` was accepted and kept in sweep.yaml whenever the sizes were
    explicit (only --sizes auto looked the law up)."""
    base = "kind: isoflop\nbudgets: [3e9]\nsizes: [L1-d16-h1]\n"
    for extra, needle in (
        ("warmup_fraction: 2\n", "s.yaml: warmup_fraction=2 must lie in [0, 1]"),
        ("law: foo\n", "s.yaml: unknown law 'foo'; valid names:"),
        ("law: 3\n", "s.yaml: law=3 must be a text"),
    ):
        path = tmp_path / "s.yaml"
        path.write_text(base + extra)
        with pytest.raises(InvalidInputError, match=re.escape(needle)):
            load_spec(path)
    assert load_spec(_write(tmp_path, base + "law: epoch2024\n")).law == "epoch2024"


def _write(tmp_path, text):
    path = tmp_path / "ok.yaml"
    path.write_text(text)
    return path


def test_yaml_numbers_without_dot_and_suffixes(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("kind: repeat\nmodel: L1-d16-h1\nn_tokens: 4M\nepochs: [1, 2]\nlrs: 3e-3\n")
    spec = load_spec(path)
    assert spec.n_tokens == 4e6 and spec.lrs == (3e-3,)
    assert spec_digest(spec) == spec_digest(load_spec(path))
    empty = tmp_path / "e.yaml"
    empty.write_text("")
    with pytest.raises(InvalidInputError, match="is empty"):
        load_spec(empty)
    bad = tmp_path / "b.yaml"
    bad.write_text("kind: [unclosed\n")
    with pytest.raises(InvalidInputError, match="not valid YAML"):
        load_spec(bad)


def _record(run_id, loss, *, status="ok", lr=3e-3, budget=1e12, model="L1-d16-h1"):
    return {
        "run_id": run_id,
        "kind": "isoflop",
        "flops_budget": budget,
        "model": model,
        "dropout_schedule": "none",
        "config": {
            "dropout": 0.0,
            "dropout_start": 0.0,
            "lr": lr,
            "batch_size": 4,
            "seq_len": 16,
            "seed": 0,
            "unique_tokens": None,
        },
        "result": {
            "status": status,
            "loss": loss,
            "steps": 10,
            "n_tokens": 640,
            "flops": 1e12,
            "unique_tokens": None,
            "epochs": 0.1,
            "wall_seconds": 1.0,
            "params": {"embedding": 10, "non_embedding": 20, "lm_head": 0, "total": 30},
            "curve": [
                {
                    "step": 10,
                    "n_tokens": 640,
                    "flops": 1e12,
                    "loss": loss or 0.0,
                    "train_loss": 1.0,
                    "lr": lr,
                }
            ],
            "error": "",
        },
    }


def test_rebuild_reads_only_whole_result_files(tmp_path):
    for rid, loss in (("a", 3.0), ("b", 2.5)):
        d = tmp_path / "runs" / rid
        d.mkdir(parents=True)
        (d / "result.json").write_text(json.dumps(_record(rid, loss)))
    torn = tmp_path / "runs" / "c"
    torn.mkdir()
    (torn / "result.json").write_text(
        '{"run_id": "c", "res'
    )  # cannot happen with os.replace; tolerated
    failed = tmp_path / "runs" / "d"
    failed.mkdir()
    (failed / "result.json").write_text(json.dumps(_record("d", None, status="failed")))
    counts = rebuild_results(tmp_path)
    assert counts == {"runs": 3, "ok": 2, "failed": 1, "too_few_steps": 0}
    rows = read_results(tmp_path / "results.csv")
    assert [r["run_id"] for r in rows] == ["a", "b", "d"]
    assert math.isnan(float(rows[2]["loss"])) and rows[2]["status"] == "failed"
    curves = (tmp_path / "curves.csv").read_text().splitlines()
    assert (
        curves[0] == "run_id,step,n_tokens,flops,loss,n_params,train_loss,lr" and len(curves) == 4
    )


def test_best_lr_file_keeps_the_lowest_loss_per_size(tmp_path):
    for rid, loss, lr in (("x1", 3.0, 1e-3), ("x2", 2.0, 3e-3), ("x3", 2.5, 1e-2)):
        d = tmp_path / "runs" / rid
        d.mkdir(parents=True)
        (d / "result.json").write_text(json.dumps(_record(rid, loss, lr=lr)))
    rebuild_results(tmp_path)
    best = read_results(tmp_path / "results_best_lr.csv")
    assert [r["run_id"] for r in best] == ["x2"]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("tied_embeddings", "false", "must be true or false"),
        ("tied_embeddings", 0, "must be true or false"),
        ("seq_len", "abc", "seq_len"),
        ("seq_len", 12.5, "whole number"),
        ("batch_size", True, "must be a number"),
        ("kind", 5, "kind=5 must be a text"),
        ("tokenizer", ["byte"], "tokenizer=.* must be a text"),
        ("budgets", {"a": 1}, "budgets"),
        ("budgets", [1e12, "lots"], "budgets"),
        ("sizes", [64], "L<layers>-d<d_model>-h<heads>|must be a text"),
        ("seeds", [0, -1], "seeds=-1 must be >= 0"),
        ("seeds", [0.5], "whole number"),
        ("lrs", ["nan"], "lrs"),
        ("dropout", "high", "dropout"),
        ("n_tokens", -4e6, "n_tokens"),
        ("data", 7, "data=7 must be a text"),
        ("preset", ["micro"], "preset"),
        ("num_cpus", 0, "num_cpus"),
    ],
)
def test_recipe_values_of_the_wrong_type_name_their_key(key, value, message):
    base = {"preset": "micro"} if key != "preset" else {}
    with pytest.raises(InvalidInputError, match=message) as info:
        spec_from_dict({**base, key: value}, source="recipe.yaml")
    assert key in str(info.value)


def test_quantities_written_as_text_are_numbers():
    spec = spec_from_dict({"preset": "micro", "eval_tokens": "2K", "budgets": "3e9,6e9"})
    assert spec.eval_tokens == 2000 and spec.budgets == (3e9, 6e9)
    assert spec_from_dict({"preset": "micro", "tied_embeddings": False}).tied_embeddings is False
