"""The ``tokenplan select --report FILE.html`` page: what the selection took, from where, and why.

Shows the filter funnel (rows read, malformed, dropped per filter and per dedup stage, candidates, selected);
a 2-D map of the candidates (PCA, or UMAP when ``umap-learn`` is installed) coloured by K-Means cluster with
the selected rows marked and the random subset of the same size behind a toggle; per-cluster counts of pool,
selection and random; a few selected rows per cluster; and the coverage metrics against random.

Pool text is data: it reaches the page only through escaped HTML and \\u-escaped JSON, never as markup. Big
pools are sampled for the map (every selected and random row is kept; the page says how many are shown).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tokenplan.report import _html

if TYPE_CHECKING:
    from tokenplan.select.pipeline import SelectionReport

__all__ = ["select_report", "write_select_report"]

#: Points drawn on the map at most (selected and random rows always included); hover text per point.
MAP_POINTS = 4000
HOVER_CHARS = 140
EXAMPLE_CHARS = 600
EXAMPLES_PER_CLUSTER = 3

WHY = {
    "facility-cells": "K-Means with one cell per pick, greedy facility location with one pick per cell (each "
    "pick represents its share of the pool, and no region gets two while another has none), as many short "
    "answers swapped for a nearby long one as keep the median answer at the pool's, then "
    "density-weighted farthest-first for one pick in ten.",
    "facility-kcenter": "greedy facility location for nine picks in ten (every pool row wants a selected row "
    "near it, so dense regions are represented), then density-weighted farthest-first for the rest, so no "
    "populated region stays far from the subset.",
    "facility-location": "greedy facility location: each pick most reduces the pool's total distance to "
    "its nearest selected row, so the subset represents where the pool is dense.",
    "kmeans-medoids": "K-Means with one cluster per pick; the row nearest each centroid is chosen.",
    "random": "a uniform sample without replacement (the baseline every other method is measured against).",
    "lima": "domain-balanced temperature sampling (LIMA, Zhou et al. 2023): domain d gets a share "
    "∝ n_d^(1/τ), then a uniform sample inside each domain.",
    "kcenter": "KCenterGreedy over the whole pool: each pick is the row farthest from everything picked so "
    "far, so the subset spreads over the embedding space (small coverage radius).",
    "task-center": 'the "0.5% data" method (Chen et al. 2023): rows are ranked by cosine to the centroid '
    "of the cluster holding most of their task, and KCenterGreedy spreads the picks from the top-ranked row.",
    "kcenter-per-cluster": "the budget is split over the K-Means clusters by size, and KCenterGreedy picks "
    "inside each cluster, so every cluster is represented in proportion.",
    "stratified-cells": "K-Means with one cell per pick and one row drawn at random in each cell, among its "
    "rows with an answer at least the pool's median (prompt-only: its inner half), then density-weighted "
    "farthest-first for one pick in ten: a stratified sample, spread over the pool, with random's label mix.",
    "random-greedy-cells": "as facility-cells, but each pick is drawn at random among the rows of largest "
    "facility-location gain (random greedy) instead of always the best one, so a cell that mixes tasks does "
    "not give its majority task at every seed.",
    "stratified-inner": "as stratified-cells, but each cell's row is drawn among its inner half (rows near "
    "the cell's centre) with an answer at least the pool's median.",
    "target:centroid": "--target: the pool rows nearest the mean of your task's examples (their cosine to "
    "the examples' normalised mean vector), best first.",
    "target:task-center": '--target, the "0.5% data" paper\'s procedure (Chen et al. 2023): the centroid of '
    "the K-Means cluster holding most of your examples, then KCenterGreedy over that cluster's rows.",
    "target:nearest": "--target: the pool rows most similar to any one of your task's examples, best first.",
    "stratified-uniform": "K-Means with one cell per pick and one row drawn uniformly in each cell, with no "
    "preference inside a cell: a stratified sample, spread over the pool with random's mix in every region.",
}
# A prompt-only pool has no answers: the methods above that prefer long answers do not (methods.py).
WHY_PROMPT_ONLY = {
    "facility-cells": "K-Means with one cell per pick, greedy facility location with one pick per cell (each "
    "pick represents its share of the pool, and no region gets two while another has none), then "
    "density-weighted farthest-first for one pick in ten.",
    "stratified-cells": "K-Means with one cell per pick and one row drawn at random in each cell, among its "
    "inner half (rows near the cell's centre), then density-weighted farthest-first for one pick in ten: a "
    "stratified sample, spread over the pool, with random's label mix.",
    "stratified-inner": "as stratified-cells: each cell's row is drawn among its inner half (rows near the "
    "cell's centre).",
}


def _why(report: SelectionReport) -> str:
    """What the method did, without the answer preferences on a prompt-only pool."""
    if report.prompt_only and report.method in WHY_PROMPT_ONLY:
        return WHY_PROMPT_ONLY[report.method]
    return WHY.get(report.method, "")


def select_report(
    report: SelectionReport,
    *,
    embeddings: np.ndarray,
    labels: np.ndarray,
    selected: np.ndarray,
    random: np.ndarray,
    text_of: Callable[[np.ndarray], Sequence[str]],
    domains: np.ndarray | None = None,
    max_points: int = MAP_POINTS,
    seed: int = 0,
) -> str:
    """The HTML page of one selection.

    ``embeddings`` (n, d) and ``labels`` (n,) describe the n candidates (after filters and dedup);
    ``selected`` and ``random`` are candidate positions (the pick and the random baseline: the same size,
    or the same token budget);
    ``text_of(positions)`` returns the text of those candidates (only the rows shown are asked for).
    """
    alt = _html.require()
    n = len(embeddings)
    labels = np.asarray(labels)
    sel, rnd = np.asarray(selected, dtype=np.int64), np.asarray(random, dtype=np.int64)
    shown = _map_sample(n, sel, rnd, max_points=max_points, seed=seed)
    xy, projection = _project(embeddings, shown, seed=seed)
    examples = _examples(labels, sel, EXAMPLES_PER_CLUSTER)
    want = np.unique(np.concatenate([shown, [p for ps in examples.values() for p in ps]]))
    texts = dict(zip(want.tolist(), text_of(want), strict=True))
    counts = _cluster_counts(labels, sel, rnd)
    charts = {
        "funnel": _funnel_chart(alt, _funnel(report)),
        "map": _map_chart(alt, xy, shown, labels, sel, rnd, texts, projection),
        "clusters": _clusters_chart(alt, counts),
    }
    return _html.page(
        "select.html",
        subject=f"{report.n_selected:,} of {report.n_candidates:,} rows ({report.method})",
        charts=charts,
        r=report,
        why=_why(report),
        funnel=_funnel(report),
        counts=counts,
        examples=[
            (c, counts_row, [texts[p][:EXAMPLE_CHARS] for p in examples.get(c, [])])
            for c, counts_row in ((row["cluster"], row) for row in counts)
            if examples.get(c)
        ],
        n_shown=len(shown),
        n_candidates=n,
        projection=projection,
        metrics=_metrics(report),
    )


def write_select_report(
    path: str | os.PathLike[str], report: SelectionReport, **kwargs: Any
) -> Path:
    """Write :func:`select_report` to ``path`` (checked and written atomically; ``overwrite``/``inputs``)."""
    overwrite, inputs = kwargs.pop("overwrite", False), kwargs.pop("inputs", ())
    _html.check(path, overwrite=overwrite, inputs=inputs)
    return _html.write_page(
        select_report(report, **kwargs), path, overwrite=overwrite, inputs=inputs
    )


# --------------------------------------------------------------------------------------------------------
# the funnel
# --------------------------------------------------------------------------------------------------------
_DEDUP_ORDER = ("exact_duplicate", "near_duplicate", "semantic_duplicate", "target_example")


def _funnel(report: SelectionReport) -> list[dict[str, Any]]:
    """Stages in pipeline order: rows read, then each drop (filters first, then dedup), candidates, selected."""
    rows = [
        {"stage": "rows read", "kind": "in", "dropped": 0, "left": report.n_rows, "key": "n_rows"}
    ]
    left = report.n_rows - report.n_malformed
    rows.append(
        {
            "stage": "malformed",
            "kind": "read",
            "dropped": report.n_malformed,
            "left": left,
            "key": "n_malformed",
        }
    )
    for reason in _stages(report):
        dropped = report.drop_reasons.get(reason, 0)
        left -= dropped
        kind = "dedup" if reason in _DEDUP_ORDER else "filter"
        rows.append(
            {
                "stage": reason.replace("_", " "),
                "kind": kind,
                "dropped": dropped,
                "left": left,
                "key": f"drop_reasons.{reason}" if reason in report.drop_reasons else "",
            }
        )
    rows.append(
        {
            "stage": "candidates",
            "kind": "in",
            "dropped": 0,
            "left": report.n_candidates,
            "key": "n_candidates",
        }
    )
    rows.append(
        {
            "stage": "selected",
            "kind": "out",
            "dropped": 0,
            "left": report.n_selected,
            "key": "n_selected",
        }
    )
    for i, row in enumerate(rows):
        row["order"] = i
    return rows


def _stages(report: SelectionReport) -> list[str]:
    """Every check that ran (``drop_stages``), dropping rows or not, and any reason that dropped rows, in
    pipeline order: filters, then dedup. (The funnel listed only reasons that dropped rows, so a filter
    that ran and dropped none looked as if it had not run.)"""
    from tokenplan.select.filters import DROP_REASONS

    seen = [*report.drop_stages, *report.drop_reasons]
    known = [r for r in DROP_REASONS if r in seen]
    return known + sorted({r for r in seen if r not in DROP_REASONS})


def _funnel_chart(alt: Any, rows: list[dict]) -> Any:
    y = alt.Y("stage:N", sort=alt.EncodingSortField("order"), title=None)
    bars = (
        alt.Chart(alt.Data(values=rows))
        .mark_bar()
        .encode(
            alt.X("left:Q", title="rows left after the stage"),
            y,
            alt.Color(
                "kind:N",
                title="stage",
                scale=alt.Scale(
                    domain=["in", "read", "filter", "dedup", "out"],
                    range=["#8da0cb", "#bbbbbb", "#fc8d62", "#e78ac3", "#1b9e77"],
                ),
            ),
            tooltip=[
                "stage:N",
                alt.Tooltip("left:Q", format=","),
                alt.Tooltip("dropped:Q", format=","),
            ],
        )
    )
    return bars.properties(
        width=760,
        height=24 * len(rows),
        description="Bar chart of the rows left after each stage of the selection; the table below "
        "lists the same counts.",
    )


# --------------------------------------------------------------------------------------------------------
# the map
# --------------------------------------------------------------------------------------------------------
def _map_sample(
    n: int, sel: np.ndarray, rnd: np.ndarray, *, max_points: int, seed: int
) -> np.ndarray:
    """Candidate positions drawn on the map: all of them, or every selected/random row plus a uniform sample."""
    if n <= max_points:
        return np.arange(n)
    must = np.unique(np.concatenate([sel, rnd]))
    rest = np.setdiff1d(np.arange(n), must, assume_unique=True)
    room = max(0, max_points - len(must))
    extra = np.random.default_rng(seed).choice(rest, size=min(room, len(rest)), replace=False)
    return np.sort(np.concatenate([must, extra]))


def _project(embeddings: np.ndarray, shown: np.ndarray, *, seed: int) -> tuple[np.ndarray, str]:
    """2-D coordinates of the shown rows: UMAP if installed (fitted on the shown rows), else PCA of the pool."""
    import importlib.util

    x = np.asarray(embeddings, dtype=np.float32)
    if importlib.util.find_spec("umap") is not None and len(shown) >= 10:
        import umap

        xy = umap.UMAP(n_components=2, random_state=seed, n_jobs=1).fit_transform(x[shown])
        return np.asarray(xy, dtype=float), "UMAP"
    from tokenplan.select.plot import pca_2d

    return pca_2d(x, seed=seed)[shown].astype(float), "PCA"


# Vega's category20 (d3.schemeCategory20), the map's palette up to 20 clusters.
CATEGORY20 = (
    "#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896", "#9467bd",
    "#c5b0d5", "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#7f7f7f", "#c7c7c7", "#bcbd22", "#dbdb8d",
    "#17becf", "#9edae5",
)  # fmt: skip


def cluster_colours(k: int) -> list[str]:
    """One colour per cluster, no two alike: category20 up to 20 clusters; beyond, hues a golden angle
    apart at three lightnesses (category20 by name repeats from the 21st cluster: clusters 0 and 20 were
    drawn in the same blue)."""
    import colorsys

    if k <= len(CATEGORY20):
        return list(CATEGORY20[:k])
    out: list[str] = []
    i = 0
    while len(out) < k:
        hue = (i * 0.6180339887498949) % 1.0
        r, g, b = colorsys.hls_to_rgb(hue, (0.42, 0.6, 0.76)[i % 3], 0.7)
        colour = f"#{round(255 * r):02x}{round(255 * g):02x}{round(255 * b):02x}"
        if colour not in out:  # two hues that round to one colour: take the next hue instead
            out.append(colour)
        i += 1
    return out


def _map_chart(alt, xy, shown, labels, sel, rnd, texts, projection) -> Any:
    in_sel, in_rnd = np.zeros(len(labels), bool), np.zeros(len(labels), bool)
    in_sel[sel], in_rnd[rnd] = True, True
    rows = [
        {
            "x": round(float(a), 5),
            "y": round(float(b), 5),
            "cluster": int(labels[p]),
            "selected": bool(in_sel[p]),
            "random": bool(in_rnd[p]),
            "text": _hover(texts[int(p)]),
        }
        for (a, b), p in zip(xy, shown)
    ]
    show_random = alt.param(
        name="show_random", value=False, bind=alt.binding_checkbox(name="show the random subset ")
    )
    x = alt.X("x:Q", title=f"{projection} 1", axis=alt.Axis(labels=False, ticks=False))
    y = alt.Y("y:Q", title=f"{projection} 2", axis=alt.Axis(labels=False, ticks=False))
    k = int(labels.max()) + 1 if len(labels) else 1
    scale = alt.Scale(domain=list(range(k)), range=cluster_colours(k))
    color = alt.Color("cluster:N", legend=None, scale=scale)
    tip = [alt.Tooltip("cluster:N"), alt.Tooltip("text:N", title="text")]
    base = alt.Chart(alt.Data(values=rows))
    pool = base.mark_circle(size=14, opacity=0.35).encode(x, y, color, tooltip=tip)
    chosen = (
        base.transform_filter("datum.selected")
        .mark_point(size=70, filled=True, stroke="black", strokeWidth=1, opacity=0.95)
        .encode(x, y, color, tooltip=tip)
    )
    # Hidden points get size 0 (no hover target); filtering them out would leave an empty layer.
    random_ = (
        base.transform_filter("datum.random")
        .mark_point(shape="cross", filled=True, color="black")
        .encode(
            x,
            y,
            size=alt.condition(show_random, alt.value(60), alt.value(0)),
            opacity=alt.condition(show_random, alt.value(0.8), alt.value(0.0)),
            tooltip=tip,
        )
    )
    return (
        alt.layer(pool, chosen, random_)
        .add_params(show_random)
        .properties(
            width=760,
            height=520,
            description="Scatter plot of the candidates in two dimensions, coloured by K-Means cluster, "
            "the selected rows outlined; the examples per cluster below list what was selected.",
        )
        .interactive()
    )


def _hover(text: str) -> str:
    one = " ".join(text.split())
    return one if len(one) <= HOVER_CHARS else one[: HOVER_CHARS - 1] + "…"


# --------------------------------------------------------------------------------------------------------
# clusters, examples, metrics
# --------------------------------------------------------------------------------------------------------
def _cluster_counts(labels: np.ndarray, sel: np.ndarray, rnd: np.ndarray) -> list[dict[str, Any]]:
    k = int(labels.max()) + 1 if len(labels) else 0
    pool = np.bincount(labels, minlength=k)
    s = np.bincount(labels[sel], minlength=k)
    r = np.bincount(labels[rnd], minlength=k)
    order = np.argsort(-pool, kind="stable")
    return [
        {"cluster": int(c), "pool": int(pool[c]), "selected": int(s[c]), "random": int(r[c])}
        for c in order
        if pool[c] > 0
    ]


def _clusters_chart(alt: Any, counts: list[dict]) -> Any:
    total = {k: max(1, sum(row[k] for row in counts)) for k in ("pool", "selected", "random")}
    rows = [
        {
            "cluster": row["cluster"],
            "rank": i,
            "subset": k,
            "count": row[k],
            "share": row[k] / total[k],
        }
        for i, row in enumerate(counts)
        for k in ("pool", "selected", "random")
    ]
    width = max(300, min(900, 9 * len(rows)))
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_bar()
        .encode(
            alt.X("cluster:N", sort=alt.EncodingSortField("rank"), title="cluster (largest first)"),
            alt.XOffset("subset:N", sort=["pool", "selected", "random"]),
            alt.Y("share:Q", title="share of the subset", axis=alt.Axis(format="%")),
            alt.Color(
                "subset:N",
                sort=["pool", "selected", "random"],
                scale=alt.Scale(range=["#bbbbbb", "#1b9e77", "#7570b3"]),
            ),
            tooltip=[
                "cluster:N",
                "subset:N",
                alt.Tooltip("count:Q", format=","),
                alt.Tooltip("share:Q", format=".1%"),
            ],
        )
        .properties(
            width=width,
            height=220,
            description="Bar chart of the share of the pool, the selection and the random subset in "
            "each K-Means cluster; the per-cluster counts below list the numbers.",
        )
    )


def _examples(labels: np.ndarray, sel: np.ndarray, per_cluster: int) -> dict[int, list[int]]:
    """The first ``per_cluster`` picks (in pick order) of every cluster."""
    out: dict[int, list[int]] = {}
    for p in sel.tolist():
        c = int(labels[p])
        if len(out.setdefault(c, [])) < per_cluster:
            out[c].append(p)
    return out


_METRICS = (
    (
        "coverage_radius",
        "coverage radius (max distance to the nearest selected row)",
        ".4f",
        "lower",
    ),
    ("mean_distance", "mean distance to the nearest selected row", ".4f", "lower"),
    ("p95_distance", "95th percentile of that distance", ".4f", "lower"),
    ("clusters_hit_share", "share of clusters with at least one selected row", "pct", "higher"),
    ("kl_clusters", "KL(subset clusters ‖ pool clusters), nats", ".4f", "lower: mirrors the pool"),
    ("kl_domains", "KL(subset domains ‖ pool domains), nats", ".4f", "lower: mirrors the pool"),
    ("domains_covered", "domains with at least one selected row", "int", "higher"),
    ("n_tokens", "tokens in the subset (approx.)", "int", ""),  # exact, as the CLI's table
)


def _metrics(report: SelectionReport) -> list[tuple[str, str, str, str, Any, Any]]:
    sel, rnd = report.coverage.to_dict(), report.random_baseline.to_dict()
    return [
        (key, label, fmt, better, sel[key], rnd[key])
        for key, label, fmt, better in _METRICS
        if sel.get(key) is not None and not (isinstance(sel[key], float) and math.isnan(sel[key]))
    ]
