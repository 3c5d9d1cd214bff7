"""The functional forms ``tokenplan fit --form`` offers, and one way to fit each.

| form               | L(N, D)                                            | free | fitter                        |
|--------------------|----------------------------------------------------|------|-------------------------------|
| ``shared-exponent``| E + A/N^alpha + B/D^alpha (alpha = beta)           | 4    | batched L-M, paper grid       |
| ``kaplan``         | [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D         | 4    | L-BFGS-B, small grid          |
| ``chinchilla``     | E + A/N^alpha + B/D^beta                           | 5    | batched L-M, paper grid       |
| ``data-constrained``| Chinchilla form at N', D' (Muennighoff 2023 eqs 5-6)| 7   | base on fresh runs, then R*   |

Sources: Hoffmann et al. 2022 eq. 2 (chinchilla); Muennighoff et al. 2023, Gadre et al. 2024 and Epoch's
variant fit alpha = beta (shared-exponent); Kaplan et al. 2020 eq. 1.5 (kaplan). Every form is fitted with
the same objective: the sum over runs of Huber(delta) on log L. The order of :data:`FORMS` is simplest first
(fewest free parameters); ``--form auto`` breaks ties towards the simpler form.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tokenplan._record import record
from tokenplan.errors import InvalidInputError
from tokenplan.fit import choices
from tokenplan.fit._threads import one_blas_thread
from tokenplan.fit.parametric import huber
from tokenplan.fit.result import HuberFit, fitted_law_fields
from tokenplan.laws.kaplan_nd import KaplanNDLaw

if TYPE_CHECKING:
    from tokenplan.fit.data_constrained import DataConstrainedFit
    from tokenplan.fit.parametric import ParametricFit
    from tokenplan.laws.base import Law
    from tokenplan.runs import RunTable

__all__ = ["FORMS", "KaplanFit", "fit_form", "fit_kaplan", "n_free"]

FORMS = choices.FORMS  # simplest first: ties in --form auto go to the earlier entry
_N_FREE = {"shared-exponent": 4, "kaplan": 4, "chinchilla": 5, "data-constrained": 7}
#: the largest x whose exp(x) a float holds (exp(709.78) ~ 1.8e308)
_LOG_MAX = math.log(np.finfo(float).max)
# below this log a scale is not a normal float (exp underflows towards 0; a law refuses N_c = 0)
_LOG_TINY = math.log(np.finfo(float).tiny)


def n_free(form: str) -> int:
    """The number of free parameters of ``form``."""
    return _N_FREE[form]


@dataclass(frozen=True, kw_only=True)
class KaplanFit(HuberFit):
    """The result of :func:`fit_kaplan`."""

    approach = 3
    param_names = "N_c D_c alpha_N alpha_D"

    law: KaplanNDLaw

    def details(self) -> dict[str, Any]:
        return {
            "form": "kaplan",
            **record(self, "objective delta n_runs n_starts"),
        }


def _kaplan_objective(p, x, y, t, delta):
    """Sum of Huber(r) over runs and its gradient in (log N_c, log D_c, alpha_N, alpha_D), where
    r = alpha_D LSE(z1, z2) - log L, z1 = (alpha_N/alpha_D)(log N_c - log N), z2 = log D_c - log D."""
    lnc, ldc, an, ad = p
    z1 = (an / ad) * (lnc - x)
    z2 = ldc - y
    m = np.maximum(z1, z2)
    e1, e2 = np.exp(z1 - m), np.exp(z2 - m)
    lse = m + np.log(e1 + e2)
    p1, p2 = e1 / (e1 + e2), e2 / (e1 + e2)
    r = ad * lse - t
    f = float(huber(r, delta).sum())
    if not math.isfinite(f):
        return 1e6, np.zeros(4)
    w = np.clip(r, -delta, delta)  # Huber'(r)
    grad = np.array(
        [
            (w * an * p1).sum(),  # d r / d log N_c
            (w * ad * p2).sum(),  # d r / d log D_c
            (w * p1 * (lnc - x)).sum(),  # d r / d alpha_N
            (w * (lse - p1 * z1)).sum(),  # d r / d alpha_D
        ]
    )
    return f, grad


def _check_scales(p) -> None:
    """Refuse a Kaplan fit whose log N_c or log D_c left the floats: past e^709 exp overflows (the scale ran
    off to infinity, as when the loss does not fall with N or D), below e^-708 it is 0 (the term dropped)."""
    if max(p[0], p[1]) > _LOG_MAX:  # exp would overflow: the fit ran N_c or D_c off to infinity
        which = "N" if p[0] >= p[1] else "D"
        raise InvalidInputError(
            f"the kaplan form does not fit these runs: its scale {which}_c ran off to infinity "
            f"(e^{max(p[0], p[1]):.0f}), as when the loss does not fall with {which}; "
            "use another form (--form chinchilla or auto)."
        )
    if min(p[0], p[1]) < _LOG_TINY:  # exp would underflow to 0: the fit dropped that term
        which = "N" if p[0] <= p[1] else "D"
        raise InvalidInputError(
            f"the kaplan form does not fit these runs: its scale {which}_c ran off to zero "
            f"(e^{min(p[0], p[1]):.0f}), which drops the {which} term, as when the loss does not "
            f"depend on {which}; use another form (--form chinchilla or auto)."
        )


def fit_kaplan(runs: RunTable, *, delta: float = 1e-3, name: str = "fit-kaplan") -> KaplanFit:
    """Fit Kaplan's L(N, D) (eq. 1.5) by L-BFGS-B on the sum of Huber(log L_pred - log L) from a grid of
    starts over (log N_c, log D_c, alpha_N, alpha_D), keeping the best."""
    from scipy.optimize import minimize

    from tokenplan.runs import require_table

    require_table(runs)
    runs.require_points(4, "the kaplan form")
    x, y, t = np.log(runs.n_params), np.log(runs.n_tokens), np.log(runs.loss)

    # log N_c, log D_c around Kaplan's published 6.4e13 and 1.8e13 (e^31, e^30) and lower; exponents
    # around the published 0.076 / 0.103 and steeper.
    starts = [
        (lnc, ldc, an, ad)
        for lnc, ldc in itertools.product((20.0, 31.0), (20.0, 30.0))
        for an, ad in ((0.076, 0.103), (0.3, 0.3))
    ]
    best = (math.inf, None)
    with warnings.catch_warnings(), np.errstate(all="ignore"), one_blas_thread():
        warnings.simplefilter("ignore", RuntimeWarning)
        for s in starts:
            res = minimize(
                _kaplan_objective,
                np.array(s),
                args=(x, y, t, delta),
                jac=True,
                method="L-BFGS-B",
                bounds=[(None, None), (None, None), (1e-4, 5.0), (1e-4, 5.0)],
                options={"ftol": 1e-15, "gtol": 1e-11, "maxiter": 1000},
            )
            if res.fun < best[0]:
                best = (float(res.fun), res.x)
    f, p = best
    if p is None or not math.isfinite(f) or f >= 1e6:
        raise InvalidInputError("the kaplan form: no starting point gave a finite objective.")
    _check_scales(p)
    law = KaplanNDLaw(
        **fitted_law_fields(
            name, "Kaplan et al. 2020 eq. 1.5", runs, f"Kaplan L(N, D) fit on {len(runs)} runs"
        ),
        N_c=math.exp(p[0]),
        D_c=math.exp(p[1]),
        alpha_N=float(p[2]),
        alpha_D=float(p[3]),
    )
    resid = np.log(law.loss(runs.n_params, runs.n_tokens)) - t
    return KaplanFit(
        law=law, objective=f, delta=delta, n_runs=len(runs), n_starts=len(starts),
        log_residuals=resid,
    )  # fmt: skip


def fit_form(
    runs: RunTable, form: str, *, delta: float = 1e-3, **options: Any
) -> ParametricFit | KaplanFit | DataConstrainedFit:
    """Fit one form to ``runs`` (a result object with ``.law`` and ``.to_dict()``).

    ``options`` go to the form's fitter (``reduction``, ``overestimate_weight`` for the Chinchilla forms;
    ``base`` for the data-constrained form). Chinchilla-family forms use only the runs on fresh data.
    """
    from tokenplan.fit.parametric import fit_parametric
    from tokenplan.runs import require_table

    require_table(runs)
    if form in ("chinchilla", "shared-exponent"):
        return fit_parametric(
            runs.fresh_only(), delta=delta, alpha_equals_beta=form == "shared-exponent", **options
        )
    if form == "kaplan":
        return fit_kaplan(runs.fresh_only(), delta=delta)
    if form == "data-constrained":
        return _fit_dc_two_stage(runs, delta=delta, **options)
    raise InvalidInputError(
        f"unknown form {form!r}; valid forms: {', '.join(FORMS)}.", param="form"
    )


def _fit_dc_two_stage(
    runs: RunTable, *, delta: float, base: Law | None = None, fit_base: bool = False, **_
):
    """The data-constrained form on your runs: the base law (alpha = beta, as Muennighoff et al. 2023 fit
    it) on the fresh runs, then R_D*, R_N* on all runs with the base frozen. Refitting all seven parameters
    at once (``fit_base=True``) is ~40x slower and lands on the search bounds on the C4 runs."""
    from tokenplan.fit.data_constrained import fit_data_constrained
    from tokenplan.fit.parametric import fit_parametric

    if base is None and not fit_base:
        fresh = runs.fresh_only()
        if len(fresh) < 5:
            raise InvalidInputError(
                f"the data-constrained form needs >= 5 runs on fresh data to fit its base law; got "
                f"{len(fresh)}."
            )
        base = fit_parametric(fresh, delta=delta, alpha_equals_beta=True).law
    return fit_data_constrained(
        runs, base=base, fit_base=fit_base, delta=delta, check_outside=False
    )
