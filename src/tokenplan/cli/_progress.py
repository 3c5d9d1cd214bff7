"""Rendering the library's progress callbacks on stderr.

The library reports progress as ``progress(stage, done, total)`` calls: ``total`` is None while the size of
the stage is unknown, and a stage is finished when ``done == total``. On a terminal each stage gets a rich
bar with its count, elapsed time and ETA; when stderr is not a terminal (a pipe, a log file) each stage prints
one line when it finishes, plus a line every ``heartbeat`` seconds while a long stage runs (from a clock, so a
stage that reports nothing until it ends, such as a TF-IDF fit, still gets its lines), so a logged run never
looks hung. Lines are held back for the first ``delay`` seconds, and a finished stage's line until the
next stage starts: a bad-input error found early stays the only line. Nothing goes to stdout, and ``quiet``
turns everything off.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tokenplan.cli._common import err_console

__all__ = ["stage_progress"]

ProgressFn = Callable[[str, int, "int | None"], None]


def _seconds(s: float) -> str:
    return f"{s:.1f} s" if s < 60 else f"{int(s // 60)} min {int(s % 60):02d} s"


class _Lines:
    """Non-terminal rendering: one line per finished stage, and a heartbeat line for long stages.

    Lines are held back for the first ``delay`` seconds of the run and a finished stage's line until the run
    moves on, so that a bad-input error found early (or right after a stage) stays the only line on stderr;
    a run that goes on, or ends well, prints every line.
    """

    def __init__(
        self, console, *, units: dict[str, str], heartbeat: float, prefix: str, delay: float
    ) -> None:
        self.console, self.units, self.heartbeat, self.prefix = console, units, heartbeat, prefix
        self.t_start, self.delay = time.perf_counter(), delay
        self.started: dict[str, float] = {}
        self.last_line: dict[str, float] = {}
        self.finished: set[str] = set()
        self.held: list[str] = []  # lines not printed yet
        self.pending: str | None = None  # a finished stage's line, printed once the run moves on
        self.last_seen: dict[str, tuple[int, int | None]] = {}  # each stage's latest (done, total)
        self.open: list[str] = []  # started, not finished; the one that reported last at the end
        self.lock = threading.Lock()  # the clock's ticks and the run's calls come from two threads

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        with self.lock:
            self._report(stage, done, total)

    def tick(self) -> None:
        """The clock: a heartbeat line for the running stage when it has been quiet for ``heartbeat`` s."""
        with self.lock:
            now = time.perf_counter()
            if self.open and now - self.last_line[self.open[-1]] >= self.heartbeat:
                self._heartbeat(self.open[-1], now)

    def _report(self, stage: str, done: int, total: int | None) -> None:
        now = time.perf_counter()
        self.last_seen[stage] = (done, total)
        if stage in self.open:
            self.open.remove(stage)
        if stage not in self.finished:
            self._release_pending()
        if now - self.t_start >= self.delay:
            self._print_held()
        t0 = self.started.setdefault(stage, now)
        self.last_line.setdefault(stage, now)
        unit = self.units.get(stage, "")
        if total is not None and done >= total:
            if stage not in self.finished:
                self.finished.add(stage)
                count = f"{done:,} {unit} " if unit else ""
                self.pending = f"{stage}: {count}in {_seconds(now - t0)}"
            return
        self.open.append(stage)  # a stage inside another (tfidf in embed) hands back when done
        if now - self.last_line[stage] >= self.heartbeat:
            self._heartbeat(stage, now)

    def _heartbeat(self, stage: str, now: float) -> None:
        """Print where ``stage`` is: its share done and ETA when its size is known, else its count so far."""
        self.last_line[stage] = now
        done, total = self.last_seen[stage]
        t0, unit = self.started[stage], self.units.get(stage, "")
        if total:
            eta = (now - t0) / max(done, 1) * (total - done)
            where = f"{100 * done / total:.0f}% ({done:,}/{total:,}), ETA {_seconds(eta)}"
        else:
            where = f"{done:,} {unit}".rstrip() if done else "running"
        self.held.append(f"{stage}: {where}, {_seconds(now - t0)} so far")
        self._print_held()

    def _release_pending(self) -> None:
        if self.pending is not None:
            self.held.append(self.pending)
            self.pending = None

    def _print_held(self) -> None:
        for text in self.held:
            self.console.print(
                f"{self.prefix}{text}", soft_wrap=True, highlight=False, markup=False
            )
        self.held = []

    def flush(self) -> None:
        """Print every line held back (the run ended well)."""
        self._release_pending()
        self._print_held()


class _Bars:
    """Terminal rendering: one rich bar per stage (count, elapsed, ETA); pulsing while the size is unknown."""

    def __init__(self, progress) -> None:
        self.progress = progress
        self.tasks: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=total)
        self.progress.update(self.tasks[stage], completed=done, total=total)


@contextmanager
def stage_progress(
    *,
    quiet: bool = False,
    units: dict[str, str] | None = None,
    heartbeat: float = 30.0,
    delay: float = 10.0,
    prefix: str = "",
    force_terminal: bool | None = None,
) -> Iterator[ProgressFn | None]:
    """Yield a ``progress(stage, done, total)`` callback that renders on stderr (None when ``quiet``)."""
    if quiet:
        yield None
        return
    console = err_console()
    terminal = console.is_terminal if force_terminal is None else force_terminal
    if not terminal:
        lines = _Lines(console, units=units or {}, heartbeat=heartbeat, prefix=prefix, delay=delay)
        with _clock(lines.tick, every=min(1.0, heartbeat / 4)):
            yield lines
        lines.flush()  # only when the run succeeded: an error stays the one line on stderr
        return
    with rich_bar(console, "{task.description:>14}", eta="ETA") as progress:
        yield _Bars(progress)


@contextmanager
def _clock(tick: Callable[[], None], *, every: float) -> Iterator[None]:
    """Call ``tick()`` every ``every`` seconds from a daemon thread while the block runs; stopped on exit."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(every):
            tick()

    thread = threading.Thread(target=run, name="tokenplan-progress-clock", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def rich_bar(console: Any, label: str, *, eta: str = "", after: str = "") -> Any:
    """A rich ``Progress``: ``label``, the bar, done/total, elapsed, ``eta`` and the time remaining,
    then ``after`` (each text column a rich format on the task, e.g. ``"{task.description}"``)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    columns += [TextColumn(eta)] if eta else []
    columns += [TimeRemainingColumn()] + ([TextColumn(after)] if after else [])
    return Progress(*columns, console=console, transient=False)
