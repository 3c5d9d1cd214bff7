"""Published scaling laws, one entry per preset, each with the source of its constants.

This is a data module: constants live here, the formulas in chinchilla.py / kaplan.py / data_constrained.py.
Each preset carries the region of (C, N, D, D/N) its own fitted data covered (``fitted_range``); plans and
predictions outside it are extrapolations and say by how much.
"""

from __future__ import annotations

import math
from dataclasses import replace

from tokenplan.laws.base import FittedRange, Law
from tokenplan.laws.chinchilla import ChinchillaLaw, PowerLawAllocation
from tokenplan.laws.data_constrained import DataConstrainedLaw
from tokenplan.laws.intervals import PublishedInterval
from tokenplan.laws.kaplan import KaplanLaw
from tokenplan.laws.repetition import R_D_STAR_C4

HOFFMANN = "Hoffmann et al. 2022, Training Compute-Optimal Large Language Models"
EPOCH = "Besiroglu et al. 2024, Chinchilla Scaling: A replication attempt (Epoch AI)"
KAPLAN = "Kaplan et al. 2020, Scaling Laws for Neural Language Models"
MUENNIGHOFF = "Muennighoff et al. 2023, Scaling Data-Constrained Language Models"

# Each preset's loss is nats/token on the text it was fitted on (MassiveText for Hoffmann et al. 2022 and its
# replication, C4 for Muennighoff et al. 2023, WebText2 with GPT-2's tokenizer for Kaplan et al. 2020;
# REFERENCE.md secs. 1-4, 7): one law's loss beside another's compares different data. Said once, here, for
# every output that puts two laws' losses side by side (plan --compare, a plan's data-constrained optimum).
LOSS_SCALES = (
    "loss is nats/token on each law's own data: Chinchilla-family laws on MassiveText, "
    "muennighoff2023 on C4, kaplan on WebText2; compare losses only within a family."
)

# Gopher's training compute, the budget every Chinchilla projection is quoted at (Hoffmann et al. 2022, Table 3).
GOPHER_FLOPS = 5.76e23
# Approach 2's projected model size at that budget (Hoffmann et al. 2022, Fig. 3).
A2_GOPHER_PARAMS = 63e9

# --- fitted ranges ----------------------------------------------------------------------------------------
# Computed from each law's own fitted data with FittedRange.of_runs (tests/laws/test_fitted_ranges.py
# recomputes them from the tables when ../shared/data is present). D = C / (6N) where the data gives C.
#
# Chinchilla: the 245 runs of Hoffmann et al. 2022 Fig. 4 (points as extracted by Epoch AI, Besiroglu et al.
# 2024): 1.40e18 to 1.30e22 FLOPs, 57M to 16.2B parameters. The IsoFLOP budgets of Approach 2 are 6e18 to
# 3e21. Chinchilla 70B itself (5.76e23 FLOPs) *validated* the law; it was not one of the fitted runs.
CHINCHILLA_RANGE = FittedRange(
    flops=(1.3972367e18, 1.2956023e22),
    n_params=(5.7334197e7, 1.6183346e10),
    n_tokens=(2.4510596e8, 3.1775449e11),
    tokens_per_param=(0.036068330, 341.09646),
    source="Hoffmann et al. 2022 Fig. 4: the 245 fitted runs (Epoch AI's extraction); IsoFLOP budgets "
    "6e18-3e21; Chinchilla 70B at 5.76e23 FLOPs validated the law but was not in the fit",
)
# Epoch's refit drops the 5 highest-loss points (240 remain): same FLOPs and parameter spans, fewer tiny D.
EPOCH_RANGE = replace(
    CHINCHILLA_RANGE,
    n_tokens=(8.1868078e8, 3.1775449e11),
    tokens_per_param=(0.45639241, 341.09646),
    source="Besiroglu et al. 2024: the 240 Hoffmann et al. 2022 Fig. 4 points kept in their refit",
)
# Kaplan et al. 2020 sec. 3: "models ranging in size from 768 to 1.5 billion non-embedding parameters" on
# "datasets ranging from 22 million to 23 billion tokens". FLOPs and D/N are the corners of those ranges
# under C = 6ND (the paper lists the ranges, not the joint runs).
KAPLAN_RANGE = FittedRange.of_runs(
    [768.0, 768.0, 1.5e9, 1.5e9],
    [22e6, 23e9, 22e6, 23e9],
    source="Kaplan et al. 2020 sec. 3: 768 to 1.5e9 non-embedding parameters, 22M to 23B tokens "
    "(FLOPs and D/N are the corners of those ranges)",
)
# Muennighoff et al. 2023: the 182 C4 runs that fitted R_D* and R_N* (datablations repository), from 7.1M
# parameters on 100M tokens to the 8.67B-parameter, 178B-token run of their Fig. 1; 1 to 9,000 epochs.
MUENNIGHOFF_RANGE = FittedRange(
    source="Muennighoff et al. 2023: the 182 C4 runs of the data-constrained fit (1 to 9,000 epochs, "
    "100M to 178B unique tokens)",
    flops=(4.2592512e15, 9.25956e21),
    n_params=(7.098752e6, 8.67e9),
    n_tokens=(1e8, 9e11),
    tokens_per_param=(0.091215908, 63829.787),
    unique_tokens=(1e8, 1.78e11),
)


