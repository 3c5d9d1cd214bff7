"""The embedding cache: one vector per text, in one SQLite store per cache folder.

The key of a text is a 16-byte BLAKE2b hash of the embedder's identity (model folder, model revision, maximum
length, backend) and the text, so a run with other filters, or a pool that shares rows with an earlier one,
embeds only the texts the store has not seen. Embedders fitted on the whole pool (the TF-IDF views) store
their whole matrix instead, as a ``.npy`` file in ``root/pools/`` named by the hash of the embedder's identity
and every text in order (:func:`pool_key`): written atomically, read without pickle, a damaged file a
warning and a miss. A file and not a row of the store: one matrix is rows x 1 KB (256 float32), and SQLite
refuses a value above 1 GB (about 976,000 rows), an error the store would take for damage.

Why SQLite (stdlib ``sqlite3``, WAL mode) and not a memory-mapped array plus an index: it is safe for several
runs at once (readers never block, writers queue behind a lock with a timeout), a killed run leaves the store
consistent (the write-ahead log is replayed or discarded), and a look-up of 3,000 keys takes milliseconds
(docs/benchmarks.md compares it with a memory-mapped store). The vectors live in an ordinary rowid
table (the key in its own index) on 8 KB pages: a 1.5 KB row (384 float32) fits on its page, about 1.7 KB of
file per vector. The first layout, a ``WITHOUT ROWID`` table on 4 KB pages, is an index b-tree whose rows keep
at most about 1 KB on their page, so every vector spilled to an overflow page of its own (4.7 KB a vector). A
store in that layout is converted in one transaction by the first run that opens it (its vectors kept; a
failed or killed conversion leaves it as it was, still read), then compacted; a store's page size is fixed
when it is created, so a converted one keeps 4 KB pages (2.1 KB a vector). A store that is damaged (not a
database, a malformed page, a wrong schema) is removed and rebuilt with a warning; a store another run
holds is waited for, never taken for damage; a folder that cannot hold a store (unwritable, a file in the
way), or a lock held past the wait, gives a warning and the run carries on without the cache. Warnings are
kept in :attr:`EmbeddingCache.warnings` and passed to ``on_warning``; the library never prints.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

__all__ = ["SCHEMA", "EmbeddingCache", "pool_key", "text_key", "user_cache_dir"]

SCHEMA = "tokenplan-embeddings-1"
_CHUNK = 500  # keys per SELECT ... IN (...)
_LOCK_WAIT = 60.0  # seconds a run waits for another run's lock before carrying on without the cache
_PAGE_SIZE = 8192  # a new store's page size, bytes (fixed when created): holds rows of 1.5 KB
_VECTORS = "CREATE TABLE IF NOT EXISTS vectors(key BLOB PRIMARY KEY, vec BLOB NOT NULL)"
_MOVE = 2000  # rows per step when converting a store from the first layout (``WITHOUT ROWID``)


def _busy(exc: BaseException) -> bool:
    """Another connection holds the store: wait, never treat it as damage."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def _drop_legacy_pools(db: sqlite3.Connection) -> None:
    """Drop the ``pools`` table of a store written before the whole-pool matrices moved to ``pools/``
    files: nothing reads it, and its matrices (up to 1 GB each) would hold their pages for good. Dropped, the
    pages go to SQLite's free list: such a store is in the first layout, whose conversion compacts the file
    (or, should that fail, they hold new vectors). Once: it is then gone."""
    found = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'pools'"
    if db.execute(found).fetchone() is not None:
        db.execute("DROP TABLE pools")


def _is_first_layout(db: sqlite3.Connection) -> bool:
    """True when ``vectors`` is the first layout's ``WITHOUT ROWID`` table (every vector on an overflow page)."""
    found = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'vectors'"
    row = db.execute(found).fetchone()
    return row is not None and "WITHOUTROWID" in "".join(str(row[0]).upper().split())


def _move_first_layout(db: sqlite3.Connection) -> None:
    """Move every vector of the first layout's table into a rowid table of the same name, ``_MOVE`` rows
    at a time in key order, each step deleting what it moved: the pages it frees hold the next rows, so the
    file grows little. The caller holds the write transaction: other runs see the old table or the new one."""
    db.execute("ALTER TABLE vectors RENAME TO vectors_first_layout")
    db.execute(_VECTORS)
    first = "FROM vectors_first_layout ORDER BY key LIMIT ?"
    while db.execute(f"INSERT INTO vectors(key, vec) SELECT key, vec {first}", (_MOVE,)).rowcount:
        db.execute(f"DELETE FROM vectors_first_layout WHERE key IN (SELECT key {first})", (_MOVE,))
    db.execute("DROP TABLE vectors_first_layout")


