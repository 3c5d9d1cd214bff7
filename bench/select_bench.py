"""Selection benchmarks, each a ratio against a baseline run in the same process.

1. KCenterGreedy, 100k x 384 random unit vectors, budget 500 (seed included):
   ours (running min-distance vector, one float32 mat-vec per step) vs a DeepCore-style implementation
   (PatrickZH/DeepCore deepcore/methods/kcentergreedy.py, ported as is to torch on CPU: per step it copies the
   unselected rows with a boolean mask, computes a distance row with euclidean_dist and scatters it into a
   (budget x n) distance matrix), and vs the memory-bandwidth bound: budget x the time to stream the matrix
   once (the faster of a float32 mat-vec and a column sum, measured here).
2. K-Means 100k x 384, k = 100, 20 iterations: faiss vs our numpy fallback (same recipe: 256 points per
   centroid, then one assignment of every point).
3. Embedding throughput (texts/s) of the packaged all-MiniLM-L6-v2 on each backend against plain
   ``SentenceTransformer.encode`` in the same process (interleaved rounds, median of the per-round ratios),
   with the cosine of each backend's vectors to plain encode's (``--fused``: also int8 on a graph fused by
   onnxruntime's transformer optimizer before quantisation).
4. The per-text cache store: SQLite (what select uses) against a memory-mapped array + index.
5. End to end: `tokenplan select` on a 3,111-row alpaca pool, cold (with and without building the ONNX
   model), warm, and with other filters; a 100k-row pool with precomputed embeddings; time and peak RSS.
6. ``tfidf-char`` on 1k and 8k alpaca texts and a 100k synthetic pool: the old computation (a whole-pool
   fit, ``fit_rows`` = n) against the current default (above 20,000 texts a 20,000-text sample fit, every text projected; the same
   computation below), time and peak RSS of fresh processes.
7. Near dedup (``--near-dedup 0.8``): LSH alone (the MinHashDeduper before 2026-12-03, datasketch's default
   bands) against LSH bands set for recall + the exact Jaccard of each candidate pair, on one-word edits at
   Jaccard 0.86 and 0.80, the 3,111-row alpaca pool, 20k templated rows and (``--bigbench DIR``) BIG-bench;
   rows dropped, wrong against brute force, time; and LSH alone with 256 and 512 permutations.
8. The TF-IDF views' whole-pool cache: a rerun of the default on the alpaca demo (plain and with
   ``--target``) reading the character view against the same rerun fitting it, cold against warm, and
   ``tfidf-char`` on the 3,111-row pool fitted against read (fresh processes, median of ``--repeats``).
9. ``--only charfit``: the character view's exact fit on 3,111 alpaca texts as it was before 2026-12-05 (one
   hashing call, the sparse Gram product, every eigenpair) against today's (chunks, Gram row blocks, the top
   pairs only), fresh processes as in 6: time, peak RSS, the vectors' largest difference.

Run: python bench/select_bench.py [--only kcenter|kmeans|embed|cache|e2e|tfidf|charfit|neardedup|poolcache] [--embed-texts 256]
     [--embed-repeats 3] [--fused] [--n 100000] [--dim 384] [--budget 500] [--repeats 3] [--skip-deepcore]
     [--tfidf-sizes 1000,8000] [--tfidf-synthetic 100000] [--bigbench DIR]
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


def _alpaca_texts():
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "shared" / "data" / "sft" / "alpaca_en_demo.json"
    if not path.exists():
        return None
    rows = json.loads(path.read_text())
    return [
        f"{r['instruction']}\n\n{r['input']}\n\n{r['output']}"
        if r["input"]
        else f"{r['instruction']}\n\n{r['output']}"
        for r in rows
    ]


def _texts(n):
    texts = _alpaca_texts()
    source = "alpaca_en_demo.json (instruction + input + output)"
    if texts is None:
        words = "the of model data train token loss scale compute budget select sample".split()
        rng = np.random.default_rng(0)
        texts = [" ".join(rng.choice(words, 120)) for _ in range(n)]
        source = "synthetic 120-word texts"
    texts = (texts * (n // len(texts) + 1))[:n]
    return texts, source


def _interleaved(fns: dict, repeats: int) -> dict:
    """Run each function once per round, round after round; median time and the last output of each."""
    times = {k: [] for k in fns}
    outs = {}
    for _ in range(repeats):
        for k, fn in fns.items():
            t = time.perf_counter()
            outs[k] = fn()
            times[k].append(time.perf_counter() - t)
    return {k: (times[k], outs[k]) for k in fns}


def _fused_int8(folder):
    """MiniLM with onnxruntime's transformer fusions (``optimize_model``: Attention, SkipLayerNormalization,
    BiasGelu ...) on the fp32 graph, then ``quantize_dynamic`` as before: an embedder reading that file."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    from tokenplan.select.fast import OnnxEmbedder
    from tokenplan.select.onnx_bert import bert_config, write_bert_onnx

    emb = OnnxEmbedder(cache_dir=folder)
    cfg = bert_config(emb.model_dir)
    write_bert_onnx(emb.model_dir, folder / "fp32.onnx", cfg, int8=False)
    fused = optimize_model(
        str(folder / "fp32.onnx"),
        model_type="bert",
        num_heads=cfg["num_attention_heads"],
        hidden_size=cfg["hidden_size"],
    )
    fused.save_model_to_file(str(folder / "fused.onnx"))
    ops = sorted({n.op_type for n in fused.model.graph.node})
    quantize_dynamic(
        folder / "fused.onnx", emb.model_path(), weight_type=QuantType.QInt8, per_channel=True
    )
    return emb, ops


