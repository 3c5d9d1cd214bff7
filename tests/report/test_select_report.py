"""`tokenplan select --report FILE.html`: funnel, map, clusters, examples and coverage, in a real browser.

Pool text is escaped: a row holding <script> must not run. A 100k-row pool is sampled on the map.
"""

from __future__ import annotations

import json
import random

import pytest

from helpers import run_cli
from report_browser import (
    assert_healthy,
    assert_numbers_match,
    cli_in_process,
    overflowing,
    synthetic_selection,
)

pytest.importorskip("altair")
pytest.importorskip("vl_convert")
pytest.importorskip("sklearn")  # the tfidf embedder

EVIL = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
TOPICS = {
    "cooking": "recipe oven bake flour sugar butter simmer sauce garlic onion pasta",
    "physics": "energy mass velocity quantum photon gravity force momentum field wave",
    "coding": "python function loop variable class compile debug array string recursion",
    "history": "empire war treaty king revolution century dynasty colony battle parliament",
}


def make_pool(path, n=400, seed=0):
    """A synthetic SFT pool in four domains; row 7 carries markup in a code block (cleaning keeps code
    verbatim), rows 10-12 repeat row 9, the last row is too short for the filters."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        dom = rng.choice(sorted(TOPICS))
        words = TOPICS[dom].split()
        resp = " ".join(rng.choice(words) for _ in range(rng.randint(40, 90))).capitalize() + "."
        if i == 7:  # LIMA cleaning strips HTML, but keeps code blocks verbatim
            resp = "```\n" + EVIL + "\n```\n" + resp
        row = {
            "instruction": f"Tell me about {rng.choice(words)} (item {i}).",
            "input": "",
            "output": resp,
            "domain": dom,
        }
        rows.append(rows[9] if 10 <= i <= 12 else row)
    rows.append({"instruction": "hi", "input": "", "output": "too short", "domain": "coding"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def data_rows(spec):
    """Every inline data row of a Vega-Lite spec (top level, layers, datasets)."""
    if isinstance(spec, dict):
        if isinstance(spec.get("values"), list):
            yield from spec["values"]
        for key, value in spec.items():
            if key == "datasets":
                for rows in value.values():
                    yield from rows
            elif key != "values":
                yield from data_rows(value)
    elif isinstance(spec, list):
        for item in spec:
            yield from data_rows(item)


def select_args(pool, *extra):
    return [
        "select",
        "-i",
        str(pool),
        "--n",
        "40",
        "--embedder",
        "tfidf",
        "--domain-field",
        "domain",
        "--n-clusters",
        "8",
        "--cache-dir",
        "none",
        *extra,
    ]


@pytest.fixture(scope="module")
def selection(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("select")
    pool = make_pool(tmp / "pool.jsonl")
    out = tmp / "select.html"
    stdout, stderr = cli_in_process(*select_args(pool, "--report", str(out), "--json"))
    assert f"report written to {out}" in stderr
    return pool, out, json.loads(stdout)


def test_the_page_names_the_embedder_as_the_user_did(selection):
    """The lead names the embedder as typed (tfidf); its full identity is the tooltip, for the record."""
    _, path, data = selection
    html = path.read_text()
    identity = data["report"]["embedder"]
    assert identity.startswith("tfidf-svd:") and data["report"]["embedder_label"] == "tfidf"
    assert f'Embedder <span title="{identity}">tfidf</span>;' in html


def test_the_token_count_is_exact_as_in_the_table(selection):
    """It read '1.1K' beside '1.04K' (a quantity's 3 significant figures, trailing zero dropped) where the
    CLI's table says 1,101 and 1,045."""
    _, path, data = selection
    html = path.read_text()
    for where in ("coverage", "random_baseline"):
        n = data["report"][where]["n_tokens"]
        assert n >= 1000  # where the two formats differ
        assert f'data-key="report.{where}.n_tokens" data-value="{float(n)!r}">{n:,}</span>' in html


def test_select_report_in_browser(selection, open_report):
    _, path, data = selection
    assert path.stat().st_size <= 5_000_000
    view = open_report(path)
    assert_healthy(view, {"funnel", "map", "clusters"})
    assert assert_numbers_match(view, data) >= 15
    assert view.page.evaluate("window.__pwned === undefined")


def test_every_chart_says_what_it_shows_to_a_screen_reader(selection, open_report):
    """Each chart's aria-label was Vega's default, 'Vega visualization', three times over."""
    _, path, _ = selection
    view = open_report(path)
    labels = view.page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('.vis')].map("
        "e => [e.id, e.getAttribute('aria-label')]))"
    )
    assert set(labels) == {"funnel", "map", "clusters"}
    assert labels["funnel"].startswith("Bar chart of the rows left after each stage")
    assert labels["map"].startswith("Scatter plot of the candidates")
    assert labels["clusters"].startswith("Bar chart of the share of the pool")


