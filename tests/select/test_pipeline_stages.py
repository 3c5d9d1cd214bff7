"""Each stage of the selection pipeline alone, on toy data; and run() as their composition."""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from helpers import SELECT_DATA
from tokenplan.errors import InvalidInputError
from tokenplan.select.cluster import KMeansResult
from tokenplan.select.filters import FilterConfig
from tokenplan.select.io import ReadStats, Record
from tokenplan.select.pipeline import (
    Candidates,
    Recipe,
    budget,
    check_outputs,
    choose,
    clean_records,
    cluster_candidates,
    collect_candidates,
    dedup_records,
    filter_records,
    read_pool,
    report_coverage,
    run,
    semantic_dedup,
    spooled_texts,
    write_outputs,
)

DATA = SELECT_DATA


def _rec(i, prompt, response, domain=None, score=None):
    return Record(index=i, prompt=prompt, response=response, domain=domain, score=score)


def test_read_pool_streams_records_and_counts_malformed_rows():
    stats = ReadStats()
    recs = list(read_pool(Recipe(input=str(DATA / "tiny.jsonl"), n_select=1), stats))
    assert len(recs) == 6 and stats.n_rows == 8 and stats.n_malformed == 2
    assert [r.index for r in recs] == [0, 1, 2, 4, 5, 6]


def test_clean_records_strips_links_only_when_enabled():
    rec = _rec(0, "See [docs](http://x.org)", "Read <b>this</b> ![img](a.png)")
    (on,) = clean_records([rec])
    assert (on.prompt, on.response) == ("See docs", "Read this")
    (off,) = clean_records([rec], enabled=False)
    assert off == rec


def test_a_text_empty_after_cleaning_is_skipped_and_counted():
    recs = [_rec(0, "q", "https://example.com/only-a-link"), _rec(1, "q", "a real answer")]
    reasons: Counter[str] = Counter()
    kept = list(filter_records(clean_records(recs), FilterConfig(), reasons))
    assert [r.index for r in kept] == [1] and reasons == {"empty": 1}


def test_filter_records_gives_each_drop_its_reason():
    recs = [
        _rec(0, "q", "x" * 50),
        _rec(1, "q", "x" * 5000),
        _rec(2, "q", "I think so, " + "y" * 1300),
        _rec(3, "q", "z" * 1300, score=2),
        _rec(4, "q", "w" * 1300, score=12),
    ]
    reasons: Counter[str] = Counter()
    config = FilterConfig(min_chars=1200, max_chars=4096, first_person=True, min_score=10)
    kept = list(filter_records(recs, config, reasons))
    assert [r.index for r in kept] == [4]
    assert reasons == {"too_short": 1, "too_long": 1, "first_person": 1, "low_score": 1}


def test_dedup_records_drops_later_copies_exact_then_near():
    base = "the quick brown fox jumps over the lazy dog again and again today"
    recs = [
        _rec(0, "q", base),
        _rec(1, "Q", base.upper()),  # same after normalisation
        _rec(2, "q", base + " too"),  # near copy
        _rec(3, "q", "something else entirely, with other words in it"),
    ]
    reasons: Counter[str] = Counter()
    assert [r.index for r in dedup_records(recs, reasons)] == [0, 2, 3]
    assert reasons == {"exact_duplicate": 1}
    pytest.importorskip("datasketch")
    reasons.clear()
    kept = [r.index for r in dedup_records(recs, reasons, near=0.5)]
    assert kept == [0, 3] and reasons == {"exact_duplicate": 1, "near_duplicate": 1}


def test_collect_candidates_spools_texts_and_keeps_domains_only_when_every_row_has_one():
    spool = io.StringIO()
    cands = collect_candidates([_rec(4, "p", "a b c", "x"), _rec(7, "", "d", "y")], spool)
    assert cands.index.tolist() == [4, 7] and cands.domains.tolist() == ["x", "y"]
    assert cands.n_tokens.tolist() == [4, 1]
    assert list(spooled_texts(spool)) == ["p\n\na b c", "d"]
    cands = collect_candidates([_rec(0, "", "a", "x"), _rec(1, "", "b")], io.StringIO())
    assert cands.domains is None