def bench_embed(n_texts, repeats, fused=False):
    """texts/s of each backend against plain SentenceTransformer.encode, in the same process, interleaved.

    The baseline is what select did before issue 15: ``SentenceTransformer.encode(texts, batch_size=64)`` on
    torch (threads: torch's default, 2 here). Ratios are per round (same load), then the median.
    """
    import torch

    from tokenplan.select.embed import get_embedder, torch_threads

    texts, source = _texts(n_texts)
    st = get_embedder("minilm", backend="torch")
    fast = get_embedder("minilm", backend="onnx")  # the default: one text per call
    fast8 = get_embedder("minilm", backend="onnx", batch_size=8)
    fast32 = get_embedder("minilm", backend="onnx", batch_size=32)
    extra = {}
    if fused:
        import tempfile
        from pathlib import Path

        extra["onnx_int8_fused"], fused_ops = _fused_int8(Path(tempfile.mkdtemp(prefix="fused-")))
    model = st._load()
    tok = model.tokenizer
    lengths = [len(tok(t, truncation=True, max_length=256)["input_ids"]) for t in texts]
    for e in (st, fast, fast8, fast32, *extra.values()):
        e.encode(texts[:4])  # load / build outside the timing
    order = np.argsort([len(t) for t in texts], kind="stable")
    sorted_texts = [texts[i] for i in order]

    def in_order(emb):
        def run():
            out = np.empty((len(texts), 384), np.float32)
            for a in range(0, len(texts), 256):  # what embed_texts does: shortest first
                out[order[a : a + 256]] = emb.encode(sorted_texts[a : a + 256])
            return out

        return run

    def st_1_thread():
        with torch_threads(1):
            return st.encode(texts)

    fns = {
        "plain_st_encode": lambda: st.encode(texts),
        "torch_sorted": in_order(st),
        "torch_1_thread": st_1_thread,
        "onnx_int8_bs1 (default)": in_order(fast),
        "onnx_int8_bs8": in_order(fast8),
        "onnx_int8_bs32": in_order(fast32),
        **{k: in_order(e) for k, e in extra.items()},
    }
    res = _interleaved(fns, repeats)
    ref = res["plain_st_encode"][1]
    base = res["plain_st_encode"][0]
    row = {
        "n_texts": n_texts,
        "texts": source,
        "tokens_mean": round(float(np.mean(lengths)), 1),
        "share_truncated_at_256": round(float(np.mean(np.array(lengths) >= 256)), 3),
        "torch_threads": torch.get_num_threads(),
        "repeats": repeats,
    }
    if fused:
        row["fused_graph_ops"] = fused_ops
    for k, (t, out) in res.items():
        cos = (np.asarray(out) * ref).sum(axis=1)
        row[k] = {
            "texts_per_s": round(n_texts / statistics.median(t), 1),
            "ratio_vs_plain": round(statistics.median([b / a for a, b in zip(t, base)]), 2),
            "cos_mean": round(float(cos.mean()), 4),
            "cos_min": round(float(cos.min()), 4),
        }
    return row


