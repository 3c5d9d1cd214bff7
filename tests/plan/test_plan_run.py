"""`plan --params N --tokens D`: a run of your own, planned as given and set against the law's optima.

Goldens are the papers' own figures: Hoffmann et al. 2022 (REFERENCE sec. 1: the Gopher budget's optimum
under the rounded App. D.2 constants is 32.2B on 2.98T tokens; Table 3 puts 280B at 9.90e24 FLOPs on 5.9T
tokens, and the Gopher budget at 67B; sec. 4: Chinchilla, 70B on 1.4T, beats Gopher, 280B on 300B, at about
the same compute).
"""

from __future__ import annotations

import json

import pytest

from helpers import run_cli
from tokenplan import get_law
from tokenplan.errors import InvalidInputError
from tokenplan.plan import compare, plan

GOPHER_FLOPS = 5.76e23  # Hoffmann et al. 2022, Table 3 (one "Gopher unit")


def test_a_run_at_the_gopher_budget_is_set_against_chinchillas_optimum():
    """280B parameters spending Gopher's 5.76e23 FLOPs (6ND): the rounded Approach-3 law's optimum for those
    FLOPs is 32.2B on 2.98T tokens (REFERENCE sec. 1), about 9x smaller than the run's model."""
    run = plan(n_params=280e9, n_tokens=GOPHER_FLOPS / (6 * 280e9), law="chinchilla")
    assert run.mode == "run"
    assert run.n_params == 280e9 and run.flops == pytest.approx(GOPHER_FLOPS)
    opt = run.vs_optimum.optimum
    assert float(opt.n_params) == pytest.approx(32.2e9, rel=5e-3)
    assert float(opt.n_tokens) == pytest.approx(2.98e12, rel=5e-3)
    assert run.vs_optimum.size_ratio == pytest.approx(280 / 32.2, rel=5e-3)


def test_table_3s_280b_row_is_its_own_optimum_and_gopher_is_4x_too_large():
    """Approach 1 (Table 3): 280B is compute-optimal at 9.90e24 FLOPs on 5.9T tokens, so a run of exactly that
    sits on the optimum; at the Gopher budget the optimum is 67B, 'four times smaller' (sec. 1)."""
    on_row = plan(n_params=280e9, n_tokens=5.9e12, law="chinchilla-a1").vs_optimum
    assert on_row.size_ratio == pytest.approx(
        1.0, rel=0.041
    )  # the preset is within 4.1% of Table 3
    gopher = plan(n_params=280e9, n_tokens=GOPHER_FLOPS / (6 * 280e9), law="chinchilla-a1")
    assert float(gopher.vs_optimum.optimum.n_params) == pytest.approx(67e9, rel=0.041)
    assert 3.5 < gopher.vs_optimum.size_ratio < 4.5
    # an allocation-only law has no loss, so no cheapest plan at the run's loss
    assert gopher.vs_optimum.same_loss is None and gopher.vs_optimum.compute_ratio is None


def test_chinchilla_beats_gopher_and_is_nearer_the_optimum():
    """Sec. 4: Chinchilla (70B on 1.4T tokens) has the lower loss at about Gopher's compute (280B on 300B),
    under the paper's own law; the cheapest plan reaching Gopher's loss needs far fewer FLOPs than Gopher."""
    gopher = plan(n_params=280e9, n_tokens=300e9, law="chinchilla")
    chinchilla = plan(n_params=70e9, n_tokens=1.4e12, law="chinchilla")
    assert chinchilla.loss < gopher.loss
    assert chinchilla.flops == pytest.approx(gopher.flops, rel=0.2)
    assert gopher.vs_optimum.compute_ratio > 2 * chinchilla.vs_optimum.compute_ratio
    assert chinchilla.vs_optimum.compute_ratio < 1.25  # 20 tokens/param: near the optimum


def test_a_run_on_the_laws_own_optimum_costs_1x():
    """The ratio can fail both ways: 1 on the optimum, above 1 over-trained and under-trained."""
    law = get_law("epoch2024")
    opt = law.optimal(1e22)
    on = plan(n_params=float(opt.n_params), n_tokens=float(opt.n_tokens)).vs_optimum
    assert on.compute_ratio == pytest.approx(1.0, abs=1e-6)
    assert on.size_ratio == pytest.approx(1.0, rel=1e-9)
    assert float(on.same_loss.loss) == pytest.approx(float(law.loss(opt.n_params, opt.n_tokens)))
    over = plan(n_params=float(opt.n_params) / 10, n_tokens=float(opt.n_tokens) * 10).vs_optimum
    under = plan(n_params=float(opt.n_params) * 10, n_tokens=float(opt.n_tokens) / 10).vs_optimum
    assert over.compute_ratio > 1.5 and under.compute_ratio > 1.5
    assert over.size_ratio == pytest.approx(0.1) and under.size_ratio == pytest.approx(10.0)


