"""Selection benchmarks, each a ratio against a baseline run in the same process.

1. KCenterGreedy, 100k x 384 random unit vectors, budget 500 (seed included):
   ours (running min-distance vector, one float32 mat-vec per step) vs a DeepCore-style implementation
   (PatrickZH/DeepCore deepcore/methods/kcentergreedy.py, ported as is to torch on CPU: per step it copies the
   unselected rows with a boolean mask, computes a distance row with euclidean_dist and scatters it into a
   (budget x n) distance matrix), and vs the memory-bandwidth bound: budget x the time to stream the matrix
   once (the faster of a float32 mat-vec and a column sum, measured here).
2. K-Means 100k x 384, k = 100, 20 iterations: faiss vs our numpy fallback (same recipe: 256 points per
   centroid, then one assignment of every point).
3. Embedding throughput (texts/s): packaged all-MiniLM-L6-v2 (sentence-transformers, CPU) and TF-IDF + SVD.

Run: python bench/select_bench.py [--n 100000] [--dim 384] [--budget 500] [--repeats 3] [--skip-deepcore]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np


def _unit(n, d, seed=0):
    x = np.random.default_rng(seed).standard_normal((n, d), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def _time(fn, repeats):
    times = []
    out = None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


# --- DeepCore, ported verbatim to CPU torch (prints removed) ------------------------------------------------
def _euclidean_dist(x, y):
    import torch

    m, n = x.size(0), y.size(0)
    xx = torch.pow(x, 2).sum(1, keepdim=True).expand(m, n)
    yy = torch.pow(y, 2).sum(1, keepdim=True).expand(n, m).t()
    dist = xx + yy
    dist.addmm_(x, y.t(), beta=1, alpha=-2)
    dist = dist.clamp(min=1e-12).sqrt()
    return dist


def deepcore_k_center_greedy(matrix, budget, seed_index):
    import torch

    sample_num = matrix.shape[0]
    with torch.no_grad():
        select_result = np.zeros(sample_num, dtype=bool)
        already_selected = [
            seed_index
        ]  # DeepCore draws it with np.random.randint; fixed here to compare
        budget -= 1
        select_result[already_selected] = True
        num_of_already_selected = np.sum(select_result)
        dis_matrix = -1 * torch.ones([num_of_already_selected + budget - 1, sample_num])
        dis_matrix[:num_of_already_selected, ~select_result] = _euclidean_dist(
            matrix[select_result], matrix[~select_result]
        )
        mins = torch.min(dis_matrix[:num_of_already_selected, :], dim=0).values
        order = [seed_index]
        for i in range(budget):
            p = torch.argmax(mins).item()
            select_result[p] = True
            order.append(p)
            if i == budget - 1:
                break
            mins[p] = -1
            dis_matrix[num_of_already_selected + i, ~select_result] = _euclidean_dist(
                matrix[[p]], matrix[~select_result]
            )
            mins = torch.min(mins, dis_matrix[num_of_already_selected + i])
    return np.array(order)


def bench_kcenter(n, d, budget, repeats, skip_deepcore):
    from tokenplan.select.kcenter import kcenter_greedy

    x = _unit(n, d)
    v = x[0].copy()
    out = np.empty(n, np.float32)
    t_gemv, _ = _time(lambda: np.dot(x, v, out=out), 9)
    t_sum, _ = _time(lambda: x.sum(axis=0), 9)
    t_stream = min(t_gemv, t_sum)
    bound = budget * t_stream
    t_ours, res = _time(lambda: kcenter_greedy(x, budget, seed_index=0), repeats)
    row = {
        "n": n,
        "dim": d,
        "budget": budget,
        "matrix_mb": round(x.nbytes / 1e6, 1),
        "stream_once_ms": {"gemv": round(t_gemv * 1e3, 2), "colsum": round(t_sum * 1e3, 2)},
        "bandwidth_bound_s": round(bound, 3),
        "effective_gb_per_s": round(x.nbytes / t_stream / 1e9, 2),
        "ours_s": round(t_ours, 3),
        "ours_over_bound": round(t_ours / bound, 3),
        "n_returned": len(res.indices),
    }
    if not skip_deepcore:
        import torch

        xt = torch.from_numpy(x)
        t_dc, dc = _time(lambda: deepcore_k_center_greedy(xt, budget, 0), 1)
        row["deepcore_s"] = round(t_dc, 3)
        row["speedup_vs_deepcore"] = round(t_dc / t_ours, 2)
        row["same_picks_as_deepcore"] = float(np.mean(np.isin(res.indices, dc)))
    return row


def bench_kmeans(n, d, k, repeats):
    from tokenplan.select.cluster import kmeans

    x = _unit(n, d, seed=1)
    row = {"n": n, "dim": d, "k": k, "n_iter": 20}
    t_np, r_np = _time(lambda: kmeans(x, k, seed=0, backend="numpy"), repeats)
    row["numpy_s"] = round(t_np, 3)
    row["numpy_inertia"] = round(r_np.inertia, 1)
    try:
        t_fa, r_fa = _time(lambda: kmeans(x, k, seed=0, backend="faiss"), repeats)
    except Exception as exc:  # faiss missing
        row["faiss"] = f"unavailable ({exc})"
        return row
    row["faiss_s"] = round(t_fa, 3)
    row["faiss_inertia"] = round(r_fa.inertia, 1)
    row["numpy_over_faiss_time"] = round(t_np / t_fa, 3)
    row["numpy_over_faiss_inertia"] = round(r_np.inertia / r_fa.inertia, 4)
    return row


def _texts(n):
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "shared" / "data" / "sft" / "alpaca_en_demo.json"
    if path.exists():
        rows = json.loads(path.read_text())
        texts = [f"{r['instruction']}\n\n{r['input']}\n\n{r['output']}" for r in rows]
        source = "alpaca_en_demo.json (instruction + input + output)"
    else:
        words = "the of model data train token loss scale compute budget select sample".split()
        rng = np.random.default_rng(0)
        texts = [" ".join(rng.choice(words, 120)) for _ in range(n)]
        source = "synthetic 120-word texts"
    texts = (texts * (n // len(texts) + 1))[:n]
    return texts, source


def bench_embed(n_texts):
    from tokenplan.select.embed import get_embedder

    texts, source = _texts(n_texts)
    row = {
        "n_texts": n_texts,
        "texts": source,
        "mean_chars": round(float(np.mean([len(t) for t in texts]))),
    }
    tf = get_embedder("tfidf")
    t, _ = _time(lambda: tf.encode(texts), 1)
    row["tfidf_texts_per_s"] = round(n_texts / t, 1)
    try:
        st = get_embedder("minilm")
        st.encode(texts[:8])  # load the model outside the timing
        t, _ = _time(lambda: st.encode(texts), 1)
        row["minilm_texts_per_s"] = round(n_texts / t, 1)
        short = [s[:200] for s in texts]
        t, _ = _time(lambda: st.encode(short), 1)
        row["minilm_texts_per_s_200_chars"] = round(n_texts / t, 1)
    except Exception as exc:
        row["minilm"] = f"unavailable ({exc})"
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--budget", type=int, default=500)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--embed-texts", type=int, default=256)
    ap.add_argument("--skip-deepcore", action="store_true")
    ap.add_argument("--only", choices=["kcenter", "kmeans", "embed"], default=None)
    args = ap.parse_args()
    from threadpoolctl import threadpool_info

    result = {"blas": [(i["internal_api"], i.get("num_threads")) for i in threadpool_info()]}
    if args.only in (None, "kcenter"):
        result["kcenter"] = bench_kcenter(
            args.n, args.dim, args.budget, args.repeats, args.skip_deepcore
        )
        print(json.dumps({"kcenter": result["kcenter"]}), flush=True)
    if args.only in (None, "kmeans"):
        result["kmeans"] = bench_kmeans(args.n, args.dim, args.k, args.repeats)
        print(json.dumps({"kmeans": result["kmeans"]}), flush=True)
    if args.only in (None, "embed"):
        result["embed"] = bench_embed(args.embed_texts)
        print(json.dumps({"embed": result["embed"]}), flush=True)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
