"""The planner's library API (tokenplan.plan.plan / compare): golden numbers and hand-checked relations.

Sources: ../shared/REFERENCE.md sections 1 (Hoffmann et al. 2022), 2 (Besiroglu et al. 2024), 3 (Kaplan et
al. 2020) and 4 (Muennighoff et al. 2023).
"""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokenplan import InvalidInputError, UnknownNameError, convert_params, get_law
from tokenplan.hardware import ACCELERATORS
from tokenplan.plan import GOPHER_FLOPS, Plan, compare, plan, repeat

PRESETS = [law.name for law in __import__("tokenplan").list_laws()]


# --- section 1 and 2: the Gopher budget -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("law", "n_params", "n_tokens"),
    [
        ("chinchilla", 32.2e9, 2.98e12),
        ("chinchilla-unrounded", 40.4e9, 2.38e12),
        ("epoch2024", 72.2e9, 1.33e12),
    ],
)
def test_gopher_budget(law, n_params, n_tokens):
    """Hoffmann et al. 2022 eq. 4 at C = 5.76e23: rounded constants (App. D.2) -> 32.2B params, 2.98T tokens;
    unrounded -> 40.4B, 2.38T. Besiroglu et al. 2024 (Epoch) refit -> 72.2B, 1.33T."""
    p = plan(flops=GOPHER_FLOPS, law=law)
    assert p.n_params == pytest.approx(n_params, rel=0.005)
    assert p.n_tokens == pytest.approx(n_tokens, rel=0.005)
    assert p.flops == pytest.approx(GOPHER_FLOPS)
    assert p.tokens_per_param == pytest.approx(n_tokens / n_params, rel=0.01)
    assert p.param_convention == "total" and p.n_params_total == p.n_params
    # Hoffmann et al. 2022 Fig. 4: the fitted runs reach 1.3e22 FLOPs; Chinchilla 70B at 5.76e23 validated the
    # law but was not fitted on, so the Gopher budget is an extrapolation, 44.5x above the largest fitted run.
    (warning,) = p.warnings
    assert (
        "extrapolation" in warning
        and "5.76e+23 FLOPs is 44.5x above the largest (1.3e+22)" in warning
    )


def test_default_law_is_epoch2024_and_predicts_loss():
    p = plan(flops=GOPHER_FLOPS)
    assert p.law == "epoch2024"
    law = get_law("epoch2024")
    assert p.loss == pytest.approx(
        law.E + law.A / p.n_params**law.alpha + law.B / p.n_tokens**law.beta
    )
    assert p.epochs is None and p.effective_tokens is None and p.data_constrained is None


def test_compare_has_every_preset_and_spends_the_same_budget():
    comp = compare(flops=GOPHER_FLOPS)
    assert [p.law for p in comp.plans] == PRESETS
    assert comp.skipped == ()
    for p in comp.plans:
        assert 6 * p.n_params * p.n_tokens == pytest.approx(GOPHER_FLOPS, rel=1e-9)
    # The literature's disagreement in one line: Kaplan puts far more into parameters than Chinchilla.
    assert comp["kaplan"].n_params > 5 * comp["epoch2024"].n_params
    assert comp["chinchilla-a1"].tokens_per_param == pytest.approx(20, rel=0.1)


def test_compare_skips_laws_that_cannot_answer():
    """Allocation-only laws (Approaches 1 and 2) predict no loss, so a target loss skips them."""
    comp = compare(target_loss=2.1)
    skipped = dict(comp.skipped)
    assert set(skipped) == {"chinchilla-a1", "chinchilla-a2"}
    assert "loss" in skipped["chinchilla-a1"]
    assert comp["epoch2024"].loss == pytest.approx(2.1, abs=1e-6)


# --- section 3: Kaplan ------------------------------------------------------------------------------------
def test_kaplan_plan_at_1e21_is_4_68b_non_embedding():
    """Hoffmann et al. 2022 App. D.4: Kaplan's optimal model for 1e21 FLOPs has 4.68B parameters (Kaplan's
    non-embedding convention); the plan also reports the converted total (Pearce & Song 2024)."""
    p = plan(flops=1e21, law="kaplan")
    assert p.param_convention == "non-embedding"
    assert p.n_params == pytest.approx(4.68e9, rel=0.005)
    assert p.n_params_non_embedding == p.n_params
    assert p.n_params_total == pytest.approx(convert_params(p.n_params, to="total"))
    assert p.n_params_total > p.n_params


