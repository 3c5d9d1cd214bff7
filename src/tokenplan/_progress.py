"""The counting progress callback that the library's long loops take: ``progress(done, total)``.

A bootstrap calls it per refit, a greedy picker per pick: once with ``(0, total)`` before the first step, so
a bar knows its size, then after each step. Rendering is the caller's (the CLI's is
:mod:`tokenplan.cli._progress`); the library only counts.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["CountProgress", "reporter"]

CountProgress = Callable[[int, int], None]


def reporter(progress: CountProgress | None, total: int) -> CountProgress:
    """``progress`` (or a no-op), told ``(0, total)`` once so a bar knows its size before the first step."""
    report = progress or (lambda done, total: None)
    report(0, total)
    return report
