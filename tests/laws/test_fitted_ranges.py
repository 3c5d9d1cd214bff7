"""Each preset's fitted range comes from its own fitted data (the numbers in laws/presets.py are recomputed
here from the reference tables shipped in tokenplan.datasets) and plans outside it say so."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from tokenplan import datasets
from tokenplan.laws import FittedRange, get_law
from tokenplan.laws.presets import CHINCHILLA_RANGE, EPOCH_RANGE, KAPLAN_RANGE, MUENNIGHOFF_RANGE


def _same(computed: FittedRange, shipped: FittedRange) -> None:
    for axis in ("flops", "n_params", "n_tokens", "tokens_per_param"):
        assert getattr(shipped, axis) == pytest.approx(getattr(computed, axis), rel=1e-6), axis


def _fig4():
    rows = list(csv.DictReader(datasets.path("chinchilla_fig4").open()))
    n = np.array([float(r["Model Size"]) for r in rows])
    c = np.array([float(r["Training FLOP"]) for r in rows])
    loss = np.array([float(r["loss"]) for r in rows])
    return n, c / (6 * n), loss


def test_chinchilla_range_is_the_fig4_runs():
    n, d, _ = _fig4()
    assert len(n) == 245
    _same(FittedRange.of_runs(n, d), CHINCHILLA_RANGE)


def test_epoch_range_drops_the_five_highest_losses():
    """Besiroglu et al. 2024 drop the 5 highest-loss points; 240 remain."""
    n, d, loss = _fig4()
    keep = np.argsort(loss)[:-5]
    _same(FittedRange.of_runs(n[keep], d[keep]), EPOCH_RANGE)


def test_muennighoff_range_is_the_182_c4_runs():
    rows = list(csv.DictReader(datasets.path("datablations_c4").open()))
    assert len(rows) == 182
    n = [float(r["params_N"]) for r in rows]
    d = [float(r["tokens_D"]) for r in rows]
    _same(FittedRange.of_runs(n, d), MUENNIGHOFF_RANGE)


def test_kaplan_range_is_the_stated_one():
    """Kaplan et al. 2020 sec. 3: 768 to 1.5e9 non-embedding parameters, 22M to 23B tokens."""
    assert KAPLAN_RANGE.n_params == (768.0, 1.5e9)
    assert KAPLAN_RANGE.n_tokens == (22e6, 23e9)
    assert KAPLAN_RANGE.flops[1] == pytest.approx(6 * 1.5e9 * 23e9)


def test_chinchilla_70b_validated_the_law_but_is_outside_the_fit():
    """Chinchilla 70B on 1.4T tokens (5.76e23 FLOPs) is 44x beyond the largest fitted run (1.3e22)."""
    rng = get_law("chinchilla").fitted_range
    assert rng.flops[1] == pytest.approx(1.3e22, rel=0.01)
    assert 1.4e18 == pytest.approx(rng.flops[0], rel=0.01)
    assert rng.extrapolation(70e9, 1.4e12)["flops"] == pytest.approx(5.88e23 / 1.2956e22, rel=0.01)
    assert "validated" in rng.source


@pytest.mark.parametrize(
    "name",
    ["chinchilla", "chinchilla-unrounded", "epoch2024", "chinchilla-a1", "chinchilla-a2", "kaplan"],
)
def test_every_preset_has_a_range(name):
    rng = get_law(name).fitted_range
    assert rng is not None and rng.source
    for axis in ("flops", "n_params", "n_tokens", "tokens_per_param"):
        lo, hi = getattr(rng, axis)
        assert 0 < lo < hi


def test_how_far_out_is_one_format_in_every_command():
    """The Gopher-budget extrapolation printed '44x' in plan's warning, '44.5x out' in table and '44.4x out'
    in predict (a fitted law's plan: '3.33e+04x' in a note, '33,333x' in the warning). One formatter now
    gives every such factor in 3 significant figures, so one point prints one factor in every command. (The
    audit's 44.4 and 44.5 are the same quantity, the FLOPs factor, at two points: predict was given the
    rounded 2.98T, 6ND = 5.757e23, 44.44x; table's row is D_opt(32.2B) = 2.983T, 5.764e23, 44.49x.)"""
    import math

    from helpers import run_cli
    from tokenplan.plan import plan
    from tokenplan.units import format_factor

    shown = [
        format_factor(f) for f in (1.994, 9.385, 44.458, 99.97, 756.2, 33333.3, 7.8e17, math.inf)
    ]
    assert shown == [
        "1.99x", "9.38x", "44.5x", "100x", "756x", "33,300x", "7.8e+17x", "more than 1e308x"
    ]  # fmt: skip
    p = plan(n_params=32.2e9, law="chinchilla")  # the table row's point: D_opt(32.2B)
    factor = format_factor(p.extrapolation["flops"]["factor"])
    assert factor == "44.5x"
    assert any(f"FLOPs is {factor} above the largest" in w for w in p.warnings)
    r = run_cli("table", "--params", "32.2B", "--law", "chinchilla", env={"COLUMNS": "200"})
    assert f"{factor} out │" in r.stdout and f"FLOPs is {factor} above" in r.stdout
    r = run_cli(
        "predict", "--law", "chinchilla", "--params", "32.2B", "--tokens", repr(p.n_tokens),
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert f"{factor} out │" in r.stdout and f"flops {factor}, n_params 1.99x" in r.stdout