def bench_cache_store(n_store, n_get, repeats):
    """The per-text store: SQLite (what select uses) against a memory-mapped array + dict index."""
    import tempfile
    from pathlib import Path

    from tokenplan.select.cache import EmbeddingCache, text_key

    rng = np.random.default_rng(0)
    vecs = rng.standard_normal((n_store, 384)).astype(np.float32)
    keys = [text_key("bench", f"text {i}") for i in range(n_store)]
    probe = [keys[i] for i in rng.choice(n_store, n_get, replace=False)]
    row = {"n_store": n_store, "n_get": n_get}
    with tempfile.TemporaryDirectory() as tmp:
        cache = EmbeddingCache(Path(tmp) / "sqlite")
        t_put, _ = _time(lambda: cache.put_many(keys, vecs), 1)
        t_get, got = _time(lambda: cache.get_many(probe), repeats)
        cache.close()
        t_open_get, _ = _time(lambda: EmbeddingCache(Path(tmp) / "sqlite").get_many(probe), repeats)
        size = (Path(tmp) / "sqlite" / EmbeddingCache.FILENAME).stat().st_size
        row["sqlite"] = {
            "put_s": round(t_put, 3),
            "get_ms": round(t_get * 1e3, 1),
            "open_and_get_ms": round(t_open_get * 1e3, 1),
            "mb": round(size / 1e6, 1),
            "hits": len(got),
        }

        def mm_put():
            mm = np.lib.format.open_memmap(
                Path(tmp) / "v.npy", mode="w+", dtype=np.float32, shape=vecs.shape
            )
            mm[:] = vecs
            mm.flush()
            np.save(Path(tmp) / "k.npy", np.frombuffer(b"".join(keys), dtype="S16"))

        def mm_open_get():
            index = {k: i for i, k in enumerate(np.load(Path(tmp) / "k.npy").tolist())}
            mm = np.load(Path(tmp) / "v.npy", mmap_mode="r")
            return {k: mm[index[k]] for k in probe if k in index}

        t_mput, _ = _time(mm_put, 1)
        t_mget, got = _time(mm_open_get, repeats)
        row["memmap_index"] = {
            "put_s": round(t_mput, 3),
            "open_and_get_ms": round(t_mget * 1e3, 1),
            "hits": len(got),
            "note": "append, locking and crash safety not included",
        }
    return row


def _pool_3k(dst):
    """3,111 alpaca rows: the 999 demo rows; the same rows reworded twice (a prefix on the instruction, a
    suffix on the answer, so no exact duplicates); then the first 114 reworded a third time."""
    from pathlib import Path

    src = Path(__file__).resolve().parents[2] / "shared" / "data" / "sft" / "alpaca_en_demo.json"
    rows = json.loads(src.read_text())
    variants = [("", ""), ("Please answer: ", " (reviewed)"), ("Task: ", " Hope this helps.")]
    pool = [
        {**r, "instruction": pre + r["instruction"], "output": r["output"] + post}
        for pre, post in variants
        for r in rows
    ]
    pool += [
        {**r, "instruction": "Question: " + r["instruction"], "output": r["output"] + " (v4)"}
        for r in rows[:114]
    ]
    with open(dst, "w", encoding="utf-8") as fh:
        for r in pool:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return len(pool)


_WRAPPER = (
    "import resource, sys\n"
    "from tokenplan.cli import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "finally:\n"
    "    ru = resource.getrusage(resource.RUSAGE_SELF)\n"
    "    cpu = ru.ru_utime + ru.ru_stime\n"
    "    sys.stderr.write(f'\\nPEAK_RSS_KB {ru.ru_maxrss} {cpu:.1f}\\n')\n"
)