def test_kaplan_plan_loss_is_eq_1_5_and_exponents_are_table_6():
    """Kaplan 2020 eq. 1.5: L(N, D) = [(6.4e13/N)^(0.076/0.103) + 1.8e13/D]^0.103 (N non-embedding);
    Table 6: N ∝ C^0.73. Hoffmann et al. 2022 Table 2: a = 0.46 for Approach 3 (unrounded), 0.49 for
    Approach 2, 0.50 (0.488, 0.502) for Approach 1; Besiroglu et al. 2024: a = 0.513."""
    p = plan(flops=1e21, law="kaplan")
    by_hand = ((6.4e13 / p.n_params) ** (0.076 / 0.103) + 1.8e13 / p.n_tokens) ** 0.103
    assert p.loss == pytest.approx(by_hand)
    assert p.exponents == pytest.approx((0.73, 0.27))
    assert plan(flops=1e21, law="chinchilla-unrounded").exponents[0] == pytest.approx(
        0.46, abs=0.005
    )
    assert plan(flops=1e21, law="chinchilla-a2").exponents[0] == pytest.approx(0.49)
    assert 0.488 <= plan(flops=1e21, law="chinchilla-a1").exponents[0] <= 0.502
    assert plan(flops=1e21).exponents[0] == pytest.approx(0.513, abs=0.001)


def test_kaplan_ten_x_compute():
    """Kaplan 2020 Table 6: 10x compute -> ~5.4x params and ~1.9x tokens (the seed says 5.5x / 1.8x)."""
    lo, hi = plan(flops=1e20, law="kaplan"), plan(flops=1e21, law="kaplan")
    assert hi.n_params / lo.n_params == pytest.approx(10**0.73, rel=1e-6)  # 5.37
    assert hi.n_tokens / lo.n_tokens == pytest.approx(10**0.27, rel=1e-6)  # 1.86


def test_kaplan_params_budget_is_read_as_total_and_converted():
    p = plan(n_params=7e9, law="kaplan")
    assert p.n_params_total == pytest.approx(7e9, rel=1e-6)
    assert p.n_params == pytest.approx(convert_params(7e9, to="non-embedding"), rel=1e-9)


def test_batch_is_deepseek_optimum_by_default():
    """DeepSeek LLM sec. 3.1 (REFERENCE.md sec. 9): B_opt = 0.2920 C^0.3271 tokens, eta_opt = 0.3118 C^-0.1250,
    with C = 6 N_nonemb D (their C counts non-embedding FLOPs); rounded to whole sequences."""
    p = plan(flops=1e22, seq_len=2048)
    c = 6 * p.n_params_non_embedding * p.n_tokens
    assert p.batch.rule == "deepseek"
    assert p.batch.target_tokens == pytest.approx(0.2920 * c**0.3271, rel=1e-12)
    assert p.learning_rate == pytest.approx(0.3118 * c**-0.1250, rel=1e-12)
    assert p.batch_sequences == round(0.2920 * c**0.3271 / 2048)
    assert p.steps == math.ceil(p.n_tokens / (p.batch_sequences * 2048))
    # by hand at C = 1e21: 0.2920 * 1e21^0.3271 = 2.08M tokens, 0.3118 * 1e21^-0.125 = 7.0e-4
    # by hand at C = 1e21: 1e21^0.3271 = exp(0.3271 x 48.354) = 7.398e6; 1e21^-0.125 = exp(-6.044) = 2.371e-3
    assert 0.2920 * 1e21**0.3271 == pytest.approx(0.2920 * 7.398e6, rel=1e-3)
    assert 0.3118 * 1e21**-0.125 == pytest.approx(0.3118 * 2.371e-3, rel=1e-3)
    assert "DeepSeek" in p.sources["batch"] and "one training setup" in p.sources["batch"]


def test_batch_rule_kaplan_is_the_critical_batch_at_the_predicted_loss():
    """Kaplan 2020 eq. 1.4: B_crit(L) = 2e8 / L^(1/0.21) tokens; rounded to whole sequences."""
    p = plan(flops=1e22, seq_len=2048, batch_rule="kaplan")
    assert p.learning_rate is None
    b = 2e8 / p.loss ** (1 / 0.21)
    assert p.batch_loss == p.loss
    assert p.critical_batch_tokens == pytest.approx(b)
    assert p.batch_sequences == round(b / 2048)
    assert p.steps == math.ceil(p.n_tokens / (p.batch_sequences * 2048))


def test_batch_for_allocation_only_law_uses_kaplan_loss():
    p = plan(flops=1e22, law="chinchilla-a1")
    assert p.loss is None
    assert p.batch_loss == pytest.approx(
        float(get_law("kaplan").loss(p.n_params_non_embedding, p.n_tokens))
    )


