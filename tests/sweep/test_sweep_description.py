"""A sweep's description describes the grid that runs: a preset's own text is replaced once keys or flags
change its grid (`--preset micro --budgets 3e9,1e10,3e10 --sizes auto --n-sizes 3` is 3 x 3, and its
report said '2 budgets x 2 sizes of tiny models')."""

from __future__ import annotations

import html
import json

import pytest

from helpers import run_cli

MICRO = "2 budgets x 2 sizes of tiny models"


def _dry_spec(*args: str) -> dict:
    r = run_cli("sweep", *args, "--dry-run", "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["spec"]


def test_flags_that_change_a_presets_grid_replace_its_description():
    spec = _dry_spec("--preset", "micro", "--budgets", "3e9,1e10,3e10", "--sizes", "auto")
    assert spec["description"].startswith(
        "3 budgets (3e9..3e10 FLOPs) x 5 model sizes per budget (auto, around 1x chinchilla-a1's "
        "optimum) = 15 runs"
    )
    assert spec["description"].endswith("(preset micro, with budgets and sizes changed).")
    spec = _dry_spec(
        "--preset", "micro", "--budgets", "3e9,1e10,3e10", "--sizes", "auto", "--n-sizes", "3"
    )
    assert (
        "3 budgets" in spec["description"] and "x 3 model sizes per budget" in spec["description"]
    )
    assert "= 9 runs" in spec["description"] and MICRO not in spec["description"]
    assert "x 2 LRs" in _dry_spec("--preset", "micro", "--lrs", "1e-3,3e-3")["description"]


@pytest.mark.parametrize(
    "keys",
    [{}, {"n_sizes": 3, "sizes": "auto"}, {"n_sizes": 40, "sizes": "auto"}, {"lrs": [1e-3, 3e-3]},
     {"seeds": [0, 1, 2]}, {"sizes": ["L1-d16-h1"]}],
)  # fmt: skip
@pytest.mark.parametrize("preset", ["micro", "cpu-demo", "repeat-demo", "gpu-small"])
def test_the_description_counts_the_runs_the_grid_expands_to(preset, keys):
    from tokenplan.sweep.grid import expand
    from tokenplan.sweep.spec import describe, spec_from_dict

    if "repeat" in preset:
        keys = {k: v for k, v in keys.items() if k in ("lrs", "seeds")}
    spec = spec_from_dict({"preset": preset, **keys})
    assert describe(spec).endswith(
        f"= {len(expand(spec))} run{'s' if len(expand(spec)) > 1 else ''}"
    )


def test_a_preset_whose_grid_is_unchanged_keeps_its_description():
    assert _dry_spec("--preset", "micro")["description"].startswith(MICRO)
    # settings that do not change which runs the grid holds
    assert _dry_spec("--preset", "micro", "--seq-len", "16")["description"].startswith(MICRO)
    assert _dry_spec("--preset", "micro", "--sizes", "L1-d16-h1,L1-d32-h2")[
        "description"
    ].startswith(MICRO)


def test_yaml_keys_beside_a_preset_and_flags_over_a_file(tmp_path):
    from tokenplan.sweep import spec_from_dict

    changed = spec_from_dict({"preset": "repeat-demo", "epochs": [1, 2]}).description
    assert changed == (
        "one model (L2-d64-h2) on 4M tokens, 2 epoch counts (1..2) x 3 dropout schedules "
        "(none, constant, late) = 6 runs (preset repeat-demo, with epochs changed)."
    )
    own = spec_from_dict({"preset": "micro", "budgets": [1e10], "description": "mine"})
    assert own.description == "mine"  # written for this grid
    path = tmp_path / "mine.yaml"
    path.write_text("preset: micro\ndescription: two budgets\n")
    spec = _dry_spec(str(path), "--budgets", "1e10")
    assert spec["description"] == (
        "1 budget (1e10 FLOPs) x 2 model sizes per budget (L1-d16-h1..L1-d32-h2) = 2 runs "
        "(mine.yaml, with budgets changed)."
    )


def test_the_report_and_sweep_yaml_describe_the_grid_that_ran(tmp_path):
    pytest.importorskip("altair")
    pytest.importorskip("vl_convert")
    out, page = tmp_path / "one", tmp_path / "one.html"
    r = run_cli(
        "sweep", "--preset", "micro", "--budgets", "3e9", "--sizes", "L1-d16-h1",
        "--out", str(out), "--report", str(page), "--quiet", "--executor", "serial",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    text = html.unescape(page.read_text())
    want = "1 budget (3e9 FLOPs) x 1 model size per budget (L1-d16-h1) = 1 run"
    assert want in text and MICRO not in text
    assert (
        want in (out / "sweep.yaml").read_text() and MICRO not in (out / "sweep.yaml").read_text()
    )
