"""The inference-aware allocation under a data limit (Sardana et al. 2024 with Muennighoff et al. 2023's
repetition; REFERENCE.md secs. 4 and 6): minimise 6 N D + 2 N D_inference subject to the loss *with
repetition* on U unique tokens equal to the plan's. Checked against an independent solution: a fine grid in
N, with D from the closed forms (Chinchilla eq. 2 solved for D', then eq. 5 inverted for D), where the
library bisects."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from helpers import run_cli
from tokenplan import get_law
from tokenplan.inference import inference_optimal

R_D_STAR = 15.387756  # Muennighoff et al. 2023, C4 fit (REFERENCE.md sec. 4)


def _tokens_closed_form(law, n: np.ndarray, loss: float, unique: float) -> np.ndarray:
    """D reaching ``loss`` with repetition: D' from eq. 2, then eq. 5 inverted,
    D'/U = 1 + R* (1 - exp(-R/R*)) -> R = -R* log(1 - (D'/U - 1) / R*); inf beyond the cap."""
    room = loss - law.E - law.A / n**law.alpha
    d_eff = np.where(room > 0, (law.B / np.where(room > 0, room, 1.0)) ** (1 / law.beta), np.inf)
    x = (d_eff / unique - 1.0) / R_D_STAR
    with np.errstate(divide="ignore", invalid="ignore"):
        repeats = -R_D_STAR * np.log1p(-x)
    d = np.where(d_eff <= unique, d_eff, unique * (1.0 + repeats))
    return np.where(x < 1.0, d, np.inf)


@pytest.mark.parametrize(
    ("law_name", "n0", "unique", "serve"),
    [("epoch2024", 8.7e9, 25e9, 2e12), ("chinchilla-unrounded", 13e9, 100e9, 2e12)],
)
def test_the_optimum_matches_a_brute_force_on_the_closed_forms(law_name, n0, unique, serve):
    law = get_law(law_name)
    d0 = float(law.optimal_tokens(n0).n_tokens)
    inf = inference_optimal(n0, d0, serve, law=law, unique_tokens=unique)
    n = np.geomspace(inf.n_params / 1.5, min(inf.n_params * 1.5, 4 * n0), 20001)
    d = _tokens_closed_form(law, n, inf.loss, unique)
    cost = 6 * n * d + 2 * n * serve
    best = int(np.argmin(cost))
    assert 0 < best < len(n) - 1  # an interior minimum, not the grid's edge
    assert inf.n_params == pytest.approx(n[best], rel=2e-3)
    assert inf.total_flops == pytest.approx(cost[best], rel=1e-6)
    assert inf.n_tokens == pytest.approx(
        _tokens_closed_form(law, np.array([inf.n_params]), inf.loss, unique)[0], rel=1e-6
    )
    assert inf.epochs > 1 and inf.fraction_saved > 0


def test_the_target_is_the_plans_loss_with_repetition():
    law = get_law("epoch2024")
    d0 = 237e9
    decay = get_law("muennighoff2023")
    repeated = float(law.loss(7e9, decay.effective_tokens(d0, 25e9)))
    inf = inference_optimal(7e9, d0, 1e12, law=law, unique_tokens=25e9)
    assert inf.loss == pytest.approx(repeated, rel=1e-12)
    reached = float(law.loss(inf.n_params, decay.effective_tokens(inf.n_tokens, 25e9)))
    assert reached == pytest.approx(repeated, rel=1e-9)


def test_with_data_to_spare_it_is_sardanas_allocation():
    """U far above every token count: no repetition, so the fresh-data golden (7.12B, 16.3%) holds."""
    law = get_law("chinchilla-unrounded")
    d13 = float(law.optimal_tokens(13e9).n_tokens)
    fresh = inference_optimal(13e9, d13, 2e12, law=law)
    roomy = inference_optimal(13e9, d13, 2e12, law=law, unique_tokens=1e15)
    assert roomy.n_params == pytest.approx(fresh.n_params, rel=1e-6)
    assert round(roomy.n_params / 1e9, 2) == 7.12 and round(100 * roomy.fraction_saved, 1) == 16.3


def test_a_data_constrained_law_uses_its_own_repetition_terms():
    """muennighoff2023 prices N' and D' itself: the allocation reaches its loss at (N, D, U), and a model
    1% either side costs more at that loss."""
    law = get_law("muennighoff2023")
    alloc = law.optimal_constrained(9.3e21, 25e9)
    inf = inference_optimal(alloc.n_params, alloc.n_tokens, 2e12, law=law, unique_tokens=25e9)
    assert float(law.loss(inf.n_params, inf.n_tokens, 25e9)) == pytest.approx(inf.loss, rel=1e-9)
    assert inf.loss == pytest.approx(float(law.loss(alloc.n_params, alloc.n_tokens, 25e9)))
    for factor in (0.99, 1.01):
        n = inf.n_params * factor
        lo, hi = math.log(1.0), math.log(25e9 * 1e6)
        for _ in range(200):  # bisection for D at that loss, written out here
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if float(law.loss(n, math.exp(mid), 25e9)) > inf.loss else (lo, mid)
        assert 6 * n * math.exp(hi) + 2 * n * 2e12 > inf.total_flops


def test_the_console_says_it_is_at_the_loss_with_repetition():
    r = run_cli(
        "plan",
        "--flops",
        "9.3e21",
        "--unique-tokens",
        "25B",
        "--inference-tokens",
        "2T",
        env={"COLUMNS": "200"},
    )
    assert r.returncode == 0, r.stderr
    assert "epochs of 25B) at the same loss 2.1549 with repetition" in r.stdout
    assert "sized for loss" not in r.stdout


def test_tokens_for_loss_is_the_constraint_the_report_draws():
    """The report's lifetime-cost curves pass through both marked points only if they use the same
    constraint: with repetition, D at the allocation's N is the allocation's D."""
    from tokenplan.inference import tokens_for_loss

    law = get_law("epoch2024")
    inf = inference_optimal(7e9, 237e9, 1e12, law=law, unique_tokens=25e9)
    d = tokens_for_loss(law, inf.n_params, inf.loss, unique_tokens=25e9)
    assert d == pytest.approx(inf.n_tokens, rel=1e-9)
    assert tokens_for_loss(law, 7e9, inf.loss, unique_tokens=25e9) == pytest.approx(237e9, rel=1e-9)


def test_the_report_page_says_the_loss_is_with_repetition(tmp_path):
    pytest.importorskip("altair")
    page = tmp_path / "p.html"
    r = run_cli(
        "plan", "--flops", "9.3e21", "--unique-tokens", "25B", "--inference-tokens", "2T",
        "--report", str(page),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    text = " ".join(re.sub(r"<[^>]+>", " ", page.read_text()).split())
    assert "( 2.1549 , with repetition on 25B unique tokens) has 5.19B parameters" in text
    assert "trained on 427B tokens ( 17.07 epochs):" in text