def test_kaplan_overfitting_warning():
    """Kaplan 2020 eq. 4.4: D ≳ 5e3 N^0.74 (N non-embedding). 25B unique tokens repeated for a ~7B model
    violate it (bound ≈ 96B). It is a bound on the repeated dataset: one pass over fresh data (no
    --unique-tokens, or more unique tokens than training tokens) cannot overfit, so no warning then."""
    bad = plan(flops=1e22, unique_tokens=25e9, law="muennighoff2023")
    assert any("overfitting bound" in w for w in bad.warnings)
    bound = 5e3 * bad.n_params_non_embedding**0.74
    assert bound == pytest.approx(95.6e9, rel=0.01)
    assert f"{bound / 1e9:.3g}B" in " ".join(bad.warnings)
    for ok in (
        plan(n_tokens=25e9),
        plan(flops=GOPHER_FLOPS, law="kaplan"),
        plan(flops=1e22, unique_tokens=1e12),
    ):
        assert not any("overfitting" in w for w in ok.warnings)


def test_extrapolation_warning():
    """Kaplan et al. 2020 sec. 3: 768 to 1.5e9 non-embedding params on 22M to 23B tokens, so at most
    6 x 1.5e9 x 23e9 = 2.07e20 FLOPs; 5.76e23 is 2,783x that."""
    kaplan = plan(flops=GOPHER_FLOPS, law="kaplan").warnings
    assert any("5.76e+23 FLOPs is 2,780x above the largest (2.07e+20)" in w for w in kaplan)
    assert any("below the smallest" in w for w in plan(flops=1e17).warnings)
    assert not any("extrapolation" in w for w in plan(flops=1e21).warnings)


# --- section 4: data-constrained --------------------------------------------------------------------------
def test_figure1_budget_through_the_planner():
    """Muennighoff et al. 2023 Fig. 1: 9.3e21 FLOPs and 25B unique tokens. The authors' grid search (datablations
    README) puts the law's optimum at 6.8B params on 227B tokens, 9.1 epochs (for 9.26e21 = 6 x 8.67B x 178B;
    9.3e21 moves it by 0.2%); Fig. 1's 6.34B / 242B is a deliberately more extreme point."""
    p = plan(flops=9.3e21, unique_tokens=25e9, law="muennighoff2023")
    assert p.n_tokens == pytest.approx(227e9, rel=0.005)
    assert p.epochs == pytest.approx(9.1, abs=0.05)
    assert p.n_params == pytest.approx(6.8e9, rel=0.01)
    assert p.data_constrained.n_params == p.n_params
    # D'/D at these epochs from eq. 5 by hand.
    r_d = p.epochs - 1
    d_eff = 25e9 * (1 + 15.387756 * (1 - math.exp(-r_d / 15.387756)))
    assert p.effective_tokens == pytest.approx(d_eff, rel=1e-9)
    assert p.loss_penalty > 0 and p.loss_fresh < p.loss
    assert any("beyond ~4 epochs" in w for w in p.warnings)


def test_other_laws_get_epochs_and_the_muennighoff_optimum():
    """With epoch2024 the plan stays epoch2024's fresh-data optimum; epochs and D' use Muennighoff's R_D*
    decay, the loss is epoch2024's L evaluated at D', and the data-constrained optimum is reported."""
    p = plan(flops=9.3e21, unique_tokens=25e9)
    fresh = plan(flops=9.3e21)
    assert (p.n_params, p.n_tokens) == (fresh.n_params, fresh.n_tokens)
    assert p.epochs == pytest.approx(p.n_tokens / 25e9)
    assert p.loss == pytest.approx(float(get_law("epoch2024").loss(p.n_params, p.effective_tokens)))
    assert p.loss_fresh == pytest.approx(fresh.loss)
    dc = p.data_constrained
    assert dc.n_params == pytest.approx(6.8e9, rel=0.01)
    assert dc.epochs == pytest.approx(9.1, abs=0.05)


def test_no_repetition_no_penalty():
    p = plan(flops=1e21, unique_tokens=1e13)
    assert p.epochs < 1 and p.effective_tokens == pytest.approx(p.n_tokens)
    assert p.loss_penalty == pytest.approx(0.0, abs=1e-12)
    assert not any("epochs" in w for w in p.warnings)


