"""tokenplan._progress (the helper that starts a counting progress callback) and the CLI's log rendering."""

from __future__ import annotations

from tokenplan._progress import reporter


def test_reporter_announces_the_total_then_passes_calls_through():
    calls = []
    report = reporter(lambda done, total: calls.append((done, total)), 7)
    assert calls == [(0, 7)]  # the bar knows its size before the first step
    report(3, 7)
    assert calls == [(0, 7), (3, 7)]


def test_reporter_without_a_callback_is_a_no_op():
    report = reporter(None, 5)
    assert report(1, 5) is None


def _log_progress(*, heartbeat):
    from tokenplan.cli._progress import stage_progress

    return stage_progress(heartbeat=heartbeat, delay=0.0, force_terminal=False)


def test_a_quiet_stage_in_a_log_still_gets_heartbeat_lines(capsys):
    """A stage that reports nothing until it ends (a TF-IDF fit) is not silent in a log: a clock prints
    where it is every ``heartbeat`` seconds, and the stage it ran inside gets the clock back after it."""
    import time

    with _log_progress(heartbeat=0.2) as progress:
        progress("embed", 0, 10)
        progress("tfidf", 0, None)
        time.sleep(0.7)  # no calls at all: only the clock can speak
        progress("tfidf", 1, 1)
        time.sleep(0.5)
        progress("embed", 10, 10)
    lines = capsys.readouterr().err.splitlines()
    assert sum(line.startswith("tfidf: running, ") for line in lines) >= 2, lines
    assert any(line.startswith("embed: 0% (0/10), ETA") for line in lines), lines
    assert lines[-1].startswith("embed: in "), lines


def test_the_clock_stops_with_the_run_and_prints_nothing_after_it(capsys):
    import threading
    import time

    before = threading.active_count()
    with _log_progress(heartbeat=0.1) as progress:
        progress("fit", 0, None)
        assert threading.active_count() == before + 1
    capsys.readouterr()
    time.sleep(0.3)
    assert threading.active_count() == before and capsys.readouterr().err == ""
