"""Benchmark: do a fitted law's prediction intervals hold a new run's loss as often as they say?

    python bench/interval_coverage.py [--repeats 3] [--workers 2] [--points 8] [--laws ...] [--noise ...]

Run tables are simulated from known laws (docs/fit.md, "How the prediction interval is built"): 4 generating
laws x 4 noise levels x 2 table shapes, ``--repeats`` tables each, every table fitted with ``run_fit`` as
``tokenplan fit`` runs it (``--form auto``: backtests of every form, the chosen form refitted on all runs,
200 bootstrap refits). Each fitted law predicts ``--points`` new runs at each of three distances (inside the
fitted compute; 3x and 10x its largest compute), each a fresh draw of the same noise. Per cell (law, noise,
shape, distance) it prints the share of new runs' losses inside the nominal 80% and 95% intervals, that share
over the nominal (the ratio), the cell's standard error (over tables) and the median relative width, for:

- ``added``   (A) the shipped construction: the bootstrap interval widened by the conformal
              quantile of the backtest's held-out errors (scaled for distance), the two added;
- ``conf``    (B) the conformal quantile around the point prediction alone (the law without its draws);
- ``quad``    (C) bootstrap half-width and conformal quantile in quadrature;
- ``max``     (D) the larger of the two;
- ``boot``    the bootstrap interval alone (the law without its held-out errors: "sampling noise only");
- ``boot+s``  (E) the bootstrap half-width and z s in quadrature, s the fit's residual scale
              sqrt(sum r^2 / (n - p)) (a new run's own noise), z the normal quantile of the level.

``added``, ``conf`` and ``boot`` are the library's own intervals (``law.predict``); ``quad``, ``max`` and
``boot+s`` are built here from the first two's log half-widths. The ratio baseline is the nominal level, and
widths are also given as a ratio to ``added`` measured in the same process. The decision rule of docs/fit.md
is applied at the end. Each table is also fitted in the generating law's own form, and rules for
``--form auto`` are scored against it at 3x / 10x (docs/fit.md, "Does `--form auto` prefer the shared
exponent too often?"): the shipped one-standard-error rule and the candidates of ``RULE_NAMES`` (``--rules``
chooses which): (2) the lowest held-out error and (1) the one-SE rule with the shared exponent's tie vetoed
by an in-sample F test, both picked from the backtest table auto already computed; (3) / (3b) the one-SE rule
/ the lowest error on a one-decade backtest (3-4 more fits per table); (4) a bootstrap test of alpha = beta
(200 batched refits of the chinchilla form) whose rejection hands the tie to the chinchilla form; (5) (4) with
the Kaplan form chosen only when its held-out error is the lowest outright (no cost beyond (4)). With (1)-(4),
``--repeats 30`` took 2,495 s at load 5-7 (876 s at load 1-3 with the first two). BLAS is held to one thread
per worker: on 2 shared cores its threads made each fit 2.6x slower. 4 tables a cell took 598 s on 2 cores at load 9, so the default is 3 (~7.5 min, a cell's standard
error ~9 points: a quick look); the decision used ``--repeats 30`` (27 min, 4.4 points).
``--law-set fresh --seed 1`` is the second look at candidate (C) on three laws not measured before.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy: see the docstring
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import math
import statistics
import time
import warnings
from dataclasses import replace
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from scipy import stats

from tokenplan.errors import InvalidInputError
from tokenplan.fit import FitOptions, backtest, run_fit
from tokenplan.fit.backtest import Holdout, _one_se, budget_flops
from tokenplan.fit.bootstrap import Resampling, bootstrap_parametric
from tokenplan.fit.forms import fit_form, n_free
from tokenplan.laws import get_law
from tokenplan.laws.kaplan_nd import KaplanNDLaw
from tokenplan.runs import runs_from_arrays

# Generating laws (docs/fit.md; constants from ../shared/REFERENCE.md). "far" is not a published law: its
# exponents are far from both Chinchilla fits (alpha < beta, a = beta / (alpha + beta) = 0.69), its A and B
# put the two terms at ~0.5 nats at 3e8 parameters and 6e9 tokens.
HOFFMANN = get_law("chinchilla-unrounded")  # Hoffmann et al. 2022, Approach 3, unrounded
LAWS = {
    "hoffmann2022": HOFFMANN,
    "besiroglu2024": replace(  # Besiroglu et al. 2024, refit of the Fig. 4 points (REFERENCE.md sec. 2)
        HOFFMANN, name="besiroglu2024", E=1.8172, A=477.8, B=2143.9, alpha=0.3473, beta=0.3672
    ),
    "far": replace(HOFFMANN, name="far", E=2.0, A=36.7, B=24800.0, alpha=0.22, beta=0.48),
    "muennighoff2023": get_law(
        "muennighoff2023"
    ),  # eqs. 5-6, C4 fit; runs capped at U unique tokens
}
# The second look at candidate (C) (docs/fit.md), on laws no candidate was measured on before: Kaplan et al.
# 2020 eq. 1.5 (another form, no irreducible term); Muennighoff et al. 2023's C4 base law on fresh data
# (alpha = beta); a law far the other way from "far" (alpha > beta, a = 0.31; terms ~0.5 nats at 3e8 / 6e9).
FRESH = {
    "kaplan2020": KaplanNDLaw(
        name="kaplan2020", N_c=6.4e13, D_c=1.8e13, alpha_N=0.076, alpha_D=0.103
    ),
    "muennighoff-base": replace(
        HOFFMANN,
        name="muennighoff-base",
        E=1.8691,
        A=520.82,
        B=1487.72,
        alpha=0.3526596,
        beta=0.3526596,
    ),
    "far2": replace(HOFFMANN, name="far2", E=1.5, A=3270.0, B=45.0, alpha=0.45, beta=0.20),
}
LAW_SETS = {"paper": LAWS, "fresh": FRESH}
# laws where a candidate rule may not be worse than the one-SE rule by > 2 SE pooled (docs/fit.md): the
# data-constrained law, the fresh alpha = beta law and, for candidate (5), the fresh Kaplan-form law
NOT_WORSE = ("muennighoff2023", "muennighoff-base", "kaplan2020")
NOISE = (0.0025, 0.005, 0.01, 0.02)
SHAPES = ("isoflop", "random")
BUDGETS = (6e18, 1e19, 3e19, 1e20, 3e20, 1e21)  # 1-3 spaced, as Chinchilla's IsoFLOP budgets
SPREAD = (
    0.6  # sizes span N_opt x 10^(+-0.6) per budget (Chinchilla's profiles span about 1.2 decades)
)
DISTANCES = {"inside": None, "3x": 3.0, "10x": 10.0}
LEVELS = (0.8, 0.95)
CANDIDATES = ("added", "conf", "quad", "max", "boot", "boot+s")
# --form auto's selection rules (docs/fit.md, "Does `--form auto` prefer the shared exponent too often?"):
# the column of each one's error in a table's errors (0 the distance, 2 the generating form's)
CANDIDATE_RULES = ("lowest", "ftest", "decade", "decade_lowest", "btest", "btest_kaplan")
RULES = {"auto": 1, **{r: 3 + i for i, r in enumerate(CANDIDATE_RULES)}}
RULE_NAMES = {
    "auto": "--form auto (one-SE rule)",
    "lowest": "candidate (2), lowest held-out error",
    "ftest": "candidate (1), one-SE rule unless an F test rejects alpha = beta",
    "decade": "candidate (3), one-SE rule on a one-decade backtest",
    "decade_lowest": "candidate (3b), lowest held-out error on a one-decade backtest",
    "btest": "candidate (4), bootstrap test of alpha = beta, tie to the chinchilla form",
    "btest_kaplan": "candidate (5), (4) and the Kaplan form only when its error is the lowest outright",
}


def unique_cap(law) -> float | None:
    """The data-constrained law's runs draw from U unique tokens: D_opt at 1e20 FLOPs, so the upper
    budgets' runs repeat up to ~15 epochs and the 10x queries ~40 (Muennighoff et al. go to ~60)."""
    return float(law.optimal(1e20).n_tokens) if hasattr(law, "R_D_star") else None