def test_beyond_16_epochs_warns_and_advises_dropout():
    """Muennighoff 2023: returns vanish beyond R_D* ≈ 16 epochs (a warning); Xue et al. 2023: dropout 0.1
    (finding 8), also switched on late (finding 9), weaker for the largest models (finding 10)."""
    p = plan(flops=1e22, unique_tokens=5e9, law="epoch2024")
    assert p.epochs > 16
    # 36.9 epochs: the last epoch is worth exp(-35.9 / 15.39) = 9.7% of fresh data: fading, not yet worthless
    assert "returns fade towards zero" in " ".join(p.warnings)
    assert "worth 9.7% of fresh ones" in " ".join(p.warnings)
    by_topic = {a.topic: a for a in p.advice}
    assert list(by_topic) == ["degradation", "dropout", "late dropout", "dropout at scale"]
    assert by_topic["dropout"].values == {"recommended_dropout": 0.1}
    assert by_topic["late dropout"].values == {
        "recommended_dropout": 0.1,
        "start_fraction": 0.5,
        "schedule": "step",
    }
    # finding 10 names the paper's largest dense model (T5-XL, 2.8B) and sec. 5's preferred rates at that scale
    at_scale = by_topic["dropout at scale"]
    assert at_scale.values["paper_largest_dense_params"] == 2.8e9
    assert at_scale.values["dropout_range_at_scale"] == [0.2, 0.3]
    assert "T5-XL (2.8B parameters)" in at_scale.text and "sec. 5" in at_scale.source
    assert "finding 8" in by_topic["dropout"].source and "Xue" in by_topic["dropout"].source
    assert all(a.confidence == "qualitative" for a in p.advice)
    advice = p.to_dict()["advice"]
    assert advice[1]["recommended_dropout"] == 0.1 and advice[2]["start_fraction"] == 0.5


def test_advice_only_when_it_applies():
    """One pass: no advice. Two epochs with a negligible penalty: findings 2-4 only (no dropout). A small model
    (below 1B parameters): no largest-size caveat."""
    assert plan(flops=1e21).advice == ()
    assert plan(flops=1e21, unique_tokens=1e13).advice == ()
    light = plan(flops=1e21, unique_tokens=1e21 / (6 * 2.9e9) / 1.5, law="muennighoff2023")
    assert 1 < light.epochs <= 4 and light.repetition.relative_penalty < 0.005
    assert [a.topic for a in light.advice] == ["degradation"]
    small = plan(flops=1e19, unique_tokens=1e9)
    assert small.epochs > 4 and small.n_params_total < 1e9
    assert "dropout at scale" not in [a.topic for a in small.advice]


# --- other budgets ---------------------------------------------------------------------------------------
def test_target_loss_missed_through_repetition_warns():
    """--target-loss 2.1 --unique-tokens 25B printed "predicted loss 2.1141" under "cheapest plan reaching
    this loss" with no word that the target was missed: the allocation is the fresh-data one and 10.7
    epochs add +0.0141. A target the data allows (or fresh data) gives no such warning."""
    p = plan(target_loss=2.1, unique_tokens=25e9)
    assert p.loss > 2.1 + 0.01 and p.loss_fresh == pytest.approx(2.1)
    (w,) = [w for w in p.warnings if "not reached" in w]
    assert w.startswith("`target_loss` 2.1 is not reached") and f"loss is {p.loss:.4f}" in w
    assert "10.7 times" in w and "+0.0141" in w
    for ok in (plan(target_loss=2.1), plan(target_loss=2.1, unique_tokens=1e13)):
        assert not [w for w in ok.warnings if "not reached" in w]
    assert not [w for w in plan(flops=1e22, unique_tokens=25e9).warnings if "not reached" in w]


def test_params_tokens_and_target_loss_budgets_are_consistent():
    p = plan(flops=1e22)
    by_n = plan(n_params=p.n_params)
    by_d = plan(n_tokens=p.n_tokens)
    by_l = plan(target_loss=p.loss)
    for q in (by_n, by_d, by_l):
        assert q.n_params == pytest.approx(p.n_params, rel=1e-6)
        assert q.n_tokens == pytest.approx(p.n_tokens, rel=1e-6)
        assert q.flops == pytest.approx(1e22, rel=1e-6)
    assert (by_n.mode, by_d.mode, by_l.mode) == ("n_params", "n_tokens", "target_loss")


def test_gpu_hours_budget():
    """20,000 H100-hours at 40% MFU = 20000 * 3600 * 989e12 * 0.4 FLOPs."""
    p = plan(gpu_hours=20_000, gpu="h100")
    assert p.flops == pytest.approx(20_000 * 3600 * 989e12 * 0.4)
    assert p.gpu_hours == pytest.approx(20_000)
    q = plan(gpu_hours=100, peak_flops=1e15, mfu=0.5, gpus=8, price_per_gpu_hour=2.0)
    assert q.flops == pytest.approx(100 * 3600 * 1e15 * 0.5)
    assert q.gpu is None and q.wall_clock_hours == pytest.approx(12.5)
    assert q.cost == pytest.approx(200.0)


