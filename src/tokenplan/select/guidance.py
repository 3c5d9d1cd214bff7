"""How much SFT data: the published findings ``tokenplan select`` prints beside a selection, with sources.

- LIMA (Zhou et al. 2023, "LIMA: Less Is More for Alignment", sec. 2 and sec. 5): 1,000 carefully curated,
  diverse prompts and answers fine-tuned a 65B model to strong results; in the ablations, scaling the number of
  examples without scaling prompt diversity gave diminishing returns, while diversity and answer quality gave
  gains.
- The 0.5% paper (Chen et al. 2023, "Maybe Only 0.5% Data is Needed"): selection is task-specific; for NLI,
  1.9M tokens chosen from P3 (about 0.5% of it) gave +2% over training on the full task-related data (the
  abstract's words: the baseline is the task's whole data, not all of P3).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["Guidance", "quantity_guidance"]

LIMA = "Zhou et al. 2023, LIMA: Less Is More for Alignment, sec. 2 and 5"
HALF_PERCENT = "Chen et al. 2023, Maybe Only 0.5% Data is Needed, abstract and sec. 4"


@dataclass(frozen=True)
class Guidance:
    """One piece of advice: what it says and where it comes from."""

    text: str
    source: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def quantity_guidance(n_selected: int, n_tokens: int | None, *, target: bool) -> list[Guidance]:
    """The quantity findings that apply to a subset of ``n_selected`` rows (``n_tokens`` approximate)."""
    out = [
        Guidance(
            f"LIMA: 1,000 curated, diverse examples were enough for alignment; you selected {n_selected:,}. "
            "More examples without more prompt diversity gave diminishing returns; diversity and answer "
            "quality gave gains.",
            LIMA,
        )
    ]
    tokens = f" (this subset: about {n_tokens:,} tokens)" if n_tokens is not None else ""
    if target:
        out.append(
            Guidance(
                "0.5% paper: selection for one task works; for NLI, 1.9M tokens (about 0.5% of P3) gave "
                f"+2% over the full task-related data{tokens}.",
                HALF_PERCENT,
            )
        )
    else:
        out.append(
            Guidance(
                "0.5% paper: its gains are task-specific (NLI: 1.9M tokens, about 0.5% of P3, gave +2% over "
                f"the full task-related data); give a few examples of your task with --target to select for it{tokens}.",
                HALF_PERCENT,
            )
        )
    return out
