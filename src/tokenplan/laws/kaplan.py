"""Kaplan et al. 2020, "Scaling Laws for Neural Language Models".

N counts NON-EMBEDDING parameters (≈ 12 n_layer d_model^2), C ≈ 6 N B S, and compute in the paper's fits is
in PF-days (1 PF-day = 8.64e19 FLOPs). Equation numbers refer to the arXiv v1 paper.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenplan.flops import FLOPS_PER_PARAM_TOKEN
from tokenplan.laws.base import Allocation, Law, as_array, as_sizes

__all__ = ["PF_DAY", "KaplanAllocation", "KaplanLaw"]

PF_DAY = 8.64e19  # FLOPs in one petaflop/s-day (Kaplan 2020, sec. 1.3)


@dataclass(frozen=True)
class KaplanAllocation:
    """Table 6: the compute-efficient N, B, S_min and D for a budget C_min (in FLOPs here)."""

    flops: float
    n_params: float  # non-embedding
    batch_tokens: float
    min_steps: float
    n_tokens: float


@dataclass(frozen=True, kw_only=True)
class KaplanLaw(Law):
    """All of Kaplan 2020's fitted relations, with the published constants as defaults.

    Kaplan et al. 2020, "Scaling Laws for Neural Language Models": ``alpha_N``, ``N_c`` from eq. 1.1 (L(N));
    ``alpha_D``, ``D_c`` eq. 1.2 (L(D)); ``alpha_C``, ``C_c_pf_days`` eq. 1.3 (L(C_min), PF-days);
    ``B_star``, ``alpha_B`` eq. 1.4 (B_crit); ``nd_*`` eq. 1.5 (L(N, D), its own fit, Table 2); ``ns_*``,
    ``alpha_S``, ``S_c`` eq. 1.6 (L(N, S)); ``table6_*`` Table 6 (N, B, S_min, D against C_min). N counts
    non-embedding parameters throughout.
    """

    # L(N) = (N_c / N)^alpha_N                                                  (eq. 1.1)
    alpha_N: float = 0.076
    N_c: float = 8.8e13
    # L(D) = (D_c / D)^alpha_D                                                  (eq. 1.2)
    alpha_D: float = 0.095
    D_c: float = 5.4e13
    # L(C_min) = (C_c / C_min)^alpha_C, C_c in PF-days                          (eq. 1.3)
    alpha_C: float = 0.050
    C_c_pf_days: float = 3.1e8
    # L(N, D) = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D, its own fit         (eq. 1.5, Table 2)
    nd_alpha_N: float = 0.076
    nd_alpha_D: float = 0.103
    nd_N_c: float = 6.4e13
    nd_D_c: float = 1.8e13
    # L(N, S) = (N_c/N)^alpha_N + (S_c/S_min)^alpha_S                           (eq. 1.6)
    ns_alpha_N: float = 0.077
    ns_N_c: float = 6.5e13
    alpha_S: float = 0.76
    S_c: float = 2.1e3
    # B_crit(L) = B_* / L^(1/alpha_B)                                           (eq. 1.4)
    B_star: float = 2e8
    alpha_B: float = 0.21
    # Table 6 (C_min in PF-days): N = 1.3e9 C^0.73, B = 2.0e6 C^0.24, S_min = 5.4e3 C^0.03, D = 2e10 C^0.27
    table6_N: tuple[float, float] = (1.3e9, 0.73)
    table6_B: tuple[float, float] = (2.0e6, 0.24)
    table6_S: tuple[float, float] = (5.4e3, 0.03)
    table6_D: tuple[float, float] = (2e10, 0.27)

    # --- single-variable laws --------------------------------------------------------------------
    def loss_n(self, n_params):
        """L(N): models trained to convergence on enough data (eq. 1.1)."""
        N = as_array("n_params", n_params)
        return (self.N_c / N) ** self.alpha_N

    def loss_d(self, n_tokens):
        """L(D): large models trained with early stopping on D tokens (eq. 1.2)."""
        D = as_array("n_tokens", n_tokens)
        return (self.D_c / D) ** self.alpha_D

    def loss_c(self, flops):
        """L(C_min): loss at the compute-efficient frontier (eq. 1.3); ``flops`` is C_min in FLOPs."""
        C = as_array("flops", flops) / PF_DAY
        return (self.C_c_pf_days / C) ** self.alpha_C

    def loss(self, n_params, n_tokens):
        """L(N, D) (eq. 1.5) with its own fitted constants (alpha_N=0.076, alpha_D=0.103)."""
        N, D = as_sizes(n_params, n_tokens)
        return (
            (self.nd_N_c / N) ** (self.nd_alpha_N / self.nd_alpha_D) + self.nd_D_c / D
        ) ** self.nd_alpha_D

    def loss_ns(self, n_params, min_steps):
        """L(N, S_min): loss after S_min steps at large batch (eq. 1.6)."""
        N = as_array("n_params", n_params)
        S = as_array("min_steps", min_steps)
        return (self.ns_N_c / N) ** self.ns_alpha_N + (self.S_c / S) ** self.alpha_S

    # --- batch size and steps ----------------------------------------------------------------------
    def critical_batch(self, loss):
        """B_crit(L) = B_* / L^(1/alpha_B), in tokens (eq. 1.4)."""
        L = as_array("loss", loss)
        return self.B_star / L ** (1.0 / self.alpha_B)

    def min_steps(self, steps, batch_tokens, loss):
        """S_min = S / (1 + B_crit(L)/B) (eq. 5.4)."""
        S = as_array("steps", steps)
        B = as_array("batch_tokens", batch_tokens)
        return S / (1.0 + self.critical_batch(loss) / B)

    def min_flops(self, flops, batch_tokens, loss):
        """C_min = C / (1 + B/B_crit(L)) (eq. 5.5)."""
        C = as_array("flops", flops)
        B = as_array("batch_tokens", batch_tokens)
        return C / (1.0 + B / self.critical_batch(loss))

    # --- overfitting ------------------------------------------------------------------------------
    def min_tokens_no_overfit(self, n_params):
        """D ≳ 5e3 N^0.74 keeps the overfitting penalty small (eq. 4.4)."""
        N = as_array("n_params", n_params)
        return 5e3 * N**0.74

    def overfits(self, n_params: float, n_tokens: float) -> bool:
        """True when D is below the bound of eq. 4.4 for this N."""
        return bool(as_array("n_tokens", n_tokens) < self.min_tokens_no_overfit(n_params))

    # --- compute-efficient allocation (Table 6) ---------------------------------------------------
    def table6(self, flops) -> KaplanAllocation:
        """N, B, S_min, D as published in Table 6, with ``flops`` = C_min in FLOPs (converted to PF-days)."""
        C = as_array("flops", flops)
        c = C / PF_DAY
        N = self.table6_N[0] * c ** self.table6_N[1]
        B = self.table6_B[0] * c ** self.table6_B[1]
        S = self.table6_S[0] * c ** self.table6_S[1]
        D = self.table6_D[0] * c ** self.table6_D[1]
        return KaplanAllocation(C, N, B, S, D)

    @property
    def exponents(self) -> tuple[float, float]:
        return self.table6_N[1], 1.0 - self.table6_N[1]

    def optimal(self, flops) -> Allocation:
        """Compute-efficient N for a budget of ``flops`` actually spent, by Table 6; D = C / (6N).

        Kaplan's frontier is in C_min, the compute at infinitely small batch. Training at the critical batch
        size (B = B_crit, the efficient choice) costs C = C_min (1 + B/B_crit) = 2 C_min (eq. 5.5), so the
        budget C buys C_min = C / 2 and N = 1.3e9 (C_min / PF-day)^0.73. This reproduces Hoffmann et al.
        2022 App. D.4: "From Kaplan et al. (2020), we find that the optimal model size [for 1e21 FLOPs]
        should be 4.68 billion parameters." D = C / (6N) spends the budget exactly.
        """
        C = as_array("flops", flops)
        C_min = C / 2.0
        N = self.table6_N[0] * (C_min / PF_DAY) ** self.table6_N[1]
        D = C / (FLOPS_PER_PARAM_TOKEN * N)
        return Allocation(self.name, C, N, D, self.loss(N, D), self.param_convention)