def test_memory_mixed_precision_adam_zero3():
    """16 bytes/param (bf16 weights 2 + grads 2, fp32 master + Adam moments 12; ZeRO sec. 3.1), / GPUs."""
    p = plan(n_params=7e9, gpus=8)
    m = p.memory
    assert (m.weights_bytes, m.grads_bytes, m.optimizer_bytes) == pytest.approx((14e9, 14e9, 84e9))
    assert m.per_gpu_bytes == pytest.approx(112e9 / 8)
    assert m.fits is True
    small = plan(n_params=70e9, gpus=2)
    assert small.memory.fits is False
    assert any("ZeRO-3" in w for w in small.warnings)
    auto = plan(n_params=70e9)
    assert auto.gpus_assumed and auto.gpus == math.ceil(
        16 * 70e9 / ACCELERATORS["H100"].memory_bytes
    )


def test_saved_law_file(tmp_path):
    """A law saved by `tokenplan fit` ({"law": law.to_dict(), ...metadata}) plans like the preset."""
    import json

    law = dataclasses.replace(get_law("chinchilla"), name="my-fit")
    path = tmp_path / "fit.json"
    path.write_text(json.dumps({"law": law.to_dict(), "n_runs": 42}))
    p = plan(flops=GOPHER_FLOPS, law=str(path))
    assert p.law == "my-fit"
    assert p.n_params == pytest.approx(32.2e9, rel=0.005)


# --- bad input ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "give a budget"),
        ({"flops": 1e22, "n_params": 7e9}, "exactly one budget"),
        ({"flops": -1.0}, "flops"),
        ({"flops": math.nan}, "flops"),
        # one half-open interval for --mfu: a share of peak that may be whole but not empty (was "[0, 1]"
        # for 2.0 and a second check with its own wording for 0.0)
        ({"flops": 1e22, "mfu": 2.0}, r"mfu=2.0 must lie in \(0, 1\]"),
        ({"flops": 1e22, "mfu": 0.0}, r"mfu=0.0 must lie in \(0, 1\]"),
        ({"flops": 1e22, "mfu": True}, "mfu=True is not a number"),
        ({"gpu_hours": 100.0}, "add `gpu` NAME"),
        ({"flops": 1e22, "gpu": "H100", "peak_flops": 1e15}, "not both"),
        ({"flops": 1e22, "unique_tokens": 0.0}, "unique_tokens"),
        ({"flops": 1e22, "gpus": 0}, "gpus"),
        ({"target_loss": 1.0}, "irreducible"),
        ({"target_loss": 2.0, "law": "chinchilla-a1"}, "loss"),
    ],
)
def test_bad_input_names_the_problem(kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        plan(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"flops": 1e22, "n_params": 7e9},
        {"gpu_hours": 100.0},
        {"flops": 1e22, "gpu": "H100", "peak_flops": 1e15},
    ],
)
def test_python_errors_name_arguments_not_flags(kwargs):
    """A Python caller passed ``gpu=``, not ``--gpu``: the message quotes the argument names (the CLI
    gives its flags for them, tests/plan/test_plan_cli.py); it said "add --gpu NAME" before."""
    with pytest.raises(InvalidInputError) as e:
        plan(**kwargs)
    assert "`" in str(e.value) and "--" not in str(e.value)


def test_unknown_gpu_and_law_list_valid_names():
    with pytest.raises(UnknownNameError, match="H100"):
        plan(flops=1e22, gpu="TPUv9")
    with pytest.raises(UnknownNameError, match="epoch2024"):
        plan(flops=1e22, law="chinchila")


def test_plan_is_frozen_with_readable_repr_and_json_dict():
    p = plan(flops=1e22, unique_tokens=25e9)
    assert isinstance(p, Plan)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.n_params = 1.0  # type: ignore[misc]
    assert "epoch2024" in repr(p) and "epochs=" in repr(p)
    d = p.to_dict()
    for key in ("n_params", "n_tokens", "flops", "tokens_per_param", "loss", "epochs", "law"):
        assert key in d
    assert d["effective_tokens"] == p.effective_tokens
    assert isinstance(d["warnings"], list)


# --- properties -------------------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(
    flops=st.floats(min_value=1e18, max_value=1e26),
    law=st.sampled_from(PRESETS),
)
def test_plan_spends_the_budget(flops, law):
    """For every preset, 6 N D equals the FLOPs budget and GPU-hours = C / (peak * MFU)."""
    p = plan(flops=flops, law=law)
    assert 6 * p.n_params * p.n_tokens == pytest.approx(flops, rel=1e-9)
    assert p.gpu_hours * 3600 * 989e12 * 0.4 == pytest.approx(flops, rel=1e-9)
    assert p.steps * p.batch_tokens >= p.n_tokens


