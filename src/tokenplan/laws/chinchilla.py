"""Chinchilla (Hoffmann et al. 2022): the parametric law of Approach 3 and the power-law allocations of
Approaches 1 and 2.

Parametric law (eq. 2):      L(N, D) = E + A / N^alpha + B / D^beta
Efficient frontier (eq. 4):  under C = 6 N D,
                             G = (alpha A / (beta B))^(1 / (alpha + beta)),
                             N_opt(C) = G (C/6)^a,  D_opt(C) = G^-1 (C/6)^b,
                             a = beta / (alpha + beta),  b = alpha / (alpha + beta).
N counts all parameters (embeddings included), the Chinchilla convention.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from tokenplan.flops import FLOPS_PER_PARAM_TOKEN
from tokenplan.laws.base import Allocation, Law, as_array, as_sizes

__all__ = ["ChinchillaLaw", "PowerLawAllocation"]


@dataclass(frozen=True, kw_only=True)
class ChinchillaLaw(Law):
    """L(N, D) = E + A/N^alpha + B/D^beta (Hoffmann et al. 2022, eq. 2)."""

    E: float
    A: float
    B: float
    alpha: float
    beta: float

    # A parametric fit can return alpha or beta <= 0 (with a warning): checked finite only (Law.any_sign)
    any_sign: ClassVar[tuple[str, ...]] = ("alpha", "beta")

    def loss(self, n_params, n_tokens):
        """Predicted loss (nats/token) of a model with ``n_params`` trained on ``n_tokens`` (eq. 2)."""
        N, D = as_sizes(n_params, n_tokens)
        return self.E + self.A / np.power(N, self.alpha) + self.B / np.power(D, self.beta)

    @property
    def irreducible_loss(self) -> float:
        return self.E

    @property
    def has_optimum(self) -> bool:
        """Whether eq. 4 has a compute-optimal allocation: it needs alpha > 0 and beta > 0. A fit can
        return a non-positive exponent (the runs do not pin that term down, with a warning); then the loss
        does not fall with N (or D) and G would be NaN, or complex in Python's float power."""
        return self.alpha > 0 and self.beta > 0

    @property
    def G(self) -> float:
        """G = (alpha A / (beta B))^(1/(alpha+beta)) (eq. 4); NaN without an optimum (:attr:`has_optimum`)."""
        if not self.has_optimum:
            return math.nan
        return (self.alpha * self.A / (self.beta * self.B)) ** (1.0 / (self.alpha + self.beta))

    @property
    def no_optimum_reason(self) -> str:
        return (
            f"its alpha={self.alpha:.3g}, beta={self.beta:.3g}, and eq. 4 needs both > 0 (a fit's "
            "non-positive exponent means its runs do not pin that term down)"
        )

    @property
    def exponents(self) -> tuple[float, float]:
        """(a, b) = (beta, alpha) / (alpha + beta) (eq. 4); NaN without an optimum (alpha = -beta divided
        by zero, and a negative exponent gives a meaningless a > 1)."""
        if not self.has_optimum:
            return math.nan, math.nan
        s = self.alpha + self.beta
        return self.beta / s, self.alpha / s

    def optimal(self, flops: float) -> Allocation:
        """Compute-optimal (N, D) for ``flops`` under C = 6ND (eq. 4); NaN N, D and loss for a law without
        an optimum (:attr:`has_optimum`), as a fit's bootstrap marks such a draw, so that a page or table
        shows "-" and ``plan`` says the law has no usable plan."""
        C = as_array("flops", flops)
        if np.ndim(self.alpha) or np.ndim(self.beta):
            return self._optimal_of_draws(C)
        if not self.has_optimum:
            nan = C * math.nan
            return Allocation(self.name, C, nan, nan, nan, self.param_convention)
        a, b = self.exponents
        N = self.G * (C / FLOPS_PER_PARAM_TOKEN) ** a
        D = (C / FLOPS_PER_PARAM_TOKEN) ** b / self.G
        return Allocation(self.name, C, N, D, self.loss(N, D), self.param_convention)

    def _optimal_of_draws(self, C) -> Allocation:
        """:meth:`optimal` of a law whose constants are arrays, one element per bootstrap draw (the one
        vectorised call of ``Uncertainty.draw_values``): eq. 4 elementwise, NaN for the draws without an
        optimum, as one call per draw gives (:attr:`has_optimum` is one bool and cannot say which)."""
        ok = (np.asarray(self.alpha) > 0) & (np.asarray(self.beta) > 0)
        alpha, beta = np.where(ok, self.alpha, np.nan), np.where(ok, self.beta, np.nan)
        s = alpha + beta
        G = (alpha * self.A / (beta * self.B)) ** (1.0 / s)
        N = G * (C / FLOPS_PER_PARAM_TOKEN) ** (beta / s)
        D = (C / FLOPS_PER_PARAM_TOKEN) ** (alpha / s) / G
        loss = self.loss(np.where(ok, N, 1.0), np.where(ok, D, 1.0))  # 1.0: a placeholder, masked
        return Allocation(self.name, C, N, D, np.where(ok, loss, np.nan), self.param_convention)

    def tokens_for_loss(self, n_params: float, loss: float) -> float:
        """Closed form of eq. 2 solved for D: D = (B / (l - E - A/N^alpha))^(1/beta); inf if unreachable."""
        room = loss - self.E - self.A / n_params**self.alpha
        return (self.B / room) ** (1.0 / self.beta) if room > 0 else math.inf

    def optimal_tokens(self, n_params: float) -> Allocation:
        """The compute-optimal tokens for ``n_params``: eq. 4 inverted, (C/6) = (N/G)^(1/a), D = (C/6)/N."""
        N = as_array("n_params", n_params)
        self.require_optimum("law")
        a, _ = self.exponents
        c6 = (N / self.G) ** (1.0 / a)
        return self._allocation(FLOPS_PER_PARAM_TOKEN * c6, N, c6 / N)

    def optimal_params(self, n_tokens: float) -> Allocation:
        """The compute-optimal model for ``n_tokens``: eq. 4 inverted, (C/6) = (D G)^(1/b), N = (C/6)/D."""
        D = as_array("n_tokens", n_tokens)
        self.require_optimum("law")
        _, b = self.exponents
        c6 = (D * self.G) ** (1.0 / b)
        return self._allocation(FLOPS_PER_PARAM_TOKEN * c6, c6 / D, D)


