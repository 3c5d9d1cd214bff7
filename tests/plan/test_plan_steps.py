"""The named steps of plan(), each alone (tokenplan.plan.steps, .batch, .advice)."""

from __future__ import annotations

import math

import pytest

from tokenplan import InvalidInputError, get_law
from tokenplan.plan import steps
from tokenplan.plan.advice import assess_repetition, extrapolation, extrapolation_warning
from tokenplan.plan.batch import deepseek_batch_tokens, deepseek_learning_rate


def _opts(**over):
    kw = {k: None for k in ("flops", "gpu_hours", "n_params", "n_tokens", "target_loss")}
    kw.update(
        law="epoch2024",
        gpu=None,
        peak_flops=None,
        mfu=0.4,
        gpus=None,
        unique_tokens=None,
        inference_tokens=None,
        seq_len=2048,
        price_per_gpu_hour=None,
        vocab_size=32_000,
        batch_rule="deepseek",
    )
    kw.update(over)
    return steps.validate(**kw)


def test_budget_mode_names_the_conflicting_arguments():
    with pytest.raises(InvalidInputError, match="give a budget") as e:
        steps.budget_mode({})
    assert e.value.param == "flops"
    with pytest.raises(InvalidInputError, match="`flops` and `n_params`") as e:
        steps.budget_mode({"flops": 1e21, "n_params": 7e9})
    assert e.value.param == "n_params"


def test_allocate_gpu_hours_is_flops_at_the_mfu():
    """FLOPs = GPU-hours x 3600 x peak x MFU (H100: 989 TFLOP/s dense bf16)."""
    opts = _opts(gpu_hours=1000.0, gpu="H100")
    alloc = steps.allocate(opts)
    assert float(alloc.flops) == pytest.approx(1000 * 3600 * 989e12 * 0.4)


def test_size_hardware_fewest_gpus_that_hold_16_bytes_per_param():
    """Mixed-precision Adam: 16 bytes per parameter (ZeRO sec. 3.1); 80 GB H100s."""
    hw, mem = steps.size_hardware(_opts(flops=1e21), flops=1e21, n_params_total=20e9)
    assert mem.total_bytes == 16 * 20e9 and hw.gpus == math.ceil(16 * 20e9 / 80e9)
    assert hw.gpus_assumed and hw.gpus_in_90_days == math.ceil(hw.gpu_hours / 2160)


def test_choose_batch_rules():
    ds = steps.choose_batch(_opts(flops=1e21), n_params_non_embedding=1e9, n_tokens=2e10, loss=2.5)
    assert ds.target_tokens == pytest.approx(deepseek_batch_tokens(6 * 1e9 * 2e10))
    assert ds.learning_rate == pytest.approx(deepseek_learning_rate(6 * 1e9 * 2e10))
    kap = steps.choose_batch(
        _opts(flops=1e21, batch_rule="kaplan"), n_params_non_embedding=1e9, n_tokens=2e10, loss=2.5
    )
    assert kap.target_tokens == pytest.approx(2e8 / 2.5 ** (1 / 0.21))
    assert kap.learning_rate is None
    with pytest.raises(InvalidInputError, match="batch rule") as e:
        _opts(flops=1e21, batch_rule="huge")
    assert e.value.param == "batch_rule"


def test_assess_repetition_by_hand():
    """D' = U + U R_D* (1 - exp(-(epochs - 1) / R_D*)) (Muennighoff eq. 5) at 4 epochs: 0.931 D."""
    muen = steps.muennighoff()
    rep = assess_repetition(get_law("epoch2024"), muen, 1e9, 4e10, 1e10)
    r = 15.387756
    assert rep.effective_tokens == pytest.approx(1e10 * (1 + r * (1 - math.exp(-3 / r))))
    assert rep.effective_fraction == pytest.approx(0.931, abs=5e-4)
    assert rep.relative_penalty == pytest.approx(rep.loss_change / rep.loss_fresh)


def test_extrapolation_names_each_axis_with_its_factor():
    law = get_law("muennighoff2023")
    assert extrapolation(law, [(1e9, 2e10)]) == {}
    out = extrapolation(law, [(7.1e5, 1e7)])
    assert out["n_params"]["factor"] == pytest.approx(7.098752e6 / 7.1e5)
    assert "710K parameters is 10.0x below the smallest (7.1M)" in extrapolation_warning(law, out)
    # within 10% of an edge is not an extrapolation
    assert "n_params" not in extrapolation(law, [(7.098752e6 / 1.05, 1e9)])


def test_saturated_data_constrained_optimum_is_flagged():
    """1e24 FLOPs on 1B unique tokens: Muennighoff's optimum (309B params on 540B tokens) sits on the loss
    floor 2.7614 that ~5.6e20 FLOPs already reach within 0.1%; the plan says so instead of presenting the
    arbitrary size on the plateau as the answer. Muennighoff et al.'s own Fig. 1 budget is not flagged."""
    from tokenplan import plan

    p = plan(flops=1e24, unique_tokens=1e9, law="muennighoff2023")
    (w,) = [w for w in p.warnings if "cap the loss" in w]
    assert "2.7614" in w and "5.6e+20 FLOPs" in w and "Get more unique data" in w
    assert any(
        "cap the loss of law 'muennighoff2023'" in w
        for w in plan(flops=1e24, unique_tokens=1e9).warnings
    )
    for budget in (9.3e21, 1e23):
        assert not [
            w for w in plan(flops=budget, unique_tokens=25e9).warnings if "cap the loss" in w
        ]


def test_a_data_constrained_law_of_ones_own_prices_repetition_throughout():
    """With a data-constrained law other than Muennighoff's C4 fit (one fitted by `tokenplan fit --law
    data-constrained`; here R_D* = 5 and another B), D', the data-constrained optimum, the all-unique
    optimum and their sources are that law's: they were Muennighoff's (D' at R_D* = 15.39, the all-unique
    optimum of the C4 fit) beside a loss from the user's law, and the console labelled them muennighoff2023."""
    import dataclasses

    from tokenplan import plan

    mine = dataclasses.replace(get_law("muennighoff2023"), name="mine", R_D_star=5.0, B=3000.0)
    for p in (
        plan(flops=1e21, unique_tokens=5e9, law=mine),
        plan(n_params=1e9, unique_tokens=5e9, law=mine),
    ):
        assert p.repetition.effective_tokens == pytest.approx(
            float(mine.effective_tokens(p.n_tokens, 5e9))
        )
        assert p.data_constrained.law == "mine" and p.fresh_optimum.law == "mine"
        assert p.fresh_optimum.n_params == pytest.approx(float(mine.optimal(p.flops).n_params))
        assert "R_D* = 5)" in p.sources["effective_tokens"]
    # the preset keeps its sources
    p = plan(flops=9.3e21, unique_tokens=25e9, law="muennighoff2023")
    assert p.sources["effective_tokens"].endswith("eq. 5 (R_D* = 15.39)")
    assert p.data_constrained.law == p.fresh_optimum.law == "muennighoff2023"
