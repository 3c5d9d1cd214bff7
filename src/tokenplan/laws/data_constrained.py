"""Muennighoff et al. 2023, "Scaling Data-Constrained Language Models": the value of repeated tokens.

With U_D unique tokens seen for D total tokens (R_D = D/U_D - 1 repetitions):
    D' = U_D + U_D R_D* (1 - exp(-R_D / R_D*))                                     (eq. 5)
Excess parameters decay the same way, relative to U_N, the compute-optimal size for U_D:
    U_N = min(G (U_D G)^(beta/alpha), N),  R_N = max(N/U_N - 1, 0)
    N' = U_N + U_N R_N* (1 - exp(-R_N / R_N*))                                     (eq. 6)
and the loss is the Chinchilla form evaluated at N', D':  L = E + A/N'^alpha + B/D'^beta.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tokenplan._solve import golden_section
from tokenplan.flops import FLOPS_PER_PARAM_TOKEN
from tokenplan.laws import repetition
from tokenplan.laws.base import Allocation, as_array, pairable
from tokenplan.laws.chinchilla import ChinchillaLaw

__all__ = ["DataConstrainedAllocation", "DataConstrainedLaw"]


@dataclass(frozen=True, repr=False)
class DataConstrainedAllocation(Allocation):
    """An allocation that also knows the unique tokens, epochs and effective sizes."""

    unique_tokens: float = math.inf
    effective_tokens: float = math.nan
    effective_params: float = math.nan

    @property
    def epochs(self) -> float:
        """D / U: passes over the unique data, below 1 when the budget does not use all of it (as a plan's
        own ``epochs``); 1 (each token seen once) when the unique data is unlimited."""
        if math.isinf(self.unique_tokens):
            return 1.0
        return float(self.n_tokens / self.unique_tokens)

    @property
    def binding(self) -> bool:
        """Whether the unique data limits this optimum: it repeats them (``epochs`` > 1). With more unique
        tokens than the all-unique optimum trains on, the limit does not bind and this *is* that optimum
        (``plan --flops 1e22 --unique-tokens 500B``: 181B tokens, 0.36 epochs)."""
        return self.epochs > 1.0

    def to_dict(self):
        out = super().to_dict()
        out.update(
            unique_tokens=self.unique_tokens,
            epochs=self.epochs,
            effective_tokens=self.effective_tokens,
            effective_params=self.effective_params,
        )
        return out


@dataclass(frozen=True, kw_only=True)
class DataConstrainedLaw(ChinchillaLaw):
    """The Chinchilla form with effective data D' and effective parameters N' (Muennighoff et al. 2023,
    "Scaling Data-Constrained Language Models", eqs. 5-6; module docstring).

    ``R_D_star``: repetitions of the data after which a repeated token is worth 1/e of a fresh one (eq. 5);
    ``R_N_star``: the same for parameters beyond the compute-optimal size (eq. 6). The preset
    ``muennighoff2023`` holds the paper's C4 fit: R_D* = 15.387756, R_N* = 5.309743, alpha = beta.
    """

    R_D_star: float
    R_N_star: float

    def effective_tokens(self, n_tokens, unique_tokens):
        """D' (eq. 5): what ``n_tokens`` drawn from ``unique_tokens`` unique ones are worth as fresh data."""
        D = as_array("n_tokens", n_tokens)
        return repetition.effective_tokens(
            D, as_array("unique_tokens", unique_tokens), self.R_D_star
        )

    def unique_params(self, unique_tokens):
        """U_N of eq. 6: the compute-optimal model size for U_D tokens, G (U_D G)^(beta/alpha)."""
        U = as_array("unique_tokens", unique_tokens)
        return self.G * (U * self.G) ** (self.beta / self.alpha)

    def effective_params(self, n_params, unique_tokens):
        """N' (eq. 6): parameters beyond U_N decay in value like repeated tokens do."""
        N = as_array("n_params", n_params)
        U_N = np.minimum(self.unique_params(unique_tokens), N)
        R_N = np.maximum(N / U_N - 1.0, 0.0)
        n_eff = U_N + U_N * self.R_N_star * (1.0 - np.exp(-R_N / self.R_N_star))
        # Eq. 6 gives N' <= N exactly (1 - exp(-x) <= x), but rounded just above U_N it came out an ulp or
        # two above N (N'/N = 1.0000000000000002 at N = 1.000000000001 U_N): cap it, as D' is capped at D.
        return np.minimum(n_eff, N)

    def loss_floor(self, unique_tokens):
        """The loss no budget gets below with ``unique_tokens`` unique tokens: eqs. 5-6 at N, D -> infinity,
        where D' -> (1 + R_D*) U and N' -> (1 + R_N*) U_N, so L -> E + A/((1 + R_N*) U_N)^alpha
        + B/((1 + R_D*) U)^beta (``plan --flops 1e24 --unique-tokens 1B``: 2.7614, the loss of 1e22 FLOPs)."""
        U = as_array("unique_tokens", unique_tokens)
        n_max = (1.0 + self.R_N_star) * self.unique_params(U)
        return super().loss(n_max, (1.0 + self.R_D_star) * U)

    def loss(self, n_params, n_tokens, unique_tokens=None):
        """L(N', D') (eqs. 5-6); with ``unique_tokens=None`` the data is fresh and this is the base law."""
        if unique_tokens is None:
            return super().loss(n_params, n_tokens)
        U, D = as_array("unique_tokens", unique_tokens), as_array("n_tokens", n_tokens)
        pairable(n_params=n_params, n_tokens=D, unique_tokens=U)
        U = np.minimum(U, D)
        return super().loss(self.effective_params(n_params, U), self.effective_tokens(n_tokens, U))

    def allocate(self, flops, n_params, unique_tokens=None) -> DataConstrainedAllocation:
        """The allocation record for a given budget and model size (D = C / 6N; N', D' by eqs. 5-6)."""
        C = as_array("flops", flops)
        N = as_array("n_params", n_params)
        D = C / (FLOPS_PER_PARAM_TOKEN * N)
        U = math.inf if unique_tokens is None else as_array("unique_tokens", unique_tokens)
        U_D = min(U, D)
        return DataConstrainedAllocation(
            law=self.name,
            flops=C,
            n_params=N,
            n_tokens=D,
            loss=float(self.loss(N, D, U_D)),
            param_convention=self.param_convention,
            unique_tokens=U,
            effective_tokens=float(self.effective_tokens(D, U_D)),
            effective_params=float(self.effective_params(N, U_D)),
        )

    def optimal_constrained(
        self, flops: float, unique_tokens: float | None
    ) -> DataConstrainedAllocation:
        """The data-constrained optimum: the N (with D = C/6N) minimising L(N', D') for this budget.

        With enough unique data this is the Chinchilla optimum of the base law; when data is short it trades
        extra epochs against a bigger model (Muennighoff et al. 2023, sec. 5).
        """
        C = as_array("flops", flops)
        if unique_tokens is None:
            return self.allocate(C, self.optimal(C).n_params)
        U = as_array("unique_tokens", unique_tokens)
        n0 = float(self.optimal(C).n_params)

        def objective(log_n: float) -> float:
            N = math.exp(log_n)
            D = C / (FLOPS_PER_PARAM_TOKEN * N)
            return float(self.loss(N, D, min(U, D)))

        log_n = golden_section(objective, math.log(n0) - 7.0, math.log(n0) + 7.0)
        return self.allocate(C, math.exp(log_n), U)