def sizes(law, flops: np.ndarray, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) at compute ``flops``, N the law's compute-optimal size times 10^offset."""
    n_opt = np.array([law.optimal(float(c)).n_params for c in flops])
    N = n_opt * 10.0**offset
    return N, flops / (6.0 * N)


def table(law, shape: str, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(N, D, flops_budget or None) of one simulated run table of 36 runs."""
    if shape == "isoflop":
        centre = rng.uniform(-0.2, 0.2)  # a grid is centred on a guess, not on the true optimum
        C = np.repeat(BUDGETS, 6)
        off = np.tile(np.linspace(-SPREAD, SPREAD, 6), len(BUDGETS)) + centre
        N, D = sizes(law, C, off)
        return N, D, C
    C = 10.0 ** rng.uniform(math.log10(BUDGETS[0]), math.log10(BUDGETS[-1]), 36)
    N, D = sizes(law, C, rng.uniform(-SPREAD, SPREAD, 36))
    return N, D, None


def true_form(law) -> str:
    """The form the generating law is written in: what ``--form auto`` is measured against."""
    if hasattr(law, "R_D_star"):
        return "data-constrained"
    if isinstance(law, KaplanNDLaw):
        return "kaplan"
    return "shared-exponent" if law.alpha == law.beta else "chinchilla"


def true_form_law(report, runs, form: str):
    """The table fitted with ``form`` (no bootstrap: only its point prediction is scored)."""
    if report.form == form:
        return report.law
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_fit(runs, FitOptions(form=form, n_boot=0)).law


def shared_exponent_p(report, runs) -> float | None:
    """Candidate (1)'s in-sample test (docs/fit.md): the p-value of an F test of alpha = beta, the
    shared-exponent form nested in the chinchilla form (one restriction), on the log residuals of the two
    backtest fits over their own training runs. None when either form was not backtested."""
    bts = report.backtests
    if "shared-exponent" not in bts or "chinchilla" not in bts:
        return None
    held_out = {r.run_id for r in bts["chinchilla"].rows}
    train = runs.subset(np.array([str(i) not in held_out for i in runs.run_id]))
    assert len(train) == bts["chinchilla"].n_train == bts["shared-exponent"].n_train
    train = train.fresh_only()  # the chinchilla-family forms are fitted on the fresh runs only
    rss = {
        f: float((np.log(bts[f].law.loss(train.n_params, train.n_tokens) / train.loss) ** 2).sum())
        for f in ("shared-exponent", "chinchilla")
    }
    dof = len(train) - n_free("chinchilla")
    F = (rss["shared-exponent"] - rss["chinchilla"]) / (rss["chinchilla"] / dof)
    return float(stats.f.sf(max(F, 0.0), 1, dof))


def rejects_shared_exponent(report, runs, level: float = 0.05) -> bool | None:
    """Whether the F test of :func:`shared_exponent_p` rejects alpha = beta at ``level``."""
    p = shared_exponent_p(report, runs)
    return None if p is None else p < level


def decade_holdout(runs):
    """Candidate (3)'s split (docs/fit.md): every budget above C_max / 10 held out (whole budgets, so the
    fitted runs end at C_max / 10 or below and the held-out ones reach 10x beyond them), at most the budgets
    nearest half the runs, at least the default cut's runs. A ``flops>=`` Holdout on the budgets."""
    x = budget_flops(runs)
    out = x > x.max() / 10.0 * (1 + 1e-9)
    if out.sum() > len(x) / 2:
        out = Holdout(share=0.5).mask(runs)
    default = Holdout().mask(runs)
    if out.sum() < default.sum():
        out = default
    return Holdout(value=float(x[out].min()))