def _hoffmann_form(
    name: str,
    citation: str,
    description: str,
    constants: dict[str, float],
    *,
    fitted_range: FittedRange = CHINCHILLA_RANGE,
) -> Law:
    """A preset fitted on Chinchilla's runs, with its ``constants`` as the source prints them: eq. 2's
    L(N, D) = E + A / N^alpha + B / D^beta (E, A, B, alpha, beta), or a frontier N_opt = k C^a (k, a)."""
    form = PowerLawAllocation if set(constants) == {"k", "a"} else ChinchillaLaw
    return form(
        name=name,
        citation=citation,
        description=description,
        fitted_range=fitted_range,
        **constants,
    )


PRESETS: dict[str, Law] = {
    law.name: law
    for law in (
        _hoffmann_form(
            "chinchilla",
            f"{HOFFMANN}, App. D.2 (rounded)",
            "Approach 3, the published rounded constants",
            {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28},
        ),
        _hoffmann_form(
            "chinchilla-unrounded",
            f"{HOFFMANN}, Approach 3 unrounded (paper TeX source, via Epoch)",
            "Approach 3, unrounded constants",
            {
                "E": 1.69337,
                "A": 406.401,
                "B": 410.723,
                "alpha": 0.33917084,
                "beta": 0.2849083,
            },
        ),
        _hoffmann_form(
            "epoch2024",
            f"{EPOCH}, final MLE estimate (4,000 bootstraps)",
            "refit of Chinchilla's Approach 3 data; default (fits the data, predicts loss)",
            {"E": 1.817, "A": 482.01, "B": 2085.43, "alpha": 0.3478, "beta": 0.3658},
            fitted_range=EPOCH_RANGE,
        ),
        # Approach 1: N_opt = k C^a with the paper's exponent a = 0.50 (Table 2). The scale k is the one free
        # number: the geometric mean of N / C^0.5 over Table 3's rows (the 67B row excluded: it prints 1.5T
        # tokens where 6ND gives 1.43T). tests/plan/test_plan_table.py checks each row against k computed
        # *without* that row. Rows differ from the table by up to 4%: Table 3's D/N drifts from 20.0 to 21.6,
        # i.e. the unrounded exponent is about 0.498, which Table 2 prints as 0.50.
        _hoffmann_form(
            "chinchilla-a1",
            f"{HOFFMANN}, Approach 1 (Table 2 exponent a = 0.50, scale from Table 3)",
            "training-curve envelope; allocation only (~21 tokens/param)",
            {"k": 0.08946422, "a": 0.50},
        ),
        # Approach 2: a = 0.49 (Table 2). The scale is the paper's own projection for Gopher's budget: Fig.
        # 3 (IsoFLOP profiles) marks 63B parameters at 5.76e23 FLOPs, so k = 63e9 / (5.76e23)^0.49. (The
        # figure's 1.4T tokens is rounded like Table 3's 67B/1.5T: 6 x 63B x 1.4T = 5.3e23; the law keeps
        # D = C / 6N = 1.52T.) tests/laws/test_chinchilla.py checks the result against a different table,
        # Table A3's Approach-2 rows, which it reproduces within 3% (63B is itself rounded to 2 digits).
        _hoffmann_form(
            "chinchilla-a2",
            f"{HOFFMANN}, Approach 2 (Table 2 exponent a = 0.49, scale from Fig. 3: 63B at 5.76e23)",
            "IsoFLOP profiles; allocation only",
            {"k": A2_GOPHER_PARAMS / GOPHER_FLOPS**0.49, "a": 0.49},
        ),
        KaplanLaw(
            name="kaplan",
            citation=f"{KAPLAN}, eqs. 1.1-1.6 and Table 6",
            param_convention="non-embedding",
            description="N ∝ C^0.73; non-embedding parameters; L(N, D) of eq. 1.5",
            fitted_range=KAPLAN_RANGE,
        ),
        # Base law fitted with alpha = beta on C4, plus R_D* = 15.387756 and R_N* = 5.309743: the constants of
        # the datablations repository's README ("Parametric Fit"), Muennighoff et al. 2023 eqs. 5-6.
        DataConstrainedLaw(
            name="muennighoff2023",
            citation=f"{MUENNIGHOFF}, eqs. 5-6 (C4 fit, alpha = beta)",
            description="data-constrained law: value of repeated tokens and excess parameters",
            fitted_range=MUENNIGHOFF_RANGE,
            E=math.exp(0.6254804),  # 1.8691
            A=math.exp(6.255414),  # 520.82
            B=math.exp(7.3049974),  # 1487.72
            alpha=0.3526596,
            beta=0.3526596,
            R_D_star=R_D_STAR_C4,
            R_N_star=5.309743,
        ),
    )
}

