"""Muennighoff et al. 2023's value of repeated tokens as functions of plain numbers: the effective tokens D'
(eq. 5), what the last epoch's tokens are worth, and the epoch rule in words, one text for ``plan``,
``repeat`` and ``predict``.

A leaf module (numpy and units only): the data-constrained law, predictions and plans all use it, so it
imports none of them.
"""

from __future__ import annotations

import math

import numpy as np

from tokenplan.units import format_epochs

__all__ = [
    "EPOCHS_FADE",
    "EPOCHS_WORTHLESS",
    "R_D_STAR_C4",
    "effective_tokens",
    "epochs_warning",
    "last_epoch_worth",
]

# Muennighoff et al. 2023's C4 fit of eq. 5 (REFERENCE.md sec. 4): after R_D* repetitions a repeated token is
# worth 1/e of a fresh one. The muennighoff2023 preset holds it; a law without a repetition term borrows it.
R_D_STAR_C4 = 15.387756
# Muennighoff et al. 2023, secs. 5-6 (REFERENCE.md sec. 4, "Claims"): up to ~4 epochs repeated data is about as
# good as fresh; returns fade beyond, towards nothing past ~16 epochs (R_D* = 15.39 in their C4 fit).
EPOCHS_FADE = 4.0
EPOCHS_WORTHLESS = 16.0


def effective_tokens(n_tokens, unique_tokens, R_D_star):
    """D' = U + U R_D* (1 - exp(-R_D / R_D*)), R_D = D/U - 1 (eq. 5; U capped at D): what ``n_tokens``
    drawn from ``unique_tokens`` unique ones are worth as fresh data. Arrays or floats, checked by the
    caller."""
    U = np.minimum(unique_tokens, n_tokens)
    R_D = n_tokens / U - 1.0
    d_eff = U + U * R_D_star * (1.0 - np.exp(-R_D / R_D_star))
    # Eq. 5 gives D' <= D exactly (1 - exp(-x) <= x), but rounded just above one epoch it came out an ulp or
    # more above D (D'/D = 1.0000000000000002 at 1.0000001 epochs): cap it, so D'/D is a fraction.
    return np.minimum(d_eff, n_tokens)


def last_epoch_worth(epochs: float, R_D_star: float) -> float:
    """What one more repeated token is worth against a fresh one after ``epochs`` passes: dD'/dD =
    exp(-R_D/R_D*), the derivative of eq. 5 with R_D = epochs - 1 (0.37 at R_D = R_D*, 0.017 at 64 epochs)."""
    return math.exp(-max(epochs - 1.0, 0.0) / R_D_star)


def epochs_warning(
    epochs: float, effective_fraction: float, R_D_star: float | None = None
) -> str | None:
    """Muennighoff et al. 2023's epoch rule in words, beyond ~4 epochs (None up to 4): one text for
    ``plan``, ``repeat`` and ``predict``. ``effective_fraction`` is D'/D (eq. 5); ``R_D_star`` is the law's
    own decay, or None for a law without a repetition term: then D'/D is Muennighoff's C4 decay
    (:data:`R_D_STAR_C4`), said so. Beyond ~16 epochs the text names the R_D* its figure uses and where it
    comes from."""
    worth = f"repeated tokens are worth D'/D = {effective_fraction:.2f} of fresh ones"
    if R_D_star is None:
        worth += " (Muennighoff's R_D* decay)"
    if epochs > EPOCHS_WORTHLESS:
        used = R_D_STAR_C4 if R_D_star is None else R_D_star
        whose = "Muennighoff's C4 fit" if used == R_D_STAR_C4 else "the law's own"
        last = last_epoch_worth(epochs, used)
        little = ", nearly worthless" if last < 0.05 else ""
        return (
            f"{format_epochs(epochs, 1)} epochs: beyond ~16 epochs (R_D* = {used:.4g}, {whose}) "
            "returns fade towards zero (Muennighoff "
            f"et al. 2023): the last epoch's tokens are worth {100 * last:.2g}% of fresh ones{little}; "
            f"{worth}. Get more unique data or train a smaller model."
        )
    if epochs > EPOCHS_FADE:
        return (
            f"{format_epochs(epochs, 1)} epochs: beyond ~4 epochs returns fade (Muennighoff et "
            f"al. 2023); {worth}. "
            "Up to ~4 epochs repeated data is about as good as fresh for a model sized for its data (the "
            "paper's setting)."
        )
    return None