def decade_backtests(report, runs) -> dict:
    """Candidate (3)'s backtest table: the forms auto backtested, each fitted below the decade cut (the
    default table when the two cuts hold out the same runs); a form the split cannot fit is skipped."""
    bts = report.backtests
    hold = decade_holdout(runs)
    held = {str(i) for i in np.asarray(runs.run_id)[hold.mask(runs)]}
    if held == {r.run_id for r in next(iter(bts.values())).rows}:
        return bts
    out = {}
    for form in bts:  # auto's order, simplest first
        try:
            out[form] = backtest(runs, form, holdout=hold)
        except InvalidInputError:
            pass
    return out


def bootstrap_rejects(report, runs, n_boot: int = 200, level: float = 0.95) -> bool | None:
    """Candidate (4)'s test: the chinchilla form refitted (its Huber objective) on ``n_boot`` bootstrap
    resamples of the backtest's training runs; True when 0 lies outside the ``level`` percentile interval
    of alpha - beta. None when the chinchilla form was not backtested."""
    bts = report.backtests
    if "shared-exponent" not in bts or "chinchilla" not in bts:
        return None
    held_out = {r.run_id for r in bts["chinchilla"].rows}
    train = runs.subset(np.array([str(i) not in held_out for i in runs.run_id])).fresh_only()
    fit = fit_form(train, "chinchilla")
    boot = bootstrap_parametric(train, fit, resampling=Resampling(n_boot=n_boot, level=level))
    diff = boot.samples["alpha"] - boot.samples["beta"]
    lo, hi = np.nanpercentile(diff, [50 * (1 - level), 50 * (1 + level)])
    return bool(lo > 0 or hi < 0)


def one_se_rule(bts) -> str:
    """The one-SE rule alone, as the candidates (1)-(5) were measured on it: the library's ``choose_form``
    adds candidate (5)'s exceptions since 12480a3, which would change what these candidates are."""
    return _one_se(bts, min(bts, key=lambda f: bts[f].mean_abs_error))[0]


def nesting_choice(bts, rejects: bool | None) -> str:
    """Candidate (4)'s pick: the one-SE rule; when alpha = beta is rejected, the shared exponent only if
    its held-out error is the lowest outright, else the one-SE rule with the chinchilla form first."""
    lowest = min(bts, key=lambda f: bts[f].mean_abs_error)
    if not rejects or lowest == "shared-exponent":
        return one_se_rule(bts)
    order = ["chinchilla", *(f for f in bts if f not in ("chinchilla", "shared-exponent"))]
    return one_se_rule({f: bts[f] for f in order if f in bts})