# --- intervals the papers publish ---------------------------------------------------------------------------
# Reported next to tokenplan's own intervals, as printed; a preset without an entry says "no interval
# published". None of these is an interval on L(N, D): the papers publish intervals on their constants.
_TABLE2 = f"{HOFFMANN}, Table 2 (10th/90th percentiles)"
_EPOCH_CI = f"{EPOCH}, final MLE estimate with 4,000 bootstraps (95% CIs)"


def _pub(quantity, estimate: str, low, high, level, source, text=None) -> PublishedInterval:
    """``estimate`` as the paper prints it ("0.50"), so the text keeps its digits."""
    text = text or f"{quantity} = {estimate} ({low:g} .. {high:g})"
    return PublishedInterval(quantity, float(estimate), low, high, level, text, source)


_A3 = (
    _pub("a", "0.46", 0.454, 0.455, 0.8, _TABLE2),
    _pub("b", "0.54", 0.542, 0.543, 0.8, _TABLE2),
)
PUBLISHED_INTERVALS: dict[str, tuple[PublishedInterval, ...]] = {
    "chinchilla": _A3,
    "chinchilla-unrounded": _A3,
    "epoch2024": (
        _pub("E", "1.817", 1.769, 1.871, 0.95, _EPOCH_CI),
        _pub("A", "482.01", 285.0, 744.0, 0.95, _EPOCH_CI),
        _pub("B", "2085.43", 1042.0, 5810.0, 0.95, _EPOCH_CI),
        _pub("alpha", "0.3478", 0.317, 0.373, 0.95, _EPOCH_CI),
        _pub("beta", "0.3658", 0.331, 0.415, 0.95, _EPOCH_CI),
        # printed as a ± without a level; the standard deviation of the bootstrap's a is 0.020 (tests)
        _pub(
            "a",
            "0.513",
            0.493,
            0.533,
            None,
            _EPOCH_CI.replace(" (95% CIs)", ""),
            "a = 0.513 ± 0.020",
        ),
    ),
    "chinchilla-a1": (
        _pub("a", "0.50", 0.488, 0.502, 0.8, _TABLE2),
        _pub("b", "0.50", 0.501, 0.512, 0.8, _TABLE2),
    ),
    "chinchilla-a2": (
        _pub("a", "0.49", 0.462, 0.534, 0.8, _TABLE2),
        _pub("b", "0.51", 0.483, 0.529, 0.8, _TABLE2),
    ),
}

# Each preset stamped as such, with what its paper publishes: a copy with other constants is not the preset.
PRESETS = {name: law.as_preset(PUBLISHED_INTERVALS.get(name, ())) for name, law in PRESETS.items()}
