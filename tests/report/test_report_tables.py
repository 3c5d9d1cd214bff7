"""What the report pages leave out or blur: the select map's palette repeated from the 21st cluster (two
clusters in one colour), the select funnel omitted checks that dropped no row (a filter that ran and dropped
0 looked as if it had not run), and the sweep page's run table of a repetition grid had no unique tokens,
epochs or dropout, the very things its runs differ in."""

from __future__ import annotations

import csv
import json
import re
import shutil

import pytest

from helpers import REPO, run_cli

pytest.importorskip("altair")


def _table(html: str, table_id: str) -> list[list[str]]:
    body = html[html.index(f'id="{table_id}"') :]
    body = body[: body.index("</table>")]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S)
    cells = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, flags=re.S) for r in rows]
    return [[" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in row] for row in cells]


@pytest.mark.parametrize("k", [1, 20, 21, 40, 64, 300])
def test_every_cluster_gets_its_own_colour(k):
    from tokenplan.report.select_page import CATEGORY20, cluster_colours

    colours = cluster_colours(k)
    assert len(colours) == k == len(set(colours))
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colours)
    if k <= 20:
        assert colours == list(CATEGORY20[:k])


def test_the_map_colours_each_cluster_by_its_id():
    import altair as alt
    import numpy as np

    from tokenplan.report.select_page import _map_chart, cluster_colours

    labels = np.arange(25) % 23  # 23 clusters
    xy = np.random.default_rng(0).normal(size=(25, 2))
    chart = _map_chart(
        alt, xy, np.arange(25), labels, np.array([0]), np.array([1]), ["t"] * 25, "PCA"
    )
    scale = chart.to_dict()["layer"][0]["encoding"]["color"]["scale"]
    assert scale == {"domain": list(range(23)), "range": cluster_colours(23)}


def test_the_funnel_shows_checks_that_dropped_nothing(tmp_path):
    pool = tmp_path / "pool.jsonl"
    rows = [{"prompt": f"question {i}?", "response": f"answer number {i} " * 3} for i in range(8)]
    rows.append(dict(rows[0]))  # one exact copy: exact dedup drops 1
    pool.write_text("".join(json.dumps(r) + "\n" for r in rows))
    page = tmp_path / "r.html"
    r = run_cli(
        "select", "-i", str(pool), "--n", "3", "--embedder", "tfidf", "--min-chars", "5",
        "--report", str(page), "--json",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)["report"]
    assert report["drop_reasons"] == {"exact_duplicate": 1}
    assert report["drop_stages"] == ["empty", "too_short", "exact_duplicate"]
    funnel = _table(page.read_text(), "funnel-table")
    stages = {row[0]: row[1:] for row in funnel[1:]}
    assert stages["empty (filter)"] == ["0", "9"] and stages["too short (filter)"] == ["0", "9"]
    assert stages["exact duplicate (dedup)"] == ["1", "8"]
    assert "near duplicate (dedup)" not in stages  # not switched on: not shown as if it ran


def test_the_repetition_grids_run_table_shows_epochs_and_dropout(tmp_path):
    from tokenplan.report.sweep_page import sweep_report
    from tokenplan.sweep import SweepResult, load_spec

    out = tmp_path / "repeat"
    shutil.copytree(REPO / "docs" / "results" / "repeat", out)
    runs = list(csv.DictReader(open(out / "results.csv", newline="")))
    result = SweepResult(
        out_dir=str(out),
        results_csv=str(out / "results.csv"),
        curves_csv=str(out / "curves.csv"),
        best_lr_csv=None,
        n_runs=len(runs),
        n_skipped=len(runs),
        n_trained=0,
        trained_ids=(),
        counts={"runs": len(runs), "ok": len(runs), "failed": 0, "too_few_steps": 0},
        wall_seconds=1.0,
    )
    table = _table(sweep_report(result, load_spec(out / "sweep.yaml")), "runs-table")
    head = table[0]
    assert head[head.index("FLOPs") + 1 : head.index("loss")] == [
        "unique tokens",
        "epochs",
        "dropout",
    ]
    col = {name: head.index(name) for name in ("run", "epochs", "dropout")}
    shown = {row[col["run"]]: (row[col["epochs"]], row[col["dropout"]]) for row in table[1:]}
    for run in runs:
        epochs, dropout = shown[run["run_id"]]
        assert float(epochs) == pytest.approx(float(run["epochs"]), rel=5e-3)
        p, schedule = float(run["dropout"]), run["dropout_schedule"]
        assert dropout == ("none" if p == 0 else f"{p:g} {schedule}") or dropout.startswith(
            f"{p:g} late from "
        )
    assert len({d for _, d in shown.values()}) > 1 and len({e for e, _ in shown.values()}) > 1