@settings(max_examples=30, deadline=None)
@given(unique=st.floats(min_value=1e9, max_value=1e13))
def test_repetition_never_helps(unique):
    p = plan(flops=1e22, unique_tokens=unique)
    assert p.effective_tokens <= p.n_tokens * (1 + 1e-12)
    assert p.loss >= p.loss_fresh - 1e-12
    assert (
        p.data_constrained.loss
        <= float(get_law("muennighoff2023").loss(p.n_params, p.n_tokens, unique)) + 1e-9
    )


def test_module_all_is_curated():
    import tokenplan.hardware
    import tokenplan.inference
    import tokenplan.plan
    import tokenplan.report

    for module in (tokenplan.plan, tokenplan.hardware, tokenplan.inference, tokenplan.report):
        assert sorted(module.__all__) == sorted(set(module.__all__))
        for name in module.__all__:
            assert hasattr(module, name), (module.__name__, name)


# --- the Plan holds everything the CLI prints --------------------------------------------------------------
def test_compare_validates_before_its_loop():
    """A bad option raises once instead of skipping every law with the same complaint."""
    with pytest.raises(InvalidInputError, match="flops"):
        compare(flops=-1)
    with pytest.raises(InvalidInputError, match="seq_len"):
        compare(flops=1e21, seq_len=0)
    with pytest.raises(InvalidInputError, match="laws"):
        compare(flops=1e21, laws=[])


@pytest.mark.parametrize("bad", [True, False, float("nan"), float("inf"), -1.0, 0.0, "many"])
def test_plan_refuses_non_numbers(bad):
    with pytest.raises(InvalidInputError, match="flops"):
        plan(flops=bad)


def test_plan_holds_the_all_unique_optimum_and_the_90_day_gpu_count():
    """What the CLI used to compute itself is on the Plan: the data-constrained law's optimum if every token
    were unique, and the GPUs that finish in 90 days (ceil(GPU-hours / 2160))."""
    p = plan(flops=9.3e21, unique_tokens=25e9)
    fresh = get_law("muennighoff2023").optimal(9.3e21)
    assert p.fresh_optimum.n_params == pytest.approx(float(fresh.n_params))
    assert p.to_dict()["fresh_optimum"]["n_tokens"] == pytest.approx(float(fresh.n_tokens))
    big = plan(flops=GOPHER_FLOPS)
    assert big.hardware.gpus_in_90_days == math.ceil(big.gpu_hours / (90 * 24))
    assert big.to_dict()["hardware"]["gpus_in_90_days"] == big.hardware.gpus_in_90_days


def test_every_figure_names_its_source():
    """--json carries the source of each figure: law, conversion, batch fit, memory rule, repetition."""
    d = plan(flops=9.3e21, unique_tokens=25e9, inference_tokens=1e12).to_dict()
    sources = d["sources"]
    assert "Besiroglu" in sources["n_params"] and "Besiroglu" in sources["loss"]
    assert "Pearce & Song" in sources["n_params_total"]
    assert "DeepSeek" in sources["batch"] and d["batch"]["source"] == sources["batch"]
    assert "ZeRO" in sources["memory"] and "ZeRO" in d["memory"]["source"]
    assert "eq. 5" in sources["effective_tokens"] and "Sardana" in sources["inference"]
    assert "Fig. 4" in sources["fitted_range"]
    assert "datasheet" in d["hardware"]["source"]
    assert all(a["source"] for a in d["advice"])


def test_a_model_below_the_conversion_floor_is_flagged():
    """`plan --params 10` printed '10 (total; 9.34e-12 non-embedding)' as if it meant something. A plan
    below one layer (1.27M parameters, tokenplan.flops.conversion_floor) now says the conversion does not
    describe it; a law counting non-embedding parameters refuses such a --params."""
    tiny = plan(n_params=10)
    assert tiny.params_convertible is False and tiny.to_dict()["params_convertible"] is False
    assert any("below the smallest model the total <-> non-embedding" in w for w in tiny.warnings)
    for ok in (plan(n_params=2e6), plan(flops=1e15)):  # 1e15 FLOPs: 2.33M parameters
        assert ok.params_convertible and not any("conversion describes" in w for w in ok.warnings)
    with pytest.raises(InvalidInputError, match="law 'kaplan' counts non-embedding parameters"):
        plan(n_params=1e6, law="kaplan")


