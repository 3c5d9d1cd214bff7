"""The per-text embedding store's layout: bytes of file per vector, write and read time, the rowid layout
(what select writes now) against the first layout (``WITHOUT ROWID`` on 4 KB pages), both built in this run.

Both go through the same :class:`EmbeddingCache` code and SQL: the first layout's store is created with its
old table and page size, and its conversion on open is switched off while it is timed. Each repeat writes
``--n`` random 384-d float32 vectors in batches of 64 (as ``embed_view`` writes them), reads them all back
with one ``get_many`` (chunks of 500 keys), and measures the file once checkpointed; the two layouts
alternate within each repeat. Last, the first-layout store of the last repeat is converted by opening it
(the upgrade a user's old store goes through), timed with its compaction.

``--candidates``: the options weighed before choosing, in plain SQLite (the cache's SQL, WAL, batches of 64):
``WITHOUT ROWID`` or rowid table, ``PRIMARY KEY`` or ``UNIQUE`` key, 4 to 64 KB pages; bytes per vector,
overflow pages (``dbstat``), write time and 3,000 look-ups.

Run: python bench/cache_layout.py [--n 20000] [--repeats 5] [--candidates]   (about 20 s on 2 shared cores)
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np

from tokenplan.select.cache import SCHEMA, EmbeddingCache, text_key

DIM, BATCH = 384, 64
FIRST_LAYOUT = "CREATE TABLE vectors(key BLOB PRIMARY KEY, vec BLOB NOT NULL) WITHOUT ROWID"


def _first_layout_store(root: Path) -> None:
    """An empty store as the code before the rowid layout created it (SQLite's default 4 KB pages)."""
    root.mkdir(parents=True)
    db = sqlite3.connect(root / EmbeddingCache.FILENAME, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE meta(name TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute(FIRST_LAYOUT)
    db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA,))
    db.close()


def _file_bytes(path: Path) -> int:
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages, size = (db.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "page_size"))
    db.close()
    return pages * size


def _one(root: Path, keys: list[bytes], vecs: np.ndarray) -> dict:
    """Write every vector in batches, read them all back, and measure the file."""
    cache = EmbeddingCache(root)
    assert cache.usable
    t0 = time.perf_counter()
    for i in range(0, len(keys), BATCH):
        cache.put_many(keys[i : i + BATCH], vecs[i : i + BATCH])
    t1 = time.perf_counter()
    got = cache.get_many(keys, dim=DIM)
    t2 = time.perf_counter()
    assert len(got) == len(keys) and got[keys[-1]].tobytes() == vecs[-1].tobytes()
    assert cache.warnings == [], cache.warnings
    cache.close()
    return {
        "write_s": t1 - t0,
        "read_s": t2 - t1,
        "bytes_per_vector": _file_bytes(cache.path) / len(keys),
    }


def _convert(root: Path, keys: list[bytes]) -> dict:
    """Open a full first-layout store as a run would: the conversion and compaction, timed."""
    before = _file_bytes(root / EmbeddingCache.FILENAME)
    t0 = time.perf_counter()
    cache = EmbeddingCache(root)
    assert cache.usable and cache.warnings == [], cache.warnings
    seconds = time.perf_counter() - t0
    assert len(cache.get_many(keys, dim=DIM)) == len(keys)
    cache.close()
    after = _file_bytes(root / EmbeddingCache.FILENAME)
    return {
        "convert_s": round(seconds, 3),
        "bytes_per_vector_before": round(before / len(keys)),
        "bytes_per_vector_after": round(after / len(keys)),
    }


def run(n: int, repeats: int) -> dict:
    rng = np.random.default_rng(0)
    vecs = rng.standard_normal((n, DIM)).astype(np.float32)
    keys = [text_key("bench", f"text {i}") for i in range(n)]
    rows: dict[str, list[dict]] = {"first": [], "rowid": []}
    with tempfile.TemporaryDirectory(prefix="cache-layout-") as tmp:
        for r in range(repeats):
            old = Path(tmp) / f"first{r}"
            _first_layout_store(old)
            with mock.patch.object(EmbeddingCache, "_convert_first_layout", lambda self, db: None):
                rows["first"].append(_one(old, keys, vecs))
            rows["rowid"].append(_one(Path(tmp) / f"rowid{r}", keys, vecs))
        conversion = _convert(old, keys)
    med = {
        layout: {k: statistics.median(row[k] for row in runs) for k in runs[0]}
        for layout, runs in rows.items()
    }
    ratio = {k: med["rowid"][k] / med["first"][k] for k in med["rowid"]}
    return {
        "n_vectors": n,
        "repeats": repeats,
        "median": {lay: {k: round(v, 4) for k, v in m.items()} for lay, m in med.items()},
        "ratio_rowid_over_first": {k: round(v, 3) for k, v in ratio.items()},
        "runs": rows,
        "conversion": conversion,
    }


