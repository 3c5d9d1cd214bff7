"""LIMA-style quality filters, in English and Chinese; every dropped sample gets a reason.

LIMA (Zhou et al. 2023, sec. 2.1, Stack Exchange): keep answers of 1,200 to 4,096 characters, drop answers
"written in the first person ('I', 'my')" and answers that "refer to other answers ('as mentioned', 'stack
exchange', etc.)", keep only answers with a score of at least 10. Each filter is optional; a filter that is
``None`` or ``False`` is off. The Chinese patterns follow the same rules: 我/我的 for the first person (我们,
"we", is not the author speaking for themself and is kept), 如上所述/楼上/其他回答 for references to other
answers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields
from typing import Any

from tokenplan._checks import name_keys, number_text, positive_int, strict_bool
from tokenplan.errors import InvalidInputError
from tokenplan.select import choices

__all__ = [
    "DROP_REASONS",
    "FILTER_PRESETS",
    "FilterConfig",
    "drop_reason",
    "first_person",
    "refers_to_other_answers",
]

FILTER_PRESETS = (
    choices.FILTER_PRESETS
)  # ``filters: {preset: ...}``, ``--filters``: LIMA's, or none

#: Every reason a sample can be dropped, in the order the checks run (filters, then dedup).
DROP_REASONS = (
    "empty",
    "too_short",
    "too_long",
    "first_person",
    "refers_to_other_answers",
    "low_score",
    "exact_duplicate",
    "near_duplicate",
    "semantic_duplicate",
    "target_example",
)

# "I" only as a capitalised word (not "i.e."); contractions count. Case-insensitive for my/mine/myself.
_FIRST_PERSON_EN = re.compile(
    r"(?<![\w./])I(?:'m|'ve|'d|'ll|’m|’ve|’d|’ll)?(?![\w./])|\b(?:[Mm]y|[Mm]ine|[Mm]yself)\b"
)
# 我 / 我的 / 我认为 ... but not 我们 ("we") nor 自我 ("self", as in 自我介绍).
_FIRST_PERSON_ZH = re.compile(r"(?<!自)我(?!们)")
_OTHERS_EN = re.compile(
    r"\b(?:as (?:mentioned|stated|noted|said|pointed out|suggested)(?: (?:above|before|earlier|by))?"
    r"|as others (?:have )?(?:said|mentioned|noted|pointed out)"
    r"|(?:the |an)?other answers?|another answer|previous answers?|accepted answer|answer above"
    r"|above answers?|(?:the )?answers? below|this thread"
    r"|stack ?exchange|stack ?overflow|superuser\.com|serverfault)\b",
    re.I,
)
_OTHERS_ZH = re.compile(
    r"如上所述|如前所述|正如.{0,8}(?:所说|提到)|楼上|楼主|上面的(?:回答|答案)|其他(?:回答|答案)|"
    r"别的(?:回答|答案)|另一个(?:回答|答案)|前面(?:的回答|提到)|采纳的答案"
)


def first_person(text: str) -> bool:
    """True if ``text`` is written in the first person (English I/my/mine, Chinese 我/我的)."""
    return bool(_FIRST_PERSON_EN.search(text) or _FIRST_PERSON_ZH.search(text))


def refers_to_other_answers(text: str) -> bool:
    """True if ``text`` refers to other answers or to the site it came from (EN and ZH)."""
    return bool(_OTHERS_EN.search(text) or _OTHERS_ZH.search(text))


@dataclass(frozen=True)
class FilterConfig:
    """Which quality filters run on the answer. ``None``/``False`` turns a filter off."""

    min_chars: int | None = None
    """Drop answers shorter than this many characters (LIMA: 1,200)."""
    max_chars: int | None = None
    """Drop answers longer than this many characters (LIMA: 4,096)."""
    first_person: bool = False
    """Drop answers written in the first person (I, my; 我, 我的)."""
    refers_to_others: bool = False
    """Drop answers that refer to other answers ("as mentioned", "Stack Exchange"; 如上所述, 楼上)."""
    min_score: float | None = None
    """Drop rows whose score field is below this (LIMA: 10); rows without a score are kept."""

    def __post_init__(self) -> None:
        problems = []
        for name in ("min_chars", "max_chars"):
            value = getattr(self, name)
            # text is read as its number (YAML 1.1 reads 1e3 as a string); stored as its int
            if value is not None:
                try:
                    value = number_text(name, value)
                    object.__setattr__(self, name, positive_int(name, value, allow_zero=True))
                except InvalidInputError as exc:
                    problems.append(str(exc))
        score = self.min_score
        if isinstance(score, str):  # read as its number, as min_chars
            try:
                score = number_text("min_score", score)
                object.__setattr__(self, "min_score", score)
            except InvalidInputError as exc:
                problems.append(str(exc))
                score = None
        if score is not None:  # any finite number: scores may be negative
            if isinstance(score, bool) or not isinstance(score, int | float):
                problems.append(f"min_score={score!r} is not a number.")
            elif not math.isfinite(score):
                problems.append(f"min_score={score!r} must be a finite number.")
        for name in ("first_person", "refers_to_others"):
            try:
                strict_bool(name, getattr(self, name))
            except InvalidInputError as exc:
                problems.append(str(exc))
        if (
            not problems
            and self.min_chars is not None
            and self.max_chars is not None
            and self.min_chars > self.max_chars
        ):
            problems.append(f"min_chars={self.min_chars} should be <= max_chars={self.max_chars}.")
        if problems:
            raise InvalidInputError("invalid filters: " + " ".join(problems))

    @classmethod
    def lima(cls) -> FilterConfig:
        """The LIMA Stack Exchange filters: 1,200-4,096 characters, no first person, no references."""
        return cls(min_chars=1200, max_chars=4096, first_person=True, refers_to_others=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> FilterConfig:
        """Build from a recipe mapping; ``preset: lima`` starts from :meth:`lima`; unknown keys are errors."""
        if data is not None and not isinstance(data, dict):
            raise InvalidInputError(
                f"filters={data!r} must be a mapping, e.g. {{preset: lima}} or {{min_chars: 20}}.",
                param="filters",
            )
        data = dict(data or {})
        name_keys("filters", data, "min_chars: 20", param="filters")
        preset = data.pop("preset", None)
        valid = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - valid)
        if unknown:
            raise InvalidInputError(
                f"unknown filter option(s) {', '.join(unknown)}; valid: preset, {', '.join(sorted(valid))}."
            )
        if preset is not None and preset not in FILTER_PRESETS:
            raise InvalidInputError(
                f"filters.preset={preset!r}; valid: {', '.join(FILTER_PRESETS)}."
            )
        base = cls.lima().to_dict() if preset == "lima" else {}
        base.update(data)
        return cls(**base)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def active(self) -> bool:
        return any(v not in (None, False) for v in self.to_dict().values())


def drop_reason(response: str, score: float | None, config: FilterConfig) -> str | None:
    """The first reason (a name from :data:`DROP_REASONS`) to drop this answer, or None to keep it."""
    if not response.strip():
        return "empty"
    n = len(response)
    if config.min_chars is not None and n < config.min_chars:
        return "too_short"
    if config.max_chars is not None and n > config.max_chars:
        return "too_long"
    if config.first_person and first_person(response):
        return "first_person"
    if config.refers_to_others and refers_to_other_answers(response):
        return "refers_to_other_answers"
    if config.min_score is not None and score is not None and score < config.min_score:
        return "low_score"
    return None
