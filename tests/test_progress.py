"""tokenplan._progress: the one helper that starts a counting progress callback."""

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