def kaplan_outright_choice(bts, rejects: bool | None) -> str:
    """Candidate (5)'s pick: (4)'s; when that is the Kaplan form by a tie (its held-out error not the lowest
    outright), (4)'s rule with the same verdict over the other forms (the Kaplan form is not nested in the
    chinchilla form, so it gets no benefit of the doubt)."""
    pick = nesting_choice(bts, rejects)
    lowest = min(bts, key=lambda f: bts[f].mean_abs_error)
    if pick != "kaplan" or lowest == "kaplan":
        return pick
    return nesting_choice({f: b for f, b in bts.items() if f != "kaplan"}, rejects)


def candidate_forms(report, runs, rules=CANDIDATE_RULES) -> dict[str, str]:
    """The form each selection rule picks: ``auto`` the library's rule (the one-SE rule until commit
    ca47882, candidate (5) since: docs/fit.md); from the backtest table auto already
    computed, ``lowest`` candidate (2), the lowest mean |error|, and ``ftest`` candidate (1), the one-SE
    rule with the shared exponent's tie vetoed when the F test rejects alpha = beta; ``decade`` candidate
    (3), the one-SE rule on the one-decade split, ``decade_lowest`` (3b) its lowest mean |error|; ``btest``
    candidate (4), the bootstrap test's rejection handing the tie to the chinchilla form; ``btest_kaplan``
    candidate (5), (4) with the Kaplan form chosen only when its error is the lowest outright. A rule not
    in ``rules`` is not computed (its pick is auto's)."""
    bts = report.backtests
    if not bts:
        same = dict.fromkeys(RULES, report.form)
        return {**same, "rejects": "None", "boot_rejects": "None"}
    lowest = min(bts, key=lambda f: bts[f].mean_abs_error)
    ftest, rejects = report.form, rejects_shared_exponent(report, runs)
    if rejects and lowest != "shared-exponent":
        ftest = one_se_rule({f: b for f, b in bts.items() if f != "shared-exponent"})
    decade = decade_backtests(report, runs) if {"decade", "decade_lowest"} & set(rules) else {}
    boot = {"btest", "btest_kaplan"} & set(rules)
    boot_rejects = bootstrap_rejects(report, runs) if boot else None
    return {
        "auto": report.form,
        "lowest": lowest,
        "ftest": ftest,
        "decade": one_se_rule(decade) if decade else report.form,
        "decade_lowest": min(decade, key=lambda f: decade[f].mean_abs_error)
        if decade
        else report.form,
        "btest": nesting_choice(bts, boot_rejects),
        "btest_kaplan": kaplan_outright_choice(bts, boot_rejects)
        if "btest_kaplan" in rules
        else report.form,
        "rejects": str(rejects),
        "boot_rejects": str(boot_rejects),
    }


def true_loss(law, N, D, U):
    return law.loss(N, D) if U is None else law.loss(N, D, np.minimum(U, D))


