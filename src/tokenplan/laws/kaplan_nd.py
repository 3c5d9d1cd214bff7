"""Kaplan et al. 2020's joint form L(N, D) (eq. 1.5) as a law of its own, for fits to your runs.

    L(N, D) = [ (N_c / N)^(alpha_N / alpha_D) + D_c / D ]^alpha_D                      (Kaplan 2020, eq. 1.5)

The ``kaplan`` preset keeps the paper's published constants and its Table 6 allocation; this class is the
same formula with free constants, as ``tokenplan fit --form kaplan`` fits it. It has no irreducible term.
Its compute-optimal allocation has a closed form (:meth:`KaplanNDLaw.optimal`).
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenplan.laws.base import FLOPS_PER_PARAM_TOKEN, Allocation, Law, as_array, as_sizes

__all__ = ["KaplanNDLaw"]


@dataclass(frozen=True, kw_only=True)
class KaplanNDLaw(Law):
    """L(N, D) = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D (Kaplan et al. 2020, eq. 1.5)."""

    N_c: float
    D_c: float
    alpha_N: float
    alpha_D: float

    def loss(self, n_params, n_tokens):
        """L(N, D) = ((N_c/N)^(alpha_N/alpha_D) + D_c/D)^alpha_D (Kaplan et al. 2020, eq. 1.5)."""
        N, D = as_sizes(n_params, n_tokens)
        return ((self.N_c / N) ** (self.alpha_N / self.alpha_D) + self.D_c / D) ** self.alpha_D

    @property
    def exponents(self) -> tuple[float, float]:
        """(a, b) with N_opt ∝ C^a: a = alpha_D / (alpha_N + alpha_D) (see :meth:`optimal`)."""
        a = self.alpha_D / (self.alpha_N + self.alpha_D)
        return a, 1.0 - a

    def optimal(self, flops) -> Allocation:
        """The N minimising eq. 1.5's L(N, C/6N) (Kaplan et al. 2020). With r = alpha_N/alpha_D the
        bracket (N_c/N)^r + D_c N/(C/6) is smallest where r N_c^r N^-(r+1) = D_c/(C/6), i.e.
        N_opt = (r N_c^r (C/6) / D_c)^(1/(r+1))."""
        C = as_array("flops", flops)
        c6 = C / FLOPS_PER_PARAM_TOKEN
        r = self.alpha_N / self.alpha_D
        N = (r * self.N_c**r * c6 / self.D_c) ** (1.0 / (r + 1.0))
        return Allocation(self.name, C, N, c6 / N, self.loss(N, c6 / N), self.param_convention)
