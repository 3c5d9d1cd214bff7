"""Golden tests for Muennighoff et al. 2023's data-constrained law (REFERENCE.md sec. 4)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokenplan.laws import get_law

LAW = get_law("muennighoff2023")


@pytest.mark.parametrize(
    ("epochs", "fraction"), [(2, 0.984), (4, 0.931), (10, 0.781), (16, 0.661), (40, 0.379)]
)
def test_effective_token_fractions(epochs, fraction):
    """Muennighoff et al. 2023 eq. 5 with R_D* = 15.387756: D'/D = 0.984, 0.931, 0.781, 0.661, 0.379."""
    unique = 1e9
    assert LAW.effective_tokens(epochs * unique, unique) / (epochs * unique) == pytest.approx(
        fraction, abs=5e-4
    )


def test_effective_tokens_cap():
    """D'/U caps at 1 + R_D* = 16.39."""
    assert LAW.effective_tokens(1e18, 1e9) / 1e9 == pytest.approx(16.388, abs=1e-3)


def test_figure1_models_losses():
    """Muennighoff et al. 2023 Fig. 1 (right), 25B unique tokens: the data-constrained model, 6.34B params on
    242B tokens, against Chinchilla's allocation, 8.67B on 178B. The authors' own code (datablations
    repository README, "Parametric Fit") prints L = 2.2256440889984477 and 2.2269634075087867 for them."""
    assert LAW.loss(6.34e9, 242e9, 25e9) == pytest.approx(2.2256440889984477, abs=1e-9)
    assert LAW.loss(8.67e9, 178e9, 25e9) == pytest.approx(2.2269634075087867, abs=1e-9)


def test_optimum_epochs_count_passes_over_the_unique_data():
    """With more unique data than the optimum uses, epochs is D/U < 1, not 1; with none given, 1."""
    alloc = LAW.optimal_constrained(1e24, 2e12)
    assert alloc.n_tokens < 2e12
    assert alloc.epochs == pytest.approx(alloc.n_tokens / 2e12, rel=1e-12)
    assert LAW.optimal_constrained(1e24, None).epochs == 1.0


def test_figure1_budget_optimum():
    """The law's own optimum at Fig. 1's budget, C = 6 x 8.67B x 178B = 9.26e21 ("9.3e21"), 25B unique: the
    authors' grid search from (8.67B, 178B) prints "227B tokens, 9.1 epochs, 6.8B parameters" and adds "We
    went more extreme in Figure 1": 6.34B on 242B is a deliberately more extreme test point, not the
    optimum. Tolerances are the printed digits (3, 2 and 2 significant figures)."""
    alloc = LAW.optimal_constrained(6 * 8.67e9 * 178e9, 25e9)
    assert alloc.n_tokens == pytest.approx(227e9, abs=0.5e9)
    assert alloc.epochs == pytest.approx(9.1, abs=0.05)
    assert alloc.n_params == pytest.approx(6.8e9, abs=0.05e9)
    # the continuous optimum is at least as good as both Fig. 1 models
    assert alloc.loss <= LAW.loss(6.34e9, 242e9, 25e9) < LAW.loss(8.67e9, 178e9, 25e9)


def test_base_constants():
    """Base law: E=1.8691, A=520.82, B=1487.72, alpha=beta=0.3526596; R_D*=15.387756, R_N*=5.309743."""
    assert (LAW.E, LAW.A, LAW.B) == pytest.approx((1.8691, 520.82, 1487.72), abs=0.01)
    assert LAW.alpha == LAW.beta == 0.3526596


def test_fresh_data_is_the_base_law():
    assert LAW.loss(1e9, 2e10, 2e10) == pytest.approx(LAW.loss(1e9, 2e10))
    assert LAW.optimal_constrained(1e22, 1e15).n_params == pytest.approx(
        LAW.optimal(1e22).n_params, rel=1e-6
    )


def test_effective_params_below_unique_optimum_are_untouched():
    """N <= U_N means R_N = 0 and N' = N (eq. 6)."""
    u_n = float(LAW.unique_params(1e10))
    assert LAW.effective_params(u_n / 2, 1e10) == pytest.approx(u_n / 2)
    assert LAW.effective_params(u_n * 100, 1e10) < u_n * (1 + LAW.R_N_star) * 1.0001