@dataclass(frozen=True, kw_only=True)
class PowerLawAllocation(Law):
    """N_opt(C) = k * C^a, D_opt(C) = C / (6 N_opt): Chinchilla Approaches 1 and 2 (and Kaplan-style fits).

    Predicts an allocation only, not a loss (those approaches fit the frontier, not L(N, D)).
    """

    k: float
    a: float

    # A fit through odd points can return any exponent: checked finite only (a law file: in (0, 1))
    any_sign: ClassVar[tuple[str, ...]] = ("a",)

    @property
    def exponents(self) -> tuple[float, float]:
        return self.a, 1.0 - self.a

    def optimal(self, flops: float) -> Allocation:
        """N_opt = k C^a and D_opt = C / (6 N_opt) at ``flops`` (Table 2's power laws, Approaches 1 and 2);
        no loss."""
        C = as_array("flops", flops)
        N = self.k * C**self.a
        return Allocation(
            self.name, C, N, C / (FLOPS_PER_PARAM_TOKEN * N), None, self.param_convention
        )

    def optimal_tokens(self, n_params: float) -> Allocation:
        """The compute-optimal tokens for ``n_params``: N_opt = k C^a (Table 2's power law) inverted."""
        N = as_array("n_params", n_params)
        C = (N / self.k) ** (1.0 / self.a)
        return self._allocation(C, N, C / (FLOPS_PER_PARAM_TOKEN * N))

    def optimal_params(self, n_tokens: float) -> Allocation:
        """The compute-optimal model for ``n_tokens``: D_opt = C / (6 k C^a) (Table 2's power law) inverted."""
        # D = C / (6 k C^a) = C^(1-a) / (6k)  =>  C = (6 k D)^(1/(1-a))
        D = as_array("n_tokens", n_tokens)
        C = (FLOPS_PER_PARAM_TOKEN * self.k * D) ** (1.0 / (1.0 - self.a))
        return self._allocation(C, C / (FLOPS_PER_PARAM_TOKEN * D), D)

    @classmethod
    def fit_points(cls, flops, n_params, **kwargs) -> PowerLawAllocation:
        """Least squares in log space of log N = log k + a log C through (C, N) points."""
        x = np.log(np.asarray(flops, dtype=float))
        y = np.log(np.asarray(n_params, dtype=float))
        a, logk = np.polyfit(x, y, 1)
        return cls(k=math.exp(logk), a=float(a), **kwargs)