CANDIDATES = {  # name: (page size, table)
    "without-rowid 4K (first)": (4096, FIRST_LAYOUT),
    "without-rowid 8K": (8192, FIRST_LAYOUT),
    "without-rowid 16K": (16384, FIRST_LAYOUT),
    "without-rowid 64K": (65536, FIRST_LAYOUT),
    "rowid, key PRIMARY KEY, 4K": (4096, FIRST_LAYOUT.removesuffix(" WITHOUT ROWID")),
    "rowid, key UNIQUE, 4K": (
        4096,
        "CREATE TABLE vectors(key BLOB NOT NULL UNIQUE, vec BLOB NOT NULL)",
    ),
    "rowid, key PRIMARY KEY, 8K (chosen)": (8192, FIRST_LAYOUT.removesuffix(" WITHOUT ROWID")),
    "rowid, key PRIMARY KEY, 16K": (16384, FIRST_LAYOUT.removesuffix(" WITHOUT ROWID")),
}


def candidates(n: int) -> list[dict]:
    """Each candidate layout in plain SQLite: n vectors in batches of 64, then 3,000 look-ups."""
    rng = np.random.default_rng(0)
    vecs = rng.standard_normal((n, DIM)).astype(np.float32)
    keys = [text_key("bench", f"text {i}") for i in range(n)]
    probe = keys[:: max(1, n // 3000)][:3000]
    out = []
    with tempfile.TemporaryDirectory(prefix="cache-candidates-") as tmp:
        for i, (name, (page, table)) in enumerate(CANDIDATES.items()):
            db = sqlite3.connect(Path(tmp) / f"{i}.sqlite3", isolation_level=None)
            db.execute(f"PRAGMA page_size={page}")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(table)
            t0 = time.perf_counter()
            for j in range(0, n, BATCH):
                db.execute("BEGIN IMMEDIATE")
                rows = [(k, v.tobytes()) for k, v in zip(keys[j : j + BATCH], vecs[j : j + BATCH])]
                db.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?)", rows)
                db.execute("COMMIT")
            t1 = time.perf_counter()
            for j in range(0, len(probe), 500):
                part = probe[j : j + 500]
                marks = ",".join("?" * len(part))
                db.execute(f"SELECT key, vec FROM vectors WHERE key IN ({marks})", part).fetchall()
            t2 = time.perf_counter()
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            (pages,) = db.execute("PRAGMA page_count").fetchone()
            (overflow,) = db.execute(
                "SELECT count(*) FROM dbstat WHERE pagetype = 'overflow'"
            ).fetchone()
            db.close()
            out.append(
                {
                    "layout": name,
                    "bytes_per_vector": round(pages * page / n),
                    "overflow_pages": overflow,
                    "write_s": round(t1 - t0, 3),
                    "lookup_3000_ms": round(1000 * (t2 - t1)),
                }
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000, help="vectors per store (default 20,000)")
    ap.add_argument(
        "--repeats", type=int, default=5, help="repeats; medians are printed (default 5)"
    )
    ap.add_argument("--candidates", action="store_true", help="the candidate layouts, plain SQLite")
    args = ap.parse_args()
    if args.candidates:
        for row in candidates(args.n):
            print(json.dumps(row))
        return
    result = run(args.n, args.repeats)
    for layout, m in result["median"].items():
        print(
            f"{layout:6s} layout: {m['bytes_per_vector']:7.0f} bytes/vector | "
            f"write {m['write_s']:.3f} s | read {m['read_s']:.3f} s "
            f"(median of {args.repeats}, {args.n:,} vectors)"
        )
    ratio = result["ratio_rowid_over_first"]
    print(
        f"rowid / first: bytes {ratio['bytes_per_vector']:.2f}x | write {ratio['write_s']:.2f}x | "
        f"read {ratio['read_s']:.2f}x"
    )
    c = result["conversion"]
    print(
        f"converting a first-layout store of {args.n:,} vectors on open: {c['convert_s']:.2f} s, "
        f"{c['bytes_per_vector_before']} -> {c['bytes_per_vector_after']} bytes/vector"
    )
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}))


if __name__ == "__main__":
    main()