@settings(max_examples=80, deadline=None)
@given(
    unique=st.floats(min_value=1e6, max_value=1e13),
    epochs=st.floats(min_value=1.0, max_value=1e4),
)
def test_effective_tokens_properties(unique, epochs):
    """D' <= D, D' >= U, D' increases with D, and D' -> U (1 + R_D*) as D -> inf."""
    D = unique * epochs
    d_eff = float(LAW.effective_tokens(D, unique))
    # D' <= D exactly: a fraction D'/D above 1 is no fraction
    assert unique * (1 - 1e-12) <= d_eff <= D
    assert float(LAW.effective_tokens(D * 1.5, unique)) >= d_eff
    assert d_eff <= unique * (1 + LAW.R_D_star) * (1 + 1e-12)
    assert float(LAW.effective_tokens(unique * 1e7, unique)) == pytest.approx(
        unique * (1 + LAW.R_D_star), rel=1e-6
    )


@pytest.mark.parametrize("epochs", [1.0000001, 1.00000001, 1.0000000001, 1.0000000479740485])
def test_effective_tokens_never_exceed_the_tokens_just_above_one_epoch(epochs):
    """Eq. 5 gives D' <= D (1 - exp(-x) <= x); computed, U + U R_D* (1 - exp(-R_D/R_D*)) came out an ulp or
    more above D just above one epoch (D'/D = 1.0000000000000002 at 1.0000001 epochs of 25B, 1.0000000000000013
    at 1.0000000479740485 epochs of 2.3T)."""
    for unique in (25e9, 2314978325251.4517):
        D = unique * epochs
        assert float(LAW.effective_tokens(D, unique)) <= D
        assert float(LAW.effective_tokens(D, unique)) / D <= 1.0


@pytest.mark.parametrize("unique", [1e9, 1e10, 25e9, 1e12])
def test_effective_params_never_exceed_the_params_just_above_the_unique_optimum(unique):
    """Eq. 6 gives N' <= N (1 - exp(-x) <= x); computed, U_N + U_N R_N* (1 - exp(-R_N/R_N*)) came out an ulp
    or two above N just above U_N (N'/N = 1.0000000000000002 at N = 1.000000000001 U_N for 1B, 10B, 25B
    and 1T unique tokens; 39% of sizes drawn between U_N (1 + 1e-15) and U_N (1 + 1e-6))."""
    u_n = float(LAW.unique_params(unique))
    for excess in (1e-12, 1e-13, 1e-11, 3e-10, 1e-8):
        N = u_n * (1 + excess)
        assert float(LAW.effective_params(N, unique)) <= N, excess
        alloc = LAW.allocate(6 * N * unique * 2, N, unique)  # two epochs of the unique tokens
        assert alloc.effective_params <= alloc.n_params, excess


@settings(max_examples=80, deadline=None)
@given(
    unique=st.floats(min_value=1e6, max_value=1e13),
    excess=st.floats(min_value=0.0, max_value=1e4),
)
def test_effective_params_properties(unique, excess):
    """N' <= N exactly, N' >= U_N (to rounding) once N >= U_N, and N' <= (1 + R_N*) U_N (eq. 6)."""
    u_n = float(LAW.unique_params(unique))
    N = u_n * (1 + excess)
    n_eff = float(LAW.effective_params(N, unique))
    assert u_n * (1 - 1e-12) <= n_eff <= N
    assert n_eff <= u_n * (1 + LAW.R_N_star) * (1 + 1e-12)


def test_loss_floor_is_the_limit_of_eqs_5_6():
    """With U unique tokens, L(N', D') levels off at D' = (1 + R_D*) U and N' = (1 + R_N*) U_N: no model
    size or token count gets below it, and huge ones reach it (1B unique tokens: 2.7614)."""
    law = get_law("muennighoff2023")
    floor = float(law.loss_floor(1e9))
    assert floor == pytest.approx(2.76145, abs=1e-4)
    for n, d in [(1e9, 1e11), (1e10, 1e12), (1e11, 1e13)]:
        assert float(law.loss(n, d, 1e9)) >= floor
    assert float(law.loss(1e13, 1e16, 1e9)) == pytest.approx(floor, rel=1e-9)