def user_cache_dir() -> Path:
    """tokenplan's cache folder: ``$TOKENPLAN_CACHE``, else ``$XDG_CACHE_HOME/tokenplan`` or ``~/.cache/tokenplan``."""
    root = os.environ.get("TOKENPLAN_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tokenplan"
    )
    return Path(root)


def text_key(embedder_id: str, text: str) -> bytes:
    """The cache key of ``text`` under an embedder: BLAKE2b-128 of the id, a NUL byte, then the text."""
    h = hashlib.blake2b(embedder_id.encode("utf-8"), digest_size=16)
    h.update(b"\0")
    h.update(text.encode("utf-8", "surrogatepass"))
    return h.digest()


def pool_key(embedder_id: str, texts: Sequence[str]) -> bytes:
    """The key of a whole pool (for embedders fitted on all texts at once): BLAKE2b-256 of the embedder's
    id, then every text in order, each after its length in bytes (so no two lists of texts, split or
    ordered differently, give the same stream)."""
    h = hashlib.blake2b(embedder_id.encode("utf-8"), digest_size=32)
    h.update(b"\0")
    for t in texts:
        b = t.encode("utf-8", "surrogatepass")
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.digest()


class EmbeddingCache:
    """Vectors by text key in ``root/vectors.sqlite3``; every failure is a warning and a miss, never an error."""

    FILENAME = "vectors.sqlite3"
    POOLS = "pools"  # folder of the whole-pool matrices, one .npy file each

    def __init__(
        self, root: str | os.PathLike, *, on_warning: Callable[[str], None] | None = None
    ) -> None:
        self.root = Path(root)
        self.path = self.root / self.FILENAME
        self.warnings: list[str] = []
        self._on_warning = on_warning
        self._db: sqlite3.Connection | None = None
        self._disabled = False

    # ------------------------------------------------------------------------------------------ store
    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        if self._on_warning is not None:
            self._on_warning(message)

    def _open(self) -> sqlite3.Connection:
        """Open the store, waiting while another run holds it. Switching a new store to WAL takes an
        exclusive lock that SQLite's busy timeout does not wait for: runs that start together would get
        "database is locked" at once, so the open is retried (up to ``_LOCK_WAIT``) instead."""
        deadline, delay = time.monotonic() + _LOCK_WAIT, 0.01
        while True:
            try:
                return self._open_once()
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(2 * delay, 0.5)

    def _open_once(self) -> sqlite3.Connection:
        db = sqlite3.connect(
            self.path, timeout=_LOCK_WAIT, isolation_level=None, check_same_thread=False
        )
        try:
            db.execute(f"PRAGMA page_size={_PAGE_SIZE}")  # before WAL: a new store's first write
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            db.execute(_VECTORS)
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA,))
            (schema,) = db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
            first_layout = schema == SCHEMA and _is_first_layout(db)
            if schema == SCHEMA:
                _drop_legacy_pools(db)
            db.execute("COMMIT")
            if first_layout:
                self._convert_first_layout(db)
        except BaseException:
            db.close()
            raise
        if schema != SCHEMA:
            db.close()
            raise sqlite3.DatabaseError(f"schema {schema!r}, expected {SCHEMA!r}")
        return db

    def _convert_first_layout(self, db: sqlite3.Connection) -> None:
        """Convert a store of the first layout (checked again inside the write transaction, so of runs
        opening it together one converts and the others find it done), then compact its file. A conversion
        that fails (disk full) is rolled back whole: a warning, and the store works as it is. Damage, or a
        store held by another run, is raised as for any open."""
        try:
            db.execute("BEGIN IMMEDIATE")
            if not _is_first_layout(db):
                db.execute("COMMIT")
                return
            _move_first_layout(db)
            db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            self._rollback(db)
            if _busy(exc):
                raise
            self._warn(
                f"could not convert the embedding cache {str(self.path)!r} to its compact layout "
                f"({exc}); it works as it is."
            )
            return
        self._compact(db)

    def _compact(self, db: sqlite3.Connection) -> None:
        """VACUUM after a conversion: the first layout's pages went to SQLite's free list, and the file
        shrinks to about 2.1 KB per vector. Not needed for the store to work, so a failure is a warning."""
        try:
            db.execute("VACUUM")
        except sqlite3.Error as exc:
            self._warn(
                f"could not compact the embedding cache {str(self.path)!r} ({exc}); it works as it is "
                f"(`sqlite3 {str(self.path)!r} VACUUM`, with no run using it, shrinks it)."
            )

    def _remove_store(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is not None or self._disabled:
            return self._db
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            if _busy(exc) or "unable to open" in str(exc):  # held too long, or no store here
                return self._give_up(exc)
            self._rebuild(exc)
        except (OSError, sqlite3.Error) as exc:
            return self._give_up(exc)
        return self._db

    def _rebuild(self, exc: BaseException) -> None:
        self._warn(f"embedding cache {str(self.path)!r} is damaged ({exc}); rebuilding it.")
        self.close()
        try:
            self._remove_store()
            self._db = self._open()
        except (OSError, sqlite3.Error) as exc2:
            self._give_up(exc2)

    def _give_up(self, exc: BaseException) -> None:
        self._warn(
            f"embedding cache folder {str(self.root)!r} is not usable ({exc}); carrying on without "
            "the cache (choose another with --cache-dir, or pass --no-cache)."
        )
        self.close()
        self._disabled = True
        return None

    def close(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
            self._db = None

    @property
    def usable(self) -> bool:
        """True when the store is open (or can be opened)."""
        return self._connect() is not None

    # ------------------------------------------------------------------------------------------ vectors
    def get_many(self, keys: Sequence[bytes], *, dim: int | None = None) -> dict[bytes, np.ndarray]:
        """The stored vectors of those ``keys`` that are present (and of length ``dim``, when given)."""
        db = self._connect()
        if db is None or not keys:
            return {}
        found: dict[bytes, np.ndarray] = {}
        try:
            for i in range(0, len(keys), _CHUNK):
                part = list(keys[i : i + _CHUNK])
                marks = ",".join("?" * len(part))
                for key, blob in db.execute(
                    f"SELECT key, vec FROM vectors WHERE key IN ({marks})", part
                ):
                    if len(blob) % 4 or (dim is not None and len(blob) != 4 * dim):
                        continue  # a damaged or foreign entry is a miss
                    found[bytes(key)] = np.frombuffer(blob, dtype=np.float32)
        except sqlite3.DatabaseError as exc:
            if not _busy(exc):  # held by another run: a miss, not damage
                self._rebuild(exc)
            return {}
        return found

    def put_many(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Store one float32 vector per key (a key already present is left as it is)."""
        db = self._connect()
        if db is None or not len(keys):
            return
        vecs = np.ascontiguousarray(vectors, dtype=np.float32)
        rows = [(k, vecs[i].tobytes()) for i, k in enumerate(keys)]
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?)", rows)
            db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            self._rollback(db)
            if isinstance(exc, sqlite3.OperationalError):  # locked for too long, disk full: skip
                self._warn(f"could not write to the embedding cache ({exc}); carrying on.")
            else:
                self._rebuild(exc)

    @staticmethod
    def _rollback(db: sqlite3.Connection) -> None:
        try:
            db.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    # ------------------------------------------------------------------------------------------ pools
    def pool_path(self, key: bytes) -> Path:
        """The file a whole-pool matrix is kept in: ``root/pools/<key in hex>.npy``."""
        return self.root / self.POOLS / f"{key.hex()}.npy"

    def get_pool(self, key: bytes, n_rows: int) -> np.ndarray | None:
        """The whole-pool matrix stored under ``key`` (``n_rows`` rows of float32, C order), or None.

        Read with ``allow_pickle=False``. A file that is not such a matrix (truncated, damaged, another
        shape or type, NaN) is a miss with a warning, and is removed: the caller fits the view again and
        stores the new matrix in its place.
        """
        path = self.pool_path(key)
        if self._disabled or n_rows < 1 or not path.is_file():
            return None
        try:
            x = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            return self._drop_pool(path, str(exc) or type(exc).__name__)
        if x.dtype != np.float32 or x.ndim != 2 or x.shape[0] != n_rows or x.shape[1] < 1:
            found = f"{x.dtype} of shape {x.shape}"
            return self._drop_pool(path, f"{found}, expected {n_rows} rows of float32")
        if not np.isfinite(x).all():
            return self._drop_pool(path, "it holds NaN or inf")
        return np.ascontiguousarray(x)

    def _drop_pool(self, path: Path, reason: str) -> None:
        self._warn(
            f"embedding cache file {str(path)!r} is not a usable matrix ({reason}); fitting the "
            "view again."
        )
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass  # the new matrix is written over it by a rename
        return None

    def put_pool(self, key: bytes, matrix: np.ndarray) -> None:
        """Store a whole-pool matrix under ``key``: a ``.npy`` file written beside its place and renamed
        into it (:func:`tokenplan._io.atomic_write`), so a reader never sees half of one."""
        from tokenplan._io import atomic_write, remove_stale_temps

        if self._disabled:
            return
        path = self.pool_path(key)
        x = np.ascontiguousarray(matrix, dtype=np.float32)
        try:
            remove_stale_temps(path.parent)  # what a killed run left behind
            with atomic_write(path, "wb") as fh:
                np.save(fh, x, allow_pickle=False)
        except OSError as exc:  # a file in the way, unwritable, disk full: as for the store
            self._give_up(exc)