def test_select_report_fits_a_phone(selection, open_report):
    """At 400 px the funnel, map and cluster charts no longer widen the page (it was 926 px wide)."""
    _, path, _ = selection
    view = open_report(path, width=400)
    assert view.state == "yes"
    assert overflowing(view) == []


def test_pool_text_is_escaped(selection, open_report):
    """The markup row reaches the page as text (in the examples or the map's data), never as markup."""
    _, path, _ = selection
    html = path.read_text()
    assert "<script>window.__pwned" not in html
    assert "\\u003cscript\\u003ewindow.__pwned" in html  # in the map's JSON, as \u escapes
    view = open_report(path)
    assert view.page.evaluate("window.__pwned === undefined")
    assert view.page.evaluate("document.querySelectorAll('img').length") == 0
    # the hover text of the map holds the row verbatim (a JSON string inside the spec)
    specs = json.loads(
        view.page.evaluate("document.getElementById('tokenplan-charts').textContent")
    )
    texts = [row["text"] for row in data_rows(specs["map"]) if "text" in row]
    assert any("item 7)" in t and "<script>" in t for t in texts)


def test_funnel_counts_add_up(selection):
    _, path, data = selection
    rep = data["report"]
    assert rep["drop_reasons"]["exact_duplicate"] == 3
    assert (
        rep["n_rows"] - rep["n_malformed"] - sum(rep["drop_reasons"].values())
        == rep["n_candidates"]
    )
    html = path.read_text()
    for reason in rep["drop_reasons"]:
        assert reason.replace("_", " ") in html


def test_map_toggle_shows_the_random_subset(selection, open_report):
    """The checkbox bound to the map draws the random subset of the same size."""
    _, path, _ = selection
    view = open_report(path)
    page = view.page
    painted = (
        "(() => { const c = document.querySelector('#map canvas'); "
        "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0; "
        "for (let i = 0; i < d.length; i += 4) if (d[i] < 60 && d[i+1] < 60 && d[i+2] < 60) n++; "
        "return n; })()"
    )
    before = page.evaluate(painted)
    page.check("#map input[type=checkbox]")
    page.wait_for_timeout(300)
    after = page.evaluate(painted)
    assert after > before  # black crosses appeared


def test_report_refuses_the_input_and_existing_files(tmp_path):
    pool = make_pool(tmp_path / "pool.jsonl", n=30)
    r = run_cli(*select_args(pool, "--n", "5", "--report", str(pool)))
    assert r.returncode == 2 and "--report" in r.stderr and "Traceback" not in r.stderr
    old = tmp_path / "old.html"
    old.write_text("mine")
    r = run_cli(*select_args(pool, "--n", "5", "--report", str(old)))
    assert r.returncode == 2 and "--overwrite" in r.stderr
    assert old.read_text() == "mine"


def test_100k_pool_is_sampled_and_stays_light(tmp_path, open_report):
    """A 100k-row selection: the map holds MAP_POINTS points (every pick kept), the page says so."""
    from tokenplan.report.select_page import MAP_POINTS, write_select_report

    report, emb, labels, sel, rnd = synthetic_selection()
    out = write_select_report(
        tmp_path / "big.html",
        report,
        embeddings=emb,
        labels=labels,
        selected=sel,
        random=rnd,
        text_of=lambda pos: [f"row {p} " + EVIL for p in pos],
    )
    assert out.stat().st_size <= 5_000_000
    view = open_report(out)
    assert_healthy(view, {"funnel", "map", "clusters"})
    assert view.page.evaluate("window.__pwned === undefined")
    note = view.page.inner_text("#map-note")
    assert f"shows {MAP_POINTS:,} of 100,000 candidates" in note
    assert view.render_seconds < 15


def test_examples_of_a_cluster_are_set_apart(selection, open_report):
    """The examples of one cluster were grey boxes touching each other, so a prompt read as the previous
    row's answer (seen on Shakespeare speech/reply pairs, where both are short lines of verse); each
    example now has a gap and a left rule."""
    _, path, _ = selection
    view = open_report(path)
    gaps = view.page.evaluate(
        """() => [...document.querySelectorAll('details')].flatMap(d => {
             const boxes = [...d.querySelectorAll('.example')].map(e => e.getBoundingClientRect());
             return boxes.slice(1).map((b, i) => b.top - boxes[i].bottom);
           })"""
    )
    assert gaps and min(gaps) >= 6, gaps
    rule = view.page.evaluate(
        "getComputedStyle(document.querySelector('.example')).borderLeftWidth"
    )
    assert rule == "3px"