def test_check_outputs_refuses_before_the_slow_part(tmp_path):
    src = DATA / "tiny.jsonl"
    with pytest.raises(InvalidInputError, match="input file"):
        check_outputs(Recipe(input=str(src), n_select=1, output=str(src), overwrite=True))
    with pytest.raises(InvalidInputError, match="is a file, not a folder"):
        check_outputs(Recipe(input=str(src), n_select=1, output=str(src / "o.jsonl")))
    # a missing folder passes, and is not created before the write
    no = tmp_path / "no" / "o.jsonl"
    assert check_outputs(Recipe(input=str(src), n_select=1, output=str(no))) == no
    assert not no.parent.exists()
    assert check_outputs(Recipe(input=str(src), n_select=1)) is None


def _toy():
    rng = np.random.default_rng(0)
    centers = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], np.float32)
    x = np.repeat(centers, 10, axis=0) + 0.05 * rng.standard_normal((30, 3)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    cands = Candidates(
        index=np.arange(100, 130), domains=None, n_tokens=np.full(30, 5, dtype=np.int64)
    )
    return x, cands


def test_cluster_budget_choose_and_report_alone():
    x, cands = _toy()
    km = cluster_candidates(x, n_clusters=3, seed=0)
    assert km.n_clusters == 3 and len(set(km.labels[:10])) == 1
    with pytest.raises(InvalidInputError, match="n_clusters=31"):
        cluster_candidates(x, n_clusters=31)
    recipe = Recipe(input="pool.jsonl", fraction=0.1, method="kcenter")
    assert budget(recipe, len(cands), ReadStats(), Counter()) == 3
    # the reasons as the report prints them, not a Python dict; and what to do
    said = r"n_select=40 is more than the 30 candidates .*dropped: too_short 1,200\); select at most 30"
    with pytest.raises(InvalidInputError, match=said):
        budget(Recipe(input="p.jsonl", n_select=40), 30, ReadStats(), Counter(too_short=1200))
    sel = choose(recipe, x, cands, km, 3)
    assert len(set(km.labels[sel.indices])) == 3  # farthest-first reaches every cluster
    cov, base = report_coverage(x, cands, km, sel, seed=0)
    assert cov.n_selected == base.n_selected == 3 and cov.n_tokens == 15
    assert cov.clusters_hit_share == 1.0


def test_semantic_dedup_drops_near_copies_and_keeps_arrays_aligned():
    x, cands = _toy()
    x = np.concatenate([x, x[:2]])  # rows 30, 31 copy rows 0, 1
    cands = Candidates(
        index=np.arange(32), domains=np.array(["a"] * 32), n_tokens=np.arange(32, dtype=np.int64)
    )
    km = KMeansResult(
        centroids=np.eye(3, dtype=np.float32), labels=np.arange(32) % 3, inertia=0.0, backend="t"
    )
    reasons: Counter[str] = Counter()
    emb, kept, km2 = semantic_dedup(x, cands, km, threshold=0.99999, reasons=reasons)
    assert reasons == {"semantic_duplicate": 2}
    assert len(emb) == len(kept) == len(km2.labels) == 30
    assert kept.index.tolist() == list(range(30)) and kept.n_tokens.tolist() == list(range(30))


def test_write_outputs_adds_provenance(tmp_path):
    src = tmp_path / "pool.jsonl"
    src.write_text(
        "".join(json.dumps({"prompt": f"p{i}", "response": f"r{i}"}) + "\n" for i in range(30))
    )
    x, cands = _toy()
    cands = Candidates(index=np.arange(30), domains=None, n_tokens=cands.n_tokens)
    km = cluster_candidates(x, n_clusters=3, seed=0)
    recipe = Recipe(input=str(src), n_select=2, output=str(tmp_path / "o.jsonl"))
    sel = choose(recipe, x, cands, km, 2)
    written, plot = write_outputs(recipe, tmp_path / "o.jsonl", x, cands, km, sel)
    rows = [json.loads(line) for line in Path(written).read_text().splitlines()]
    assert plot is None and sorted(r["_source_index"] for r in rows) == sorted(sel.indices.tolist())
    assert {r["_rank"] for r in rows} == {0, 1}


def _tiny_kcenter() -> Recipe:
    """4 of tiny_alpaca's 12 rows by k-center on TF-IDF, 3 clusters, no cache."""
    return Recipe(
        input=str(DATA / "tiny_alpaca.json"),
        n_select=4,
        method="kcenter",
        embedder="tfidf",
        cache_dir="none",
        n_clusters=3,
    )


def test_run_is_the_composition_of_the_stages(tmp_path):
    recipe = _tiny_kcenter()
    rep = run(recipe)
    assert rep.n_rows == 12 and rep.drop_reasons == {"exact_duplicate": 1}
    assert rep.n_candidates == 11 and rep.n_clusters == 3 and len(rep.selected) == 4
    assert set(rep.timings) >= {"read_filter_dedup", "embed", "kmeans", "select", "report", "total"}


def test_run_reports_every_stage_to_the_progress_callback():
    events = []
    recipe = _tiny_kcenter()
    run(recipe, progress=lambda stage, done, total: events.append((stage, done, total)))
    stages = list(dict.fromkeys(e[0] for e in events))
    # the TF-IDF fit is a step of its own inside embed (it counts no texts until it ends)
    assert stages == ["read", "embed", "tfidf", "kmeans", "choose", "report"]
    for stage in stages:  # each stage starts, and finishes with done == total
        mine = [e for e in events if e[0] == stage]
        assert mine[0][1] == 0 and mine[-1][1] == mine[-1][2]
    assert ("read", 12, 12) in events and ("embed", 11, 11) in events
    assert [e for e in events if e[0] == "kmeans"] == [("kmeans", i, 20) for i in range(21)]
    picks = [e[1] for e in events if e[0] == "choose"]  # counted pick by pick, up to the budget
    assert picks == sorted(picks) and picks[-1] == 4 and len(set(picks)) == 5


def test_run_draws_the_random_baseline_once_for_the_coverage_and_the_page(tmp_path, monkeypatch):
    """run() drew the random baseline twice with the same seed, once for its coverage (report_coverage)
    and again for the report page (write_report_page): the same rows, the work done twice. It is drawn
    once, and the page gets the very positions the baseline's coverage was measured on."""
    import tokenplan.report.select_page as page
    import tokenplan.select.pipeline as pipeline

    draws, pages = [], []
    real = pipeline.random_subset

    def counted(*args, **kwargs):
        draws.append(real(*args, **kwargs))
        return draws[-1]

    monkeypatch.setattr(pipeline, "random_subset", counted)
    monkeypatch.setattr(page, "write_select_report", lambda path, rep, **kw: pages.append(kw))
    rep = run(replace(_tiny_kcenter(), report=str(tmp_path / "page.html")))
    assert len(draws) == 1 and len(pages) == 1
    assert pages[0]["random"] is draws[0]
    assert rep.random_baseline.n_selected == len(draws[0]) == 4


def test_the_write_stage_shows_only_when_something_is_written(tmp_path):
    """With no output and no plot the progress printed 'write: in 0.0 s', as if a file had been written;
    the stage is shown only when there is one to write."""
    import dataclasses

    def stages(recipe):
        events = []
        run(recipe, progress=lambda stage, done, total: events.append(stage))
        return list(dict.fromkeys(events))

    assert "write" not in stages(_tiny_kcenter())
    out = tmp_path / "subset.json"
    assert stages(dataclasses.replace(_tiny_kcenter(), output=str(out)))[-1] == "write"
    assert out.exists()
