"""Deduplication: exact (normalised hash), near (MinHash LSH), semantic (cosine in embedding space).

Deduplicate before selecting (REFERENCE.md sec. 8): K-Center picks every copy of an outlier and "closest to the
center" picks copies of one pair. Exact and near dedup are streaming (one object holds what it has seen);
semantic dedup works on the embedding matrix and, for large pools, inside K-Means clusters (the SemDeDup
recipe, Abbas et al. 2023), so it never forms an n x n matrix.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np

from tokenplan._checks import in_range, positive_int
from tokenplan.errors import MissingDependencyError

__all__ = ["ExactDeduper", "MinHashDeduper", "normalise", "semantic_duplicates"]

_WS = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Unicode NFKC, lower case, whitespace collapsed: the form two copies must share to be exact duplicates."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


class ExactDeduper:
    """Streaming exact dedup: ``is_duplicate(text)`` is True for the second and later copies.

    Stores a 16-byte BLAKE2b digest per distinct sample, not the text.
    """

    def __init__(self) -> None:
        self._seen: set[bytes] = set()

    def is_duplicate(self, text: str) -> bool:
        key = hashlib.blake2b(normalise(text).encode("utf-8"), digest_size=16).digest()
        if key in self._seen:
            return True
        self._seen.add(key)
        return False


class MinHashDeduper:
    """Streaming near-duplicate detection with MinHash LSH (datasketch).

    A sample is a near duplicate if its estimated Jaccard similarity (over word ``ngram``-shingles of the
    normalised text) with an earlier kept sample is at least ``threshold``.
    """

    def __init__(
        self, *, threshold: float = 0.8, num_perm: int = 128, ngram: int = 3, seed: int = 1
    ) -> None:
        try:
            from datasketch import MinHash, MinHashLSH
        except ImportError:
            raise MissingDependencyError("datasketch", "select") from None
        self.threshold = in_range("near_threshold", threshold, 0.0, 1.0, inclusive=False)
        self.num_perm = positive_int("num_perm", num_perm)
        self.ngram = positive_int("ngram", ngram)
        self._MinHash, self._seed = MinHash, seed
        self._lsh = MinHashLSH(threshold=self.threshold, num_perm=self.num_perm)
        self._n = 0

    def _shingles(self, text: str) -> set[bytes]:
        words = normalise(text).split(" ")
        if len(words) < self.ngram:
            return {" ".join(words).encode("utf-8")}
        return {
            " ".join(words[i : i + self.ngram]).encode("utf-8")
            for i in range(len(words) - self.ngram + 1)
        }

    def is_duplicate(self, text: str) -> bool:
        m = self._MinHash(num_perm=self.num_perm, seed=self._seed)
        m.update_batch(list(self._shingles(text)))
        if self._lsh.query(m):
            return True
        self._lsh.insert(str(self._n), m)
        self._n += 1
        return False


def semantic_duplicates(
    embeddings: np.ndarray,
    *,
    threshold: float = 0.95,
    labels: np.ndarray | None = None,
    block: int = 2048,
) -> np.ndarray:
    """Boolean mask of rows that are semantic duplicates of an earlier kept row.

    Row i is a duplicate if the cosine similarity between it and some earlier row that was *kept* is
    >= ``threshold`` (rows must be L2-normalised). With ``labels`` (K-Means clusters) only rows in the same
    cluster are compared, which is how this scales to large pools; without them, every pair is compared
    in blocks of ``block`` rows.
    """
    threshold = in_range("semantic_threshold", threshold, -1.0, 1.0)
    x = np.asarray(embeddings, dtype=np.float32)
    n = len(x)
    dup = np.zeros(n, dtype=bool)
    groups = [np.arange(n)] if labels is None else _groups(np.asarray(labels))
    for idx in groups:
        dup[idx] = _greedy_dups(x[idx], threshold, block)
    return dup


def _groups(labels: np.ndarray) -> list[np.ndarray]:
    order = np.argsort(labels, kind="stable")
    cuts = np.flatnonzero(np.diff(labels[order])) + 1
    return np.split(order, cuts)


def _greedy_dups(x: np.ndarray, threshold: float, block: int) -> np.ndarray:
    n = len(x)
    dup = np.zeros(n, dtype=bool)
    kept: list[np.ndarray] = []  # blocks of kept vectors so far
    for start in range(0, n, block):
        xb = x[start : start + block]
        hit = np.zeros(len(xb), dtype=bool)
        for kb in kept:  # against every earlier kept row
            hit |= (xb @ kb.T >= threshold).any(axis=1)
        sims = xb @ xb.T  # within the block: sequential, row i against kept rows j < i
        for i in range(len(xb)):
            if hit[i]:
                continue
            later = sims[i, i + 1 :] >= threshold
            hit[i + 1 :] |= later
        dup[start : start + len(xb)] = hit
        kept.append(xb[~hit])
    return dup