def test_a_prompt_only_pool_page_says_nothing_of_answers(tmp_path, open_report):
    """On a pool of questions alone the lead said facility-cells 'swapped short answers for a nearby long
    one'; there are no answers, so the method did not, and the page now says the answer filters were
    skipped and describes the method without them."""
    rows = [json.loads(line) for line in make_pool(tmp_path / "qa.jsonl").read_text().splitlines()]
    pool = tmp_path / "questions.jsonl"
    pool.write_text("".join(json.dumps({"question": r["instruction"]}) + "\n" for r in rows))
    out = tmp_path / "select.html"
    args = [a for a in select_args(pool) if a not in ("--domain-field", "domain")]
    stdout, _ = cli_in_process(*args, "--filters", "lima", "--report", str(out), "--json")
    view = open_report(out)
    assert_healthy(view, {"funnel", "map", "clusters"})
    lead = view.page.inner_text("#answer")
    assert "facility-cells" in lead and "farthest-first" in lead
    assert "answer" not in lead.lower(), lead
    text = view.page.inner_text("body")
    assert "answer-based filters (length, first person, references) were skipped" in text
    assert json.loads(stdout)["report"]["prompt_only"] is True  # what the page went by


def test_every_method_that_prefers_answers_has_a_prompt_only_description():
    from tokenplan.report.select_page import WHY, WHY_PROMPT_ONLY

    for method, why in WHY.items():
        if "answer" in why:
            assert method in WHY_PROMPT_ONLY, method
            assert "answer" not in WHY_PROMPT_ONLY[method], method


def test_the_selections_warnings_are_on_the_page():
    """The page left out the run's warnings: `select --example belle-eval --fields question, --embedder
    minilm` warned on the console that 88% of the pool's letters are not Latin script (MiniLM is an English
    model), and the page, the evidence attached to a review, said nothing of it. They are now listed at the
    top, as the fit and plan pages list theirs."""
    import dataclasses
    import html
    import re

    from tokenplan.report.select_page import select_report

    report, emb, labels, sel, rnd = synthetic_selection(n=2_000, k=10, picks=50)
    warning = "88% of the pool's letters are not Latin script; MiniLM is an English model <b>"
    page = select_report(
        dataclasses.replace(report, warnings=(warning,)),
        embeddings=emb,
        labels=labels,
        selected=sel,
        random=rnd,
        text_of=lambda pos: [f"row {p}" for p in pos],
    )
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.split("<script")[0])).split())
    assert f"Warnings {warning}" in text  # escaped markup, shown as text
    assert "<b>" not in page.split("<script")[0].split("Warnings", 1)[1]


def test_domains_covered_says_of_how_many_and_what_random_covers_as_the_cli_does():
    """The coverage table showed 'domains covered' as a bare count ('10' beside '12') where the CLI says
    '10 of 21', and the page left out what a uniform random subset covers on average, which the CLI prints
    after the count (exact: metrics.random_expectation)."""
    import dataclasses
    import html
    import re

    import numpy as np

    from tokenplan.cli.select import _domain_line
    from tokenplan.report.select_page import select_report
    from tokenplan.select.metrics import coverage

    report, emb, labels, sel, rnd = synthetic_selection(n=2_000, k=10, picks=50)
    weights = 1.0 / np.arange(1, 22) ** 2  # 21 domains, most of them rare
    domains = np.random.default_rng(1).choice(
        [f"d{i:02d}" for i in range(21)], 2_000, p=weights / weights.sum()
    )
    cov = {"cluster_labels": labels, "n_clusters": 10, "domains": domains}
    report = dataclasses.replace(
        report, coverage=coverage(emb, sel, **cov), random_baseline=coverage(emb, rnd, **cov)
    )
    mine, theirs = report.coverage, report.random_baseline
    assert (
        mine.domains_covered < mine.n_domains == theirs.n_domains == 21
    )  # the count needs its total
    page = select_report(
        report,
        embeddings=emb,
        labels=labels,
        selected=sel,
        random=rnd,
        text_of=lambda pos: [f"row {p}" for p in pos],
    )
    body = re.sub(
        r"</?span[^>]*>", "", page.split("<script")[0]
    )  # a number's span sits inside a phrase
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())
    row = (
        f"domains with at least one selected row {mine.domains_covered} of 21 "
        f"{theirs.domains_covered} of 21 higher"
    )
    assert row in text
    expected = (
        f"({mine.domains_covered} of 21 domains; a uniform random subset of 50 covers "
        f"{mine.domains_random_mean:.1f} on average)"
    )
    assert expected in _domain_line(mine)  # the CLI's words
    assert f"Selected rows per domain {expected}:" in text