def _run(args, env, stdout=None):
    """Run `tokenplan select ...` in a fresh process: ({s, cpu_s, peak_mb}, its stderr lines); its stdout
    is appended to ``stdout`` when given."""
    import os
    import subprocess
    import sys

    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, "select", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"select failed: {proc.stderr}")
    if stdout is not None:
        stdout.append(proc.stdout)
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    _, peak_kb, cpu = lines.pop().split()
    return {
        "s": round(seconds, 1),
        "cpu_s": float(cpu),
        "peak_mb": round(int(peak_kb) / 1024),
    }, lines


def bench_e2e():
    """Cold and warm end-to-end `tokenplan select` on the 3,111-row pool, each in a fresh process.

    Peak RSS is each process's own maximum resident set (``ru_maxrss``); ``cpu_s`` its user + system CPU
    time, which says more than wall time on a shared box.
    """
    import shutil
    import tempfile
    from pathlib import Path

    tmp = Path(tempfile.mkdtemp(prefix="select-bench-"))
    try:
        pool = tmp / "pool3k.jsonl"
        n = _pool_3k(pool)
        env = {"TOKENPLAN_CACHE": str(tmp / "cache")}
        base = ["-i", str(pool), "--n", "100", "--json"]
        row = {"pool_rows": n, "pool": "alpaca demo x3 reworded + 114 (see _pool_3k)"}
        row["tfidf_no_cache"], _ = _run([*base, "--no-cache", "--embedder", "tfidf"], env)
        row["cold_with_model_build"], stages = _run(base, env)
        row["cold_with_model_build"]["stages"] = stages
        shutil.rmtree(tmp / "cache" / "embeddings")
        row["cold"], stages = _run(base, env)
        row["cold"]["stages"] = stages
        row["warm"], _ = _run(base, env)
        row["other_filters"], stages = _run(
            [*base, "--min-chars", "300", "--near-dedup", "0.9"], env
        )
        row["other_filters"]["stages"] = stages
        big = tmp / "big.jsonl"
        rng = np.random.default_rng(0)
        words = np.array("the of model data train token loss scale compute budget".split())
        with open(big, "w") as fh:
            for i in range(100_000):
                text = " ".join(rng.choice(words, 30))
                fh.write(json.dumps({"prompt": f"q{i} {text}", "response": text}) + "\n")
        np.save(tmp / "big.npy", rng.standard_normal((100_000, 384)).astype(np.float32))
        row["100k_precomputed"], _ = _run(
            ["-i", str(big), "--n", "500", "--embeddings", str(tmp / "big.npy"), "--json"], env
        )
        return row
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _pool_run(args, cache, env, *, refit=False):
    """One select run for bench_pool_cache: (seconds, peak MB, texts each view read from the cache).
    ``refit``: the pool files are removed first, so the TF-IDF view is fitted (MiniLM still cached)."""
    import shutil

    if refit:
        shutil.rmtree(cache / "pools", ignore_errors=True)
    out: list[str] = []
    row, _ = _run([*args, "--cache-dir", str(cache), "--json"], env, stdout=out)
    by_view = json.loads(out[0])["report"]["n_embedded_from_cache_by_view"]
    return row["s"], row["peak_mb"], by_view