def test_kaplan_counts_the_runs_non_embedding_parameters():
    """Kaplan's law counts non-embedding parameters: the run's total is converted, and its FLOPs are
    6 N_non-embedding D, as every Kaplan plan's are."""
    run = plan(n_params=8e9, n_tokens=15e12, law="kaplan")
    assert run.n_params < 8e9 and run.n_params_total == pytest.approx(8e9, rel=1e-6)
    assert run.flops == pytest.approx(6 * run.n_params * 15e12)
    assert run.vs_optimum.optimum.param_convention == "non-embedding"


def test_law_allocation_is_the_run_as_the_law_sees_it():
    law = get_law("chinchilla")
    a = law.allocation(70e9, 1.4e12)
    assert float(a.flops) == pytest.approx(6 * 70e9 * 1.4e12)
    assert float(a.loss) == pytest.approx(1.69 + 406.4 / 70e9**0.34 + 410.7 / 1.4e12**0.28)
    with pytest.raises(InvalidInputError) as e:
        law.allocation(70e9, 0.0)
    assert e.value.param == "n_tokens"
    # 6ND = 6e-600 read as 0 FLOPs and returned silently; refused as predict refuses it
    with pytest.raises(
        InvalidInputError, match=r"`n_params` 1e-300 with `n_tokens` 1e-300 is 6ND"
    ) as e:
        law.allocation(1e-300, 1e-300)
    assert e.value.param == "n_params" and "below the smallest float64 number" in str(e.value)
    with pytest.raises(InvalidInputError, match="above the largest float64 number") as e:
        law.allocation(1e200, 1e200)  # inf FLOPs


def test_other_budgets_have_no_run_comparison_and_compare_plans_the_run_per_law():
    assert plan(n_params=7e9).vs_optimum is None
    comp = compare(n_params=8e9, n_tokens=15e12)
    assert {p.mode for p in comp.plans} == {"run"}
    assert {p.n_tokens for p in comp.plans} == {15e12}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--params", "0.5", "--tokens", "1T"), "--params 0.5 is less than one parameter"),
        (("--params", "8B", "--tokens", "0.5"), "--tokens 0.5 is less than one token"),
        (
            ("--params", "8B", "--tokens", "15T", "--flops", "1e22"),
            "Only --params with --tokens go together",
        ),
    ],
)
def test_bad_runs_are_one_line_naming_the_flag(args, message):
    r = run_cli("plan", *args)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_cli_prints_and_serialises_the_comparison():
    r = run_cli("plan", "--params", "8B", "--tokens", "15T", "--gpus", "512")
    assert r.returncode == 0, r.stderr
    assert "run you gave" in r.stdout and "compute-optimal split" in r.stdout
    assert "vs the optimum" in r.stdout and "x the FLOPs of the cheapest" in r.stdout
    j = json.loads(run_cli("plan", "--params", "8B", "--tokens", "15T", "--json").stdout)
    vs = j["vs_optimum"]
    assert j["mode"] == "run" and vs["compute_ratio"] > 1.0
    assert vs["optimum"]["flops"] == pytest.approx(j["flops"])
    assert "vs_optimum" in j["sources"]
    r = run_cli("plan", "--params", "8B", "--tokens", "15T", "--compare")
    assert r.returncode == 0, r.stderr
    assert "Every law on 8B parameters on 15T tokens" in r.stdout and "FLOPs/opt" in r.stdout


def test_the_ratio_to_the_optimum_is_in_the_factor_format():
    """'vs the optimum' printed 132.26x the FLOPs (two decimals on any size) where every other factor of
    plan is in 3 significant figures (units.format_factor): now 132x, and 5.51x as before."""
    r = run_cli("plan", "--params", "1B", "--tokens", "100T")
    assert r.returncode == 0, r.stderr
    assert "132x the FLOPs of the cheapest" in " ".join(r.stdout.split())
    r = run_cli("plan", "--params", "8B", "--tokens", "15T")
    assert "5.51x the FLOPs of the cheapest" in " ".join(r.stdout.split())