def queries(law, shape, N, D, rng, k: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """k new (N, D) per distance: inside (drawn as the table's runs are), or at 3x / 10x its compute."""
    out = {}
    top = float((6.0 * N * D).max())
    for name, factor in DISTANCES.items():
        if factor is None:
            if shape == "isoflop":
                C = rng.choice(np.asarray(BUDGETS), k)
            else:
                C = 10.0 ** rng.uniform(math.log10(BUDGETS[0]), math.log10(BUDGETS[-1]), k)
            out[name] = sizes(law, C, rng.uniform(-SPREAD, SPREAD, k))
        else:
            out[name] = sizes(law, np.full(k, top * factor), rng.uniform(-0.5, 0.5, k))
    return out


def residual_scale(report, runs, U) -> float:
    """sqrt(sum r^2 / (n - p)) of the chosen law's log residuals on the runs it was fitted on."""
    law = report.law
    fresh = hasattr(law, "R_D_star") is False
    use = runs.fresh_only() if fresh else runs
    pred = (
        law.loss(use.n_params, use.n_tokens)
        if fresh
        else true_loss(law, use.n_params, use.n_tokens, U)
    )
    r = np.log(pred / use.loss)
    return float(math.sqrt((r**2).sum() / max(1, len(r) - n_free(report.form))))


def _offsets(center, iv):
    """(lower, upper) log half-widths of an interval around ``center`` (0 for none)."""
    if iv is None:
        return 0.0, 0.0
    return math.log(center / iv[0]), math.log(iv[1] / center)


def intervals(law, laws, N, D, U, level, s, z) -> tuple[float, dict[str, tuple[float, float]]]:
    """(point prediction, {candidate: (lo, hi)}) at one query for one level."""
    kw = {} if U is None else {"unique_tokens": U}
    preds = {name: one.predict(N, D, interval=level, **kw) for name, one in laws.items()}
    center = preds["added"].loss
    b = _offsets(center, preds["boot"].interval)
    c = _offsets(center, preds["conf"].interval)
    e = z * s
    out = {name: p.interval for name, p in preds.items()}
    out["quad"] = (
        center * math.exp(-math.hypot(b[0], c[0])),
        center * math.exp(math.hypot(b[1], c[1])),
    )
    out["max"] = (center * math.exp(-max(b[0], c[0])), center * math.exp(max(b[1], c[1])))
    out["boot+s"] = (
        center * math.exp(-math.hypot(b[0], e)),
        center * math.exp(math.hypot(b[1], e)),
    )
    if (
        preds["added"].interval is not None
        and law.uncertainty.residuals
        and len(law.uncertainty.draws)
    ):
        a = _offsets(center, preds["added"].interval)  # the library's sum, rebuilt from its parts
        assert abs(a[0] - b[0] - c[0]) < 1e-9 and abs(a[1] - b[1] - c[1]) < 1e-9, (a, b, c)
    return center, out


def variants(law) -> dict:
    """The library's three intervals of one fitted law: as saved, without draws, without held-out errors."""
    unc = law.uncertainty
    no_draws = replace(unc, draws=np.zeros((0, len(unc.names))))
    no_resid = replace(unc, residuals=(), residual_decades=())
    return {
        "added": law,
        "conf": replace(law, uncertainty=no_draws),
        "boot": replace(law, uncertainty=no_resid),
    }


def one_table(task) -> dict:
    """Simulate, fit and score one table: {"rows": [(distance, level, candidate, inside, width)], ...}."""
    law_set, law_name, noise, shape, rep, k, seed0, rules = task
    laws = LAW_SETS[law_set]
    seed = [list(laws).index(law_name), NOISE.index(noise), SHAPES.index(shape), rep]
    rng = np.random.default_rng([*seed, seed0] if seed0 else seed)
    truth = laws[law_name]
    U = unique_cap(truth)
    N, D, budget = table(truth, shape, rng)
    L = true_loss(truth, N, D, U) * np.exp(noise * rng.standard_normal(len(N)))
    runs = runs_from_arrays(
        N,
        L,
        n_tokens=D,
        flops_budget=budget,
        unique_tokens=None if U is None else np.full(len(N), U),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = run_fit(runs, FitOptions())
    law = report.law
    if law.uncertainty is None:
        return {"rows": [], "form": report.form, "kind": "none"}
    laws = variants(
        law
    )  # the fitted law's three intervals (the generating laws are not needed below)
    s = residual_scale(report, runs, U)
    own = true_form_law(report, runs, true_form(truth))
    picks = candidate_forms(report, runs, rules)
    fitted = {report.form: law, true_form(truth): own}
    for form in (picks[rule] for rule in RULES):  # a refit only when a candidate picks another form
        if form not in fitted:
            fitted[form] = true_form_law(report, runs, form)
    kw = {} if U is None else {"unique_tokens": U}
    rows, errors = [], []
    for dist, (qN, qD) in queries(truth, shape, N, D, rng, k).items():
        for n, d in zip(qN, qD):
            mu = float(true_loss(truth, n, d, U))
            new = mu * math.exp(noise * rng.standard_normal())
            err = {
                f: abs(one.predict(float(n), float(d), **kw).loss / mu - 1.0)
                for f, one in fitted.items()
            }
            # columns: distance, the one-SE rule, the true form, then the candidates (RULES)
            errors.append(
                (
                    dist,
                    err[report.form],
                    err[true_form(truth)],
                    *(err[picks[r]] for r in CANDIDATE_RULES),
                )
            )
            for level in LEVELS:
                z = statistics.NormalDist().inv_cdf(0.5 + level / 2)
                center, ivs = intervals(law, laws, float(n), float(d), U, level, s, z)
                for cand, iv in ivs.items():
                    if iv is None:
                        continue
                    rows.append(
                        (
                            dist,
                            level,
                            cand,
                            iv[0] <= new <= iv[1],
                            iv[0] <= mu <= iv[1],
                            (iv[1] - iv[0]) / center,
                        )
                    )
    return {
        "rows": rows,
        "errors": errors,
        "form": report.form,
        "picks": picks,
        "true_form": true_form(truth),
        "kind": law.uncertainty.kind,
        "key": (law_name, noise, shape, rep),
    }


def aggregate(results, k: int) -> dict:
    """{(law, noise, shape, dist, level, cand): (coverage new, se, coverage true, median width, n tables)}"""
    per: dict = {}
    for res in results:
        key = res.get("key")
        for dist, level, cand, inside, inside_true, width in res["rows"]:
            cell = per.setdefault((*key[:3], dist, level, cand), {})
            cell.setdefault(key[3], []).append((inside, inside_true, width))
    out = {}
    for cell, tables in per.items():
        cov = [np.mean([r[0] for r in rows]) for rows in tables.values()]
        true = [r[1] for rows in tables.values() for r in rows]
        widths = [r[2] for rows in tables.values() for r in rows]
        se = float(np.std(cov, ddof=1) / math.sqrt(len(cov))) if len(cov) > 1 else math.nan
        out[cell] = (
            float(np.mean(cov)),
            se,
            float(np.mean(true)),
            float(np.median(widths)),
            len(cov),
        )
    return out


def cells(agg) -> list[tuple]:
    """(law, noise, shape, dist) of every measured cell, in the order of the settings."""
    keys = {c[:4] for c in agg}
    names = [*LAWS, *FRESH]
    order = [(lw, nz, sh, d) for lw in names for nz in NOISE for sh in SHAPES for d in DISTANCES]
    return [c for c in order if c in keys]


def decide(agg, base: str, cands: tuple[str, ...]) -> list[str]:
    """docs/fit.md's rule (R1-R3) for ``cands`` against ``base``; lines to print, the verdict last."""
    allc = cells(agg)
    decide_on = [c for c in allc if c[0] != "hoffmann2022"]

    def cov(c, cand, level):
        return agg[(*c, level, cand)][0]

    def in_band(cand):
        return sum(0.75 <= cov(c, cand, 0.8) <= 0.85 for c in decide_on)

    def floor_misses(cand, level, floor):
        return [
            c for c in allc
            if cov(c, cand, level) < floor
            and not (cov(c, base, level) < floor and cov(c, cand, level) >= cov(c, base, level) - 0.05)
        ]  # fmt: skip

    def miss(c, cand, level):
        a, b = agg[(*c, level, cand)], agg[(*c, level, base)]
        return f"{a[0]:.0%} +- {a[1]:.0%} (base {b[0]:.0%} +- {b[1]:.0%}; +- one standard error over tables)"

    lines = [
        f"rule (docs/fit.md), base {base}: in [75%, 85%] at 80% in {in_band(base)} of {len(decide_on)} cells"
    ]
    passed = []
    for cand in cands:
        r2, r3 = floor_misses(cand, 0.8, 0.70), floor_misses(cand, 0.95, 0.85)
        n = in_band(cand)
        ok = n > in_band(base) and not r2 and not r3
        low = min(cov(c, cand, 0.8) for c in allc)
        lines.append(
            f"  {cand:7s} in band {n:3d}/{len(decide_on)}  R1 {'ok' if n > in_band(base) else 'no'}  "
            f"R2 misses {len(r2):2d}  R3 misses {len(r3):2d}  lowest 80% coverage {low:.0%}  "
            f"-> {'passes' if ok else 'fails'}"
        )
        lines += [f"      R2: {c} {miss(c, cand, 0.8)}" for c in r2[:6]]
        lines += [f"      R3: {c} {miss(c, cand, 0.95)}" for c in r3[:6]]
        if ok:
            passed.append((n, low, cand))
    if not passed:
        return [*lines, f"verdict: no candidate passes; {base} stays"]
    passed.sort(reverse=True)
    best = [p for p in passed if p[0] >= passed[0][0] - 2]
    winner = max(best, key=lambda p: p[1])[2]
    return [*lines, f"verdict: {winner} replaces {base}"]


def print_table(agg) -> None:
    """One line per cell: coverage of a new run's loss at 80% (ratio to nominal), at 95%, median width."""
    head = "".join(f"{c:>17s}" for c in CANDIDATES)
    print(f"{'law':16s} {'noise':>6s} {'shape':8s} {'dist':6s}{head}   (cov80 / cov95 / width80)")
    for c in cells(agg):
        parts = []
        for cand in CANDIDATES:
            a, b = agg.get((*c, 0.8, cand)), agg.get((*c, 0.95, cand))
            parts.append(
                "-".rjust(17) if a is None else f"{a[0]:5.0%}/{b[0]:4.0%}/{a[3]:5.2%}".rjust(17)
            )
        print(f"{c[0]:16s} {c[1]:6.2%} {c[2]:8s} {c[3]:6s}" + "".join(parts))


def print_summary(agg) -> None:
    """Per candidate and distance: mean coverage (ratio to nominal) and median width ratio to ``added``."""
    print("\nsummary over cells (mean coverage of a new run's loss; ratio = coverage / nominal;")
    print(
        "width = median over cells of the median width / added's; true = mean coverage of the noise-free loss)"
    )
    for level in LEVELS:
        for cand in CANDIDATES:
            line = []
            for dist in DISTANCES:
                cs = [c for c in cells(agg) if c[3] == dist and (*c, level, cand) in agg]
                if not cs:
                    continue
                cov = np.mean([agg[(*c, level, cand)][0] for c in cs])
                true = np.mean([agg[(*c, level, cand)][2] for c in cs])
                w = np.median(
                    [agg[(*c, level, cand)][3] / agg[(*c, level, "added")][3] for c in cs]
                )
                line.append(
                    f"{dist} {cov:4.0%} (x{cov / level:.2f}, true {true:4.0%}, width x{w:.2f})"
                )
            print(f"  {level:.0%} {cand:7s} " + "  ".join(line))
    se = [v[1] for k, v in agg.items() if k[4] == 0.8 and math.isfinite(v[1])]
    if se:
        print(
            f"a cell's coverage at 80%: standard error over tables {np.median(se):.1%} (median over cells)"
        )


def _paired(tables, dist, col: int = 1, base: int = 2) -> tuple[float, float, float, float]:
    """(the rule's mean error, the base's, mean difference, its standard error) over ``tables``; column
    ``col`` of the errors is the rule's (1 auto), ``base`` the one it is paired against (2 the true form)."""
    a = [np.mean([e[col] for e in t["errors"] if e[0] == dist]) for t in tables]
    b = [np.mean([e[base] for e in t["errors"] if e[0] == dist]) for t in tables]
    d = np.subtract(a, b)
    se = float(np.std(d, ddof=1) / math.sqrt(len(d))) if len(d) > 1 else math.nan
    return float(np.mean(a)), float(np.mean(b)), float(np.mean(d)), se


def _pooled(tabs, col: int, base: int) -> tuple[float, float]:
    """(mean difference, its standard error) of column ``col`` minus ``base`` over a law's cells: one
    difference per table and distance (3x, 10x), as print_forms pools them."""
    diffs = [
        np.mean([e[col] - e[base] for e in t["errors"] if e[0] == dist])
        for t in tabs
        for dist in ("3x", "10x")
    ]
    if len(diffs) < 2:
        return math.nan, math.nan
    return float(np.mean(diffs)), float(np.std(diffs, ddof=1) / math.sqrt(len(diffs)))


def print_forms(results, rule: str = "auto") -> tuple[int, int]:
    """docs/fit.md's defect rule (D1, D2) for a selection rule: its error at 3x / 10x against the law
    fitted in the generating form, paired by table; the rule counts the laws with alpha != beta (form
    chinchilla), and the others are printed for comparison (with, for a candidate, its difference from
    the one-SE rule). Returns (laws failing D1, cells worse by > 2 SE, {law of NOT_WORSE: its pooled
    difference from the one-SE rule and its SE}, the mean error over the alpha != beta laws' cells)."""
    col = RULES[rule]
    print(
        f"\n{RULE_NAMES[rule]} against the generating form (|predicted / noise-free loss - 1| at 3x, 10x)"
    )
    d1s, d2, n_cells, not_worse, own = 0, 0, 0, {}, []
    for name in sorted({r["key"][0] for r in results}):
        tabs = [r for r in results if r["key"][0] == name and r.get("errors")]
        form = tabs[0]["true_form"] if tabs else "?"
        picked = [t["picks"][rule] for t in tabs]
        chosen = ", ".join(f"{f} {picked.count(f)}" for f in sorted(set(picked)))
        rej = sum(t["picks"]["rejects"] == "True" for t in tabs)
        brej = sum(t["picks"]["boot_rejects"] == "True" for t in tabs)
        print(
            f"  {name} (form {form}; {rule} chose {chosen}; alpha = beta rejected by the F test in "
            f"{rej}, by the bootstrap test in {brej})"
        )
        for nz in NOISE:
            for sh in SHAPES:
                cell = [t for t in tabs if t["key"][1] == nz and t["key"][2] == sh]
                for dist in ("3x", "10x"):
                    if not cell:
                        continue
                    a, b, d, se = _paired(cell, dist, col)
                    worse = d > 2 * se
                    if form == "chinchilla":  # the rule's laws: alpha != beta
                        n_cells += 1
                        d2 += worse
                        own.append(a)
                    print(
                        f"    {nz:6.2%} {sh:8s} {dist:4s} {rule} {a:.3%}  {form} {b:.3%}  "
                        f"diff {d:+.3%} +- {se:.3%}{'  WORSE' if worse else ''}"
                    )
        m, se = _pooled(tabs, col, 2)
        if math.isfinite(m):
            d1 = form == "chinchilla" and m > 2 * se and m >= 0.001
            d1s += d1
            print(f"    pooled: diff {m:+.3%} +- {se:.3%}{'  D1: DEFECT' if d1 else ''}")
        if rule != "auto" and tabs:
            m, se = _pooled(tabs, col, RULES["auto"])
            print(f"    pooled against the one-SE rule: {rule} minus auto {m:+.3%} +- {se:.3%}")
            if name in NOT_WORSE:
                not_worse[name] = (m, se)
    print(f"  D2: {rule} worse by > 2 SE in {d2} of {n_cells} cells (defect if more than 3)")
    return d1s, d2, not_worse, float(np.mean(own)) if own else math.nan


def print_replacement(verdicts) -> None:
    """docs/fit.md's replacement rule on the simulated tables (the real-data part is checked by hand)."""
    print("\nreplacement rule (docs/fit.md), simulated part:")
    for rule, (d1s, d2, nw, err) in verdicts.items():
        mu_ok = not any(m > 2 * se for m, se in nw.values())
        ok = d1s == 0 and d2 <= 3 and mu_ok
        mu_txt = ", ".join(f"{n} {m:+.3%} +- {se:.3%}" for n, (m, se) in nw.items()) or "-"
        print(
            f"  {rule:13s} D1 laws {d1s}  D2 cells {d2}  minus auto: {mu_txt} "
            f"({'ok' if mu_ok else 'worse'}); mean error over the alpha != beta laws' cells {err:.3%}"
            + ("" if rule == "auto" else f" -> {'passes' if ok else 'fails'}")
        )


def _jsonable(obj):
    """numpy values and arrays (and anything else) as JSON for --save."""
    return obj.tolist() if hasattr(obj, "tolist") else str(obj)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--repeats", type=int, default=3, help="tables per (law, noise, shape); decision: 30"
    )
    ap.add_argument("--points", type=int, default=8, help="new runs per distance per table")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--law-set", choices=list(LAW_SETS), default="paper")
    ap.add_argument("--laws", default=None, help="a comma-separated subset of the set's laws")
    ap.add_argument(
        "--seed", type=int, default=0, help="0: the decision run's tables; another: fresh ones"
    )
    ap.add_argument("--noise", default=",".join(str(n) for n in NOISE))
    ap.add_argument(
        "--save", default=None, help="write the per-table results here as JSON (for re-analysis)"
    )
    ap.add_argument(
        "--rules", default=",".join(CANDIDATE_RULES), help="the --form auto candidates to score"
    )
    args = ap.parse_args(argv)
    rules = tuple(r for r in args.rules.split(",") if r)
    if not set(rules) <= set(CANDIDATE_RULES):
        ap.error(f"--rules: choose from {', '.join(CANDIDATE_RULES)}")
    laws = args.laws.split(",") if args.laws else list(LAW_SETS[args.law_set])
    noise = [float(n) for n in args.noise.split(",")]
    tasks = [
        (args.law_set, lw, nz, sh, r, args.points, args.seed, rules)
        for lw in laws
        for nz in noise
        for sh in SHAPES
        for r in range(args.repeats)
    ]
    t0 = time.perf_counter()
    results = []
    with Pool(args.workers) as pool:
        for i, res in enumerate(pool.imap_unordered(one_table, tasks), 1):
            results.append(res)
            if i % 10 == 0 or i == len(tasks):
                print(
                    f"  {i}/{len(tasks)} tables, {time.perf_counter() - t0:.0f} s",
                    file=os.sys.stderr,
                )
    print(
        f"{len(tasks)} tables ({args.repeats} per law x noise x shape), {args.points} new runs per distance, "
        f"{time.perf_counter() - t0:.0f} s wall; forms chosen: "
        + ", ".join(
            f"{f} {sum(r['form'] == f for r in results)}"
            for f in sorted({r["form"] for r in results})
        )
        + "; interval kinds: "
        + ", ".join(
            f"{k} {sum(r['kind'] == k for r in results)}"
            for k in sorted({r["kind"] for r in results})
        )
    )
    if args.save:  # JSON, not pickle: a results file must never run code when it is read back
        Path(args.save).write_text(json.dumps(results, default=_jsonable))
    agg = aggregate([r for r in results if r["rows"]], args.points)
    print_table(agg)
    print_summary(agg)
    scored = [r for r in results if r.get("errors")]
    verdicts = {rule: print_forms(scored, rule) for rule in ("auto", *rules)}
    print_replacement(verdicts)
    print()
    if args.law_set == "fresh":  # the second look (docs/fit.md): candidate (C) alone
        print("\n".join(decide(agg, "added", ("quad",))))
        return 0
    print("\n".join(decide(agg, "added", ("conf", "quad", "max"))))
    print("\n".join(decide(agg, "boot", ("boot+s",))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
