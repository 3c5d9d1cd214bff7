"""What every command prints with: JSON output, the rich consoles, warnings and interval lines.

The options that several commands declare, and the quantity parameter types, are in
:mod:`tokenplan.cli._options`."""

from __future__ import annotations

import math
import os
import sys
from typing import Any

from tokenplan._json import dumps


def interval_lines(ivs, published) -> list[str]:
    """Which kind each interval is and where it comes from, then what the preset's paper publishes."""
    pct = f"{ivs.level:.0%}"
    lines = []
    if ivs.loss is not None:
        what = "the loss"
        if ivs.n_params is not None and ivs.allocation_source == ivs.loss_source:
            what = "the loss, N_opt and D_opt"
        lines.append(f"{pct} interval on {what}: {ivs.loss_kind} ({ivs.loss_source})")
    if ivs.n_params is not None and (ivs.loss is None or ivs.allocation_source != ivs.loss_source):
        lines.append(
            f"{pct} interval on N_opt and D_opt: {ivs.allocation_kind} ({ivs.allocation_source})"
        )
    if not ivs.any:
        lines.append(f"interval: none on the loss, N_opt or D_opt ({ivs.loss_source})")
    by_source: dict[str, list[str]] = {}
    for p in published:
        by_source.setdefault(p.source, []).append(p.text)
    for source, texts in by_source.items():
        lines.append(f"published by {source}: {'; '.join(texts)}")
    return lines + [f"note: {n}" for n in ivs.notes]


def pair(values, fmt) -> str:
    """``lo .. hi`` with ``fmt`` applied to each end, or '-'."""
    if values is None or not all(math.isfinite(x) for x in values):
        return "-"
    return f"{fmt(values[0])} .. {fmt(values[1])}"


def print_json(obj: dict[str, Any]) -> None:
    """Write ``obj`` as one JSON object on stdout."""
    sys.stdout.write(dumps(obj) + "\n")
    sys.stdout.flush()


_CONSOLE = None
# Output piped or redirected (not a terminal) without COLUMNS: rich would lay tables out in 80 columns
# (or the width of a terminal on stdin/stderr), wrapping cells into a file or a pipe. This is wide enough
# for any table tokenplan prints, which then takes its natural width, and no line is wrapped.
_PIPED_WIDTH = 1000


def console():
    """A shared rich Console (created on first use, to keep start-up light): the terminal's width on a
    terminal, COLUMNS when it is set, else (piped, redirected) wide enough that no table is cut."""
    global _CONSOLE
    if _CONSOLE is None:
        from rich.console import Console

        _CONSOLE = Console(highlight=False)
        if not _CONSOLE.is_terminal and not os.environ.get("COLUMNS", "").isdigit():
            _CONSOLE.width = _PIPED_WIDTH
    return _CONSOLE


def err_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def warn(message: str) -> None:
    """A warning line on stderr (yellow on a terminal)."""
    err_console().print(f"[yellow]warning:[/yellow] {message}", soft_wrap=True)


def report_written(path) -> None:
    """Say where the report went (on stderr, so --json output stays one object)."""
    err_console().print(f"report written to {path}", soft_wrap=True)