def test_less_than_one_sequence_per_gpu_is_flagged():
    """`plan --flops 1e22 --gpus 5000` split DeepSeek's batch of 2,232 sequences over 5,000 GPUs without a
    word; below one sequence per GPU a data-parallel step cannot hold, and the plan now says so."""
    p = plan(flops=1e22, gpus=5000)
    per_gpu = p.batch_sequences / 5000
    assert per_gpu < 1
    (w,) = [w for w in p.warnings if "sequences per GPU" in w]
    assert f"{per_gpu:.2g} sequences per GPU" in w and f"at most {p.batch_sequences:,} GPUs" in w
    assert "DeepSeek LLM's B_opt" in w
    k = plan(flops=1e22, gpus=20_000, batch_rule="kaplan")  # the warning names the rule in use
    assert any("Kaplan's B_crit" in w for w in k.warnings if "sequences per GPU" in w)
    ok = plan(flops=1e22, gpus=p.batch_sequences)  # exactly one sequence per GPU
    assert not any("sequences per GPU" in w for w in ok.warnings)


def test_target_loss_below_the_unique_data_floor_says_no_budget_reaches_it():
    """--target-loss 2 --unique-tokens 1B: D' never exceeds (1 + R_D*) x 1B = 16.4B, so epoch2024 stays
    above 1.817 + 2085.43 / 16.4B^0.3658 = 2.1996 at any budget; the warning advised "a larger budget
    (--flops)" anyway. It now says a larger budget does not close the gap, with the floor."""
    (w,) = [w for w in plan(target_loss=2.0, unique_tokens=1e9).warnings if "not reached" in w]
    assert "a larger budget does not" in w and "stays above 2.1996" in w and "`flops`" not in w
    (w,) = [
        w
        for w in plan(target_loss=2.3, unique_tokens=1e9, law="muennighoff2023").warnings
        if "not reached" in w
    ]
    assert "stays above 2.7614" in w and "eqs. 5-6" in w
    (w,) = [w for w in plan(target_loss=2.1, unique_tokens=25e9).warnings if "not reached" in w]
    assert "a larger budget (`flops`) close the gap" in w


def test_a_data_constrained_optimum_under_another_law_says_its_losses_are_on_other_data():
    """`plan --gpu-hours 20000 --gpu H100 --unique-tokens 25B` printed epoch2024's loss (MassiveText)
    beside muennighoff2023's data-constrained optimum (C4) with nothing to say they are not comparable;
    the plan now notes it in `plan --compare`'s words (one constant, LOSS_SCALES). Under muennighoff2023 the
    optimum is the plan's own law, and nothing is said."""
    from tokenplan.laws.presets import LOSS_SCALES

    p = plan(gpu_hours=20000, gpu="H100", unique_tokens=25e9)
    (note,) = p.notes
    assert note.endswith(LOSS_SCALES) and "law muennighoff2023's" in note and "epoch2024's" in note
    assert f"{p.data_constrained.loss:.4f}" in note and p.to_dict()["notes"] == [note]
    assert plan(gpu_hours=20000, gpu="H100", unique_tokens=25e9, law="muennighoff2023").notes == ()
    assert plan(flops=1e22).notes == ()


def test_a_target_loss_a_hair_above_e_is_refused_with_the_compute_it_needs():
    """`plan --target-loss 1.8171` (epoch2024's E = 1.817) planned 4.9e41 FLOPs, 1.1e20 parameters and
    1.75 billion years, with only a range warning; a budget that large is refused as input (1e30 cap), so
    the target that needs it is refused too, naming the gap to E, the FLOPs and the lowest plannable
    target (the optimum's loss at 1e30 FLOPs), which itself plans."""
    with pytest.raises(InvalidInputError) as info:
        plan(target_loss=1.8171)
    msg = str(info.value)
    assert info.value.param == "target_loss"
    assert (
        "is 0.0001 above the irreducible loss E=1.8170" in msg
        and "needs 4.9e+41 training FLOPs" in msg
    )
    lowest = float(msg.split("give a target_loss of at least ")[1].split()[0])
    assert lowest == pytest.approx(float(get_law("epoch2024").optimal(1e30).loss), abs=1e-4)
    assert plan(target_loss=lowest).flops <= 1e30
    with pytest.raises(InvalidInputError, match="needs more than 1e\\+60 training FLOPs"):
        plan(target_loss=1.817 + 1e-11)


