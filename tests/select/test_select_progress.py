"""Progress of select's K-Means and selection steps: callbacks from the library, lines or bars from the CLI."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import numpy as np
import pytest

from helpers import SELECT_DATA
from tokenplan.select.cluster import kmeans
from tokenplan.select.facility import facility_location
from tokenplan.select.kcenter import kcenter_greedy
from tokenplan.select.methods import METHODS, Pool, select, select_for_target

DATA = SELECT_DATA


def _unit(n, d=8, seed=0):
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _assert_counts_up_to(events, total):
    """Starts at 0, never goes back, never passes the total, ends at the total."""
    done = [d for d, t in events]
    assert events[0] == (0, total) and events[-1] == (total, total)
    assert all(t == total for _, t in events)
    assert done == sorted(done) and max(done) == total


@pytest.mark.parametrize("backend", ["numpy", "faiss"])
def test_kmeans_reports_every_iteration(backend):
    if backend == "faiss":
        pytest.importorskip("faiss")
    events = []
    km = kmeans(
        _unit(300), 5, seed=1, n_iter=7, backend=backend, progress=lambda *e: events.append(e)
    )
    assert events == [(i, 7) for i in range(8)]
    quiet = kmeans(_unit(300), 5, seed=1, n_iter=7, backend=backend)  # progress changes nothing
    np.testing.assert_array_equal(km.labels, quiet.labels)


def test_faiss_one_iteration_per_call_is_the_single_call_partition():
    """The module's claim: train() one iteration at a time from the previous centroids gives the centroids of
    one n_iter call (same seed, so the same subsample; the subsample is used here: 5,000 > 8 x 256)."""
    faiss = pytest.importorskip("faiss")
    x = _unit(5000, d=16, seed=3)
    ref = faiss.Kmeans(
        16, 8, niter=20, seed=4, max_points_per_centroid=256, min_points_per_centroid=1
    )
    ref.train(x)
    ours = kmeans(x, 8, seed=4, n_iter=20, backend="faiss")
    np.testing.assert_allclose(ours.centroids, ref.centroids, atol=1e-6)


@pytest.mark.parametrize(
    "fn, kw",
    [(facility_location, {}), (kcenter_greedy, {}), (kcenter_greedy, {"already_selected": [3, 5]})],
)
def test_greedy_pickers_report_each_pick(fn, kw):
    x = _unit(200)
    events = []
    res = fn(x, 9, progress=lambda *e: events.append(e), **kw)
    assert events == [(i, 9) for i in range(10)]
    np.testing.assert_array_equal(res.indices, fn(x, 9, **kw).indices)


@pytest.mark.parametrize("method", sorted(set(METHODS) - {"lima"}))
def test_every_method_counts_its_picks_to_the_budget(method):
    from tokenplan.select.cluster import kmeans as km_

    x = _unit(240)
    pool = Pool(embeddings=x, clusters=km_(x, 6, seed=0))
    events = []
    sel = select(pool, 17, method=method, progress=lambda *e: events.append(e))
    _assert_counts_up_to(events, 17)
    assert len(sel) == 17


def test_target_selection_counts_its_picks():
    x = _unit(240)
    pool = Pool(embeddings=x, clusters=kmeans(x, 6, seed=0))
    events = []
    select_for_target(pool, x[:3], 12, progress=lambda *e: events.append(e))
    _assert_counts_up_to(events, 12)


ARGS = (
    "select",
    "-i",
    str(DATA / "tiny_alpaca.json"),
    *"--n 3 --embedder tfidf --n-clusters 2".split(),
)


def test_terminal_shows_bars_with_eta_on_stderr_only(tmp_path):
    """Under a pseudo-terminal, stderr gets rich bars (count, ETA) for kmeans and select; --json's stdout
    (a pipe) holds the JSON alone."""
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tokenplan", *ARGS, "--cache-dir", str(tmp_path), "--json"],
        stdout=subprocess.PIPE,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    chunks = []  # read while it runs: a full pseudo-terminal buffer would block the bars
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    stdout = proc.stdout.read()
    proc.wait(timeout=600)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0, screen
    assert json.loads(stdout)["report"]["n_selected"] == 3
    for text in ("kmeans", "20/20", "choose", "3/3", "ETA"):
        assert text in screen, text


@pytest.mark.parametrize("embedder", ["tfidf-char", "tfidf"])
def test_a_whole_pool_fit_shows_as_running_while_it_runs(embedder, monkeypatch):
    """TF-IDF counts no texts until its fit ends: its own stage is started before the fit and ended after,
    so the CLI shows it running (a pulsing bar; its time in a log) instead of a stalled embed bar."""
    from tokenplan.select.embed import TfidfSvdEmbedder
    from tokenplan.select.pipeline import Recipe, run

    ticks: list[tuple[str, int, int | None]] = []
    during: list[list[tuple[str, int, int | None]]] = []
    encode = TfidfSvdEmbedder.encode
    monkeypatch.setattr(
        TfidfSvdEmbedder,
        "encode",
        lambda self, texts: during.append(list(ticks)) or encode(self, texts),
    )
    pool = SELECT_DATA / "tiny_alpaca.json"
    recipe = Recipe(input=str(pool), n_select=3, n_clusters=2, embedder=embedder, cache_dir="none")
    run(recipe, progress=lambda *t: ticks.append(t))
    assert len(during) == 1 and during[0][-1] == (
        embedder,
        0,
        None,
    )  # started, not ended, during the fit
    assert ticks.count((embedder, 1, 1)) == 1
    assert ticks.index((embedder, 1, 1)) < ticks.index(
        ("embed", 11, 11)
    )  # ends before the embed stage