def bench_pool_cache(repeats=3):
    """The TF-IDF views' whole-pool cache (``pools/*.npy``), end to end in fresh processes, the variants
    of one round run one after another and the rounds repeated (median of ``repeats``):

    - alpaca demo (999 rows), the default embedder, ``--fraction 0.005``: cold (empty cache) -> warm
      (both views read) against the baseline warm run with the view fitted (the pool files removed:
      MiniLM read, the character view fitted, what a rerun paid when the view was not cached); the
      same with ``--target`` (5 alpaca rows): the first target run fits the pool + target texts, a rerun
      reads them, against the same rerun with the view fitted;
    - the 3,111-row pool (_pool_3k), ``--embedder tfidf-char --n 100``: fitted against read.
    """
    import shutil
    import tempfile
    from pathlib import Path

    tmp = Path(tempfile.mkdtemp(prefix="pool-cache-bench-"))
    src = Path(__file__).resolve().parents[2] / "shared" / "data" / "sft" / "alpaca_en_demo.json"
    target = tmp / "target.json"
    target.write_text(json.dumps(json.loads(src.read_text())[:5]))
    pool3k = tmp / "pool3k.jsonl"
    _pool_3k(pool3k)
    env = {"TOKENPLAN_CACHE": str(tmp / "home")}  # the ONNX model is built once, before round 1
    alpaca = ["-i", str(src), "-o", str(tmp / "x.json"), "--overwrite", "--fraction", "0.005"]
    char3k = ["-i", str(pool3k), "-o", str(tmp / "y.json"), "--overwrite", "--n", "100"]
    char3k += ["--embedder", "tfidf-char"]
    tgt = [*alpaca, "--target", str(target)]
    runs: dict[str, list] = {}
    try:
        _pool_run(alpaca, tmp / "warmup", env)
        for r in range(repeats):
            cache, c3 = tmp / f"c{r}", tmp / f"k{r}"
            plan = [
                ("cold", alpaca, cache, False),
                ("warm", alpaca, cache, False),
                ("warm_view_fitted", alpaca, cache, True),
                ("target_first", tgt, cache, False),
                ("target_warm", tgt, cache, False),
                ("target_warm_view_fitted", tgt, cache, True),
                ("char3k_fitted", char3k, c3, False),
                ("char3k_read", char3k, c3, False),
            ]
            for name, args, c, refit in plan:
                runs.setdefault(name, []).append(_pool_run(args, c, env, refit=refit))
                print(json.dumps({"round": r, name: runs[name][-1]}), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return _pool_cache_rows(runs)


def _pool_cache_rows(runs: dict) -> dict:
    """Medians (seconds, peak MB) of each variant, the views read from the cache, and the ratios."""
    med = {k: statistics.median(s for s, _, _ in v) for k, v in runs.items()}
    row = {
        k: {
            "s": round(med[k], 2),
            "peak_mb": statistics.median(m for _, m, _ in v),
            "cache": v[-1][2],
        }
        for k, v in runs.items()
    }
    row["ratios"] = {
        "warm / warm_view_fitted": round(med["warm"] / med["warm_view_fitted"], 2),
        "target_warm / target_warm_view_fitted": round(
            med["target_warm"] / med["target_warm_view_fitted"], 2
        ),
        "char3k_read / char3k_fitted": round(med["char3k_read"] / med["char3k_fitted"], 2),
        "cold / warm": round(med["cold"] / med["warm"], 1),
    }
    return row


_TFIDF_CHILD = r"""
import json, os, resource, sys, time
import numpy as np
pool, variant, out = sys.argv[1], sys.argv[2], sys.argv[3]
with open(pool) as fh:
    texts = json.load(fh)
from sklearn.decomposition import TruncatedSVD  # noqa: F401  (loaded before the RSS baseline)
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer  # noqa: F401
from tokenplan.select.embed import TfidfSvdEmbedder

# old: the whole-pool fit (fit_rows = n), the computation before the fit sample (its vectors are tested
# bit-identical to a pinned copy of the old function in tests/select/test_tfidf_fit_sample.py)
fit_rows = len(texts) if variant == "old" else 20_000
if variant == "r1":  # the exact fit before 2026-12-05: one hashing call, the sparse Gram, every eigenpair
    from tokenplan.select import embed

    def every_pair(g, k):
        w, u = np.linalg.eigh(g)
        top = np.argsort(w)[::-1][:k]
        return w[top], u[:, top]

    embed._hash, embed._gram = (lambda hv, t: hv.transform(t)), (lambda x: (x @ x.T).toarray())
    embed._top_eigh = every_pair
encode = TfidfSvdEmbedder(analyzer="char", fit_rows=fit_rows).encode
with open("/proc/self/statm") as fh:
    before_mb = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
t = time.perf_counter()
x = encode(texts)
s = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_SELF)
np.save(out, x)
print(json.dumps({"s": round(s, 2), "cpu_s": round(ru.ru_utime + ru.ru_stime, 1),
                  "peak_mb": round(ru.ru_maxrss / 1024), "before_encode_mb": round(before_mb),
                  "dims": x.shape[1]}))
"""


def _tfidf_pools(sizes, synthetic):
    """{label: texts}: alpaca (instruction + input + output) at each size, repeats with a ` [i]` suffix,
    and a synthetic pool of ``synthetic`` texts of 130 words drawn from alpaca's word stream (about 800
    characters, its character n-gram statistics)."""
    base = _alpaca_texts()
    if base is None:
        raise SystemExit("--only tfidf needs ../shared/data/sft/alpaca_en_demo.json")
    pools = {}
    for n in sizes:
        texts = [
            t if i < len(base) else f"{t} [{i // len(base)}]" for i, t in zip(range(n), base * n)
        ]
        pools[f"alpaca_{n // 1000}k"] = texts
    words = np.array(" ".join(base).split())
    rng = np.random.default_rng(0)
    if synthetic:
        pools[f"synthetic_{synthetic // 1000}k"] = [
            " ".join(words[rng.integers(0, len(words), 130)]) for _ in range(synthetic)
        ]
    return pools


def _neighbour_overlap(a, b, n_queries=500, k=10):
    """Mean share of the k nearest neighbours (cosine) that two embeddings of the same rows agree on."""
    rows = np.random.default_rng(0).choice(len(a), size=min(n_queries, len(a)), replace=False)
    shared = []
    for q in rows:
        na = np.argpartition(-(a @ a[q]), k + 1)[: k + 1]
        nb = np.argpartition(-(b @ b[q]), k + 1)[: k + 1]
        shared.append((len(set(na) & set(nb)) - 1) / k)  # the query itself is in both
    return round(float(np.mean(shared)), 3)


def bench_tfidf(sizes=(1000, 8000), synthetic=100_000, repeats=3, old_variant="old"):
    """``tfidf-char`` (the text half of the default embedding): the old computation (a whole-pool fit,
    ``fit_rows`` = n, as before the fit sample) against the current default (the same up to 20,000 texts; above, a fit on a
    20,000-text sample, every text projected). Each run is
    a fresh process: time of ``encode``, its CPU time, and peak RSS (``ru_maxrss``); ``encode_mb`` is the
    peak minus the RSS just before ``encode`` (texts and libraries loaded). Rounds alternate the order.

    ``max_abs_diff``: largest difference between the two unit vectors of a row (pools the old and the new
    code both fit whole); ``neighbour_overlap``: share of the 10 nearest neighbours of 500 rows the two
    agree on (for the sampled fit, whose axes differ from the whole-pool fit's).

    ``old_variant="r1"`` (``--only charfit``): the baseline is instead the exact fit as it was before
    2026-12-05 (the pool hashed in one call, the sparse Gram product, every eigenpair by ``numpy.linalg.eigh``)
    against today's (256 texts hashed at a time, the Gram matrix by row blocks, the top pairs only).
    """
    import os
    import shutil
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    tmp = Path(tempfile.mkdtemp(prefix="tfidf-bench-"))
    rows = {}
    try:
        for label, texts in _tfidf_pools(sizes, synthetic).items():
            pool = tmp / "pool.json"
            pool.write_text(json.dumps(texts))
            runs = {"old": [], "new": []}
            for r in range(repeats if len(texts) <= 10_000 else 1):
                for variant in ("old", "new") if r % 2 == 0 else ("new", "old"):
                    child = old_variant if variant == "old" else variant
                    proc = subprocess.run(
                        [sys.executable, "-c", _TFIDF_CHILD, str(pool), child, str(tmp / variant)],
                        capture_output=True,
                        text=True,
                        env={**os.environ, "HF_HUB_OFFLINE": "1"},
                    )
                    if proc.returncode != 0:
                        raise RuntimeError(proc.stderr)
                    runs[variant].append(json.loads(proc.stdout))
            rows[label] = _tfidf_row(
                texts, runs, np.load(tmp / "old.npy"), np.load(tmp / "new.npy")
            )
            print(json.dumps({label: rows[label]}), flush=True)
        return rows
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _tfidf_row(texts, runs, old, new):
    row = {"n_texts": len(texts), "mean_chars": round(float(np.mean([len(t) for t in texts])))}
    for key, rs in runs.items():
        row[key] = {
            "s": statistics.median(r["s"] for r in rs),
            "cpu_s": statistics.median(r["cpu_s"] for r in rs),
            "peak_mb": max(r["peak_mb"] for r in rs),
            "encode_mb": max(r["peak_mb"] - r["before_encode_mb"] for r in rs),
            "dims": rs[0]["dims"],
        }
    pairs = list(zip(runs["old"], runs["new"]))
    row["new_over_old_time"] = round(statistics.median(b["s"] / a["s"] for a, b in pairs), 2)
    row["new_over_old_cpu"] = round(statistics.median(b["cpu_s"] / a["cpu_s"] for a, b in pairs), 2)
    row["new_over_old_encode_mb"] = round(row["new"]["encode_mb"] / row["old"]["encode_mb"], 2)
    if len(texts) <= 20_000:
        row["max_abs_diff"] = float(np.abs(old - new).max())
    row["neighbour_overlap"] = _neighbour_overlap(old, new)
    return row


# --- near dedup: LSH alone (the old MinHashDeduper, as it was) vs LSH + exact Jaccard ---------------------
class _LshOnly:
    """The MinHashDeduper before the exact check: datasketch's default bands, a new MinHash per text."""

    def __init__(self, threshold=0.8, num_perm=128, seed=1):
        from datasketch import MinHash, MinHashLSH

        from tokenplan.select.dedup import MinHashDeduper

        self._shingles = MinHashDeduper(threshold=threshold)._shingles
        self._new = lambda: MinHash(num_perm=num_perm, seed=seed)
        self._lsh, self._n = MinHashLSH(threshold=threshold, num_perm=num_perm), 0

    def is_duplicate(self, text):
        m = self._new()
        m.update_batch(list(self._shingles(text)))
        if self._lsh.query(m):
            return True
        self._lsh.insert(str(self._n), m)
        self._n += 1
        return False


def _exact_near_dups(texts, threshold):
    """The answer by brute force: each text against every earlier kept one, exact Jaccard."""
    from tokenplan.select.dedup import MinHashDeduper

    shingles, kept, flags = MinHashDeduper(threshold=threshold)._shingles, [], []
    for t in texts:
        s = shingles(t)
        flags.append(any(len(s & k) >= threshold * len(s | k) for k in kept))
        if not flags[-1]:
            kept.append(s)
    return flags


def _near_pools(bigbench):
    """{label: texts}: 30 one-word edits (Jaccard 0.86) and 30 at exactly 0.8, each after its original;
    the 3,111-row alpaca pool of the e2e bench; 20,000 templated arithmetic rows (many pairs at 0.3-0.7:
    the LSH's worst case for candidates); with ``bigbench``, every task.json's first 400 examples."""
    import glob
    import tempfile

    from tokenplan.select.io import iter_records

    def pairs(n_words, edit):
        out = []
        for i in range(30):
            words = [f"p{i}w{j}" for j in range(n_words)]
            out += [
                " ".join(words),
                " ".join("edit" if j == edit else w for j, w in enumerate(words)),
            ]
        return out

    pools = {"one-word edits, J 0.86": pairs(42, 20), "one-word edits, J 0.80": pairs(29, 14)}
    with tempfile.TemporaryDirectory() as tmp:
        _pool_3k(f"{tmp}/pool.jsonl")
        pools["alpaca 3,111"] = [r.text for r in iter_records(f"{tmp}/pool.jsonl")]
    rng = np.random.default_rng(0)
    pools["templated 20k"] = [
        f"Compute {a} {op} {b} and explain the steps. The answer is {a + b if op == 'plus' else a - b}."
        for a, b, op in zip(
            rng.integers(0, 999, 20000),
            rng.integers(0, 999, 20000),
            rng.choice(["plus", "minus"], 20000),
        )
    ]
    if bigbench:
        texts = []
        for f in sorted(glob.glob(f"{bigbench}/bigbench/benchmark_tasks/*/task.json")):
            task = json.loads(open(f).read())
            for ex in task.get("examples", [])[:400]:
                tgt = ex.get("target")
                tgt = tgt[0] if isinstance(tgt, list) and tgt else tgt
                if isinstance(ex.get("input"), str) and isinstance(tgt, str):
                    texts.append(task.get("task_prefix", "") + ex["input"] + "\n\n" + tgt)
        pools[f"BIG-bench {len(texts):,}"] = texts
    return pools


def bench_near_dedup(threshold=0.8, repeats=3, bigbench=None):
    """Per pool: rows dropped by LSH alone and by LSH + exact Jaccard, against brute force (pools up to
    5,000 rows), the median stage time of interleaved rounds, and the candidates the new one checked."""
    from tokenplan.select.dedup import MinHashDeduper

    rows = []
    for label, texts in _near_pools(bigbench).items():
        deduper = {}

        def run(make, key, texts=texts, deduper=deduper):
            def fn():
                deduper[key] = make()
                return [deduper[key].is_duplicate(t) for t in texts]

            return fn

        res = _interleaved(
            {
                "lsh": run(lambda: _LshOnly(threshold), "lsh"),
                "exact_check": run(lambda: MinHashDeduper(threshold=threshold), "exact_check"),
            },
            repeats,
        )
        truth = _exact_near_dups(texts, threshold) if len(texts) <= 5000 else None
        row = {"pool": label, "rows": len(texts)}
        for key, (times, flags) in res.items():
            row[f"{key}_dropped"] = sum(flags)
            if truth is not None:
                row[f"{key}_wrong"] = sum(a != b for a, b in zip(flags, truth))
            row[f"{key}_s"] = round(statistics.median(times), 3)
        row["exact_dropped"] = None if truth is None else sum(truth)
        row["candidates_checked"] = deduper["exact_check"].n_candidates
        row["time_ratio"] = round(row["exact_check_s"] / row["lsh_s"], 2)
        rows.append(row)
        print(json.dumps(row), flush=True)
    for n_perm in (256, 512):  # more permutations, LSH alone: recall on the 0.86 and 0.80 edits
        for label in ("one-word edits, J 0.86", "one-word edits, J 0.80"):
            d, texts = _LshOnly(threshold, num_perm=n_perm), _near_pools(None)[label]
            found = sum([d.is_duplicate(t) for t in texts][1::2])
            rows.append({"pool": label, "lsh_num_perm": n_perm, "lsh_found_of_30": found})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--budget", type=int, default=500)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--embed-texts", type=int, default=256)
    ap.add_argument("--skip-deepcore", action="store_true")
    ap.add_argument("--embed-repeats", type=int, default=3)
    ap.add_argument(
        "--fused", action="store_true", help="embed: add int8 on a fusion-optimised graph"
    )
    ap.add_argument(
        "--only",
        choices=[
            *("kcenter", "kmeans", "embed", "cache", "e2e", "tfidf", "charfit", "neardedup"),
            "poolcache",
        ],
        default=None,
    )
    ap.add_argument("--bigbench", help="neardedup: a BIG-bench checkout to add as a pool")
    ap.add_argument(
        "--tfidf-synthetic", type=int, default=100_000, help="tfidf: synthetic rows (0: none)"
    )
    ap.add_argument("--tfidf-sizes", default="1000,8000", help="tfidf: alpaca pool sizes")
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
        result["embed"] = bench_embed(args.embed_texts, args.embed_repeats, args.fused)
        print(json.dumps({"embed": result["embed"]}), flush=True)
    if args.only in (None, "cache"):
        result["cache"] = [bench_cache_store(n, 3000, args.repeats) for n in (3_000, 100_000)]
        print(json.dumps({"cache": result["cache"]}), flush=True)
    if args.only in (None, "e2e"):
        result["e2e"] = bench_e2e()
        print(json.dumps({"e2e": result["e2e"]}), flush=True)
    if args.only in (None, "tfidf"):
        sizes = [int(n) for n in args.tfidf_sizes.split(",") if n]
        result["tfidf"] = bench_tfidf(sizes, args.tfidf_synthetic, args.repeats)
    if args.only in (None, "charfit"):
        result["charfit"] = bench_tfidf([3111], 0, args.repeats, old_variant="r1")
    if args.only in (None, "neardedup"):
        result["neardedup"] = bench_near_dedup(repeats=args.repeats, bigbench=args.bigbench)
    if args.only in (None, "poolcache"):
        result["poolcache"] = bench_pool_cache(args.repeats)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