def test_plan_and_repeat_json_name_unbounded_axes_like_fit_and_predict():
    """`fit --json` and `predict --json` write `extrapolation_unbounded` (the axes whose factor is beyond
    float range, written as null); `plan --json` and `repeat --json` had no such key. A law fitted on
    models of ~1e-300 parameters puts every real plan infinitely far out on that axis."""
    from tokenplan.laws import FittedRange

    base = get_law("chinchilla")
    rng = FittedRange((1.0, 1e30), (1e-300, 2e-300), (1.0, 1e30), (1e-30, 1e30), "tiny")
    law = dataclasses.replace(base, name="tiny", fitted_range=rng)
    assert plan(flops=1e22, law=law).to_dict()["extrapolation_unbounded"] == ["n_params"]
    assert plan(flops=1e22).to_dict()["extrapolation_unbounded"] == []
    assert repeat(25e9, [1, 4], law=law).to_dict()["extrapolation_unbounded"] == ["n_params"]
    assert repeat(25e9, [1, 4]).to_dict()["extrapolation_unbounded"] == []
    (w,) = [w for w in plan(flops=1e22, law=law).warnings if w.startswith("outside the data")]
    assert "parameters is more than 1e308x above the largest" in w and "inf" not in w


def test_data_constrained_optimum_beyond_its_law_is_flagged():
    """`plan --flops 1e24 --unique-tokens 100B` prints muennighoff2023's data-constrained optimum and its
    all-unique optimum beside the epoch2024 plan. Muennighoff et al. 2023 fitted runs up to 8.67B params and
    9.26e21 FLOPs (6 x 8.67B x 178B, Fig. 1), so both points, at 1e24 FLOPs, are an extrapolation of about
    1e24 / 9.26e21 = 108x; the plan's own warning is about epoch2024's range only, and was the only one."""
    p = plan(flops=1e24, unique_tokens=100e9)
    assert p.data_constrained is not None and p.data_constrained.law == "muennighoff2023"
    (warning,) = [w for w in p.warnings if "data-constrained optimum" in w]
    assert "outside the data law 'muennighoff2023' was fitted on" in warning
    assert f"{1e24 / (6 * 8.67e9 * 178e9):.3g}x above the largest" in warning
    assert "all-unique optimum" in warning
    # Inside the fitted range (Fig. 1's own budget), nothing is added.
    assert not [w for w in plan(flops=9.3e21, unique_tokens=25e9).warnings if "optimum (" in w]


def test_optima_a_run_is_set_against_say_when_they_extrapolate():
    """`plan --params 8B --tokens 15T` (Llama-3-8B's run) prints epoch2024's compute-optimal split of its
    7.2e23 FLOPs, ~81B params (Besiroglu et al. 2024: 72.2B at 5.76e23, a = 0.513), beside the run. The run's
    8B is inside the 240 fitted runs (largest 16.2B) but the split is ~5x above it: it must be flagged as
    the run's own point is, not left to read as an interpolation."""
    p = plan(n_params=8e9, n_tokens=15e12)
    assert p.vs_optimum.optimum.n_params > 5 * 16.2e9 * 0.95
    (warning,) = [w for w in p.warnings if "compute-optimal split" in w]
    assert "outside the data law 'epoch2024' was fitted on" in warning
    assert "parameters is 5.01x above the largest (16.2B)" in warning
    # A run at Chinchilla's own scale (1B on 20B tokens) and its optima are inside: nothing is added.
    assert not [w for w in plan(n_params=1e9, n_tokens=20e9).warnings if "optimum" in w]


def test_kaplans_overfitting_warning_does_not_overrule_the_data_constrained_optimum():
    """`plan --flops 9.3e21 --unique-tokens 25B --law muennighoff2023` plans Muennighoff's data-constrained
    optimum (6.82B, smaller than the 8.89B all-unique optimum because it prices the repeats), and Kaplan's
    eq. 4.4 warning then told that optimum to 'use a smaller model or more data': two papers on one screen
    with nothing to say they disagree. There the warning names the optimum and says the papers differ; a
    model the user chose (--params) or a law that does not price repeats keeps the plain advice."""
    own = plan(flops=9.3e21, unique_tokens=25e9, law="muennighoff2023")
    (w,) = [w for w in own.warnings if "overfitting bound" in w]
    assert (
        "data-constrained optimum of law 'muennighoff2023', which already prices the repeats" in w
    )
    assert "the two papers differ here" in w and "use a smaller model" not in w
    for other in (
        plan(n_params=7e9, unique_tokens=25e9, law="muennighoff2023"),
        plan(flops=9.3e21, unique_tokens=25e9, law="chinchilla"),
    ):
        (w,) = [w for w in other.warnings if "overfitting bound" in w]
        assert w.endswith("repeated epochs may overfit; use a smaller model or more data.")
