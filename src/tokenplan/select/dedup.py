"""Deduplication: exact (normalised hash), near (MinHash LSH), semantic (cosine in embedding space).

Deduplicate before selecting (REFERENCE.md sec. 8): K-Center picks every copy of an outlier and "closest to the
center" picks copies of one pair. Exact and near dedup are streaming (one object holds what it has seen);
semantic dedup works on the embedding matrix and, for large pools, inside K-Means clusters (the SemDeDup
recipe, Abbas et al. 2023), so it never forms an n x n matrix.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata

import numpy as np

from tokenplan._checks import in_range, positive_int
from tokenplan.errors import MissingDependencyError

__all__ = [
    "ExactDeduper",
    "MinHashDeduper",
    "lsh_bands",
    "normalise",
    "semantic_duplicates",
]

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
    """Streaming near-duplicate detection: MinHash LSH (datasketch) proposes, the exact Jaccard decides.

    A sample is a near duplicate if the Jaccard similarity of its word ``ngram``-shingles (of the normalised
    text) with an earlier kept sample is at least ``threshold``. LSH alone is approximate near the threshold:
    datasketch's default bands for 0.8 and 128 permutations (9 bands of 13 rows) make a pair at Jaccard 0.8 a
    candidate with probability 0.40 and one at 0.86 with 0.75, and every candidate counted, pairs below the
    threshold too (more permutations do not change that: the bands balance misses against false
    candidates). So the bands here are chosen for recall (:func:`lsh_bands`: a pair at the threshold is a
    candidate with probability >= 0.999; 25 bands of 5 rows for 0.8), and each candidate is checked with the
    exact Jaccard of the two shingle sets, kept per kept sample as sorted 32-bit shingle hashes (4 bytes a
    shingle; docs/benchmarks.md, Near dedup, has the cost: about the same time as LSH alone on real pools,
    1.6x on a templated one).
    """

    def __init__(
        self,
        *,
        threshold: float = 0.8,
        num_perm: int = 128,
        ngram: int = 3,
        seed: int = 1,
    ) -> None:
        try:
            from datasketch import MinHash, MinHashLSH
            from datasketch.hashfunc import sha1_hash32
        except ImportError:
            raise MissingDependencyError("datasketch", "select") from None
        self.threshold = in_range("near_threshold", threshold, 0.0, 1.0, inclusive=False)
        self.num_perm = positive_int("num_perm", num_perm)
        self.ngram = positive_int("ngram", ngram)
        self._lsh = MinHashLSH(
            num_perm=self.num_perm, params=lsh_bands(self.threshold, self.num_perm)
        )
        template = MinHash(num_perm=self.num_perm, seed=seed)  # its permutations, drawn once
        self._minhash = functools.partial(
            MinHash,
            num_perm=self.num_perm,
            seed=seed,
            hashfunc=int,  # the shingles arrive hashed (sha1_hash32, datasketch's default)
            permutations=template.permutations,
            scheme=template.scheme,
        )
        self._hash = sha1_hash32
        self._kept: list[np.ndarray] = []  # each kept sample's sorted shingle hashes, by LSH key
        self.n_candidates = 0
        """Candidate pairs the LSH proposed (each checked exactly): the cost of the check."""

    def _shingles(self, text: str) -> set[bytes]:
        words = normalise(text).split(" ")
        if len(words) < self.ngram:
            return {" ".join(words).encode("utf-8")}
        return {
            " ".join(words[i : i + self.ngram]).encode("utf-8")
            for i in range(len(words) - self.ngram + 1)
        }

    def is_duplicate(self, text: str) -> bool:
        hashes = [self._hash(s) for s in self._shingles(text)]
        m = self._minhash()
        m.update_batch(hashes)
        mine = np.unique(np.asarray(hashes, dtype=np.uint32))
        candidates = self._lsh.query(m)
        self.n_candidates += len(candidates)
        if candidates and self._similar(mine, [self._kept[key] for key in candidates]):
            return True
        self._lsh.insert(len(self._kept), m)
        self._kept.append(mine)
        return False

    def _similar(self, mine: np.ndarray, others: list[np.ndarray]) -> bool:
        """Whether any of ``others`` has an exact Jaccard >= threshold with ``mine`` (sorted, distinct
        hashes): one vectorised pass over all candidates (a templated pool gives hundreds per text)."""
        sizes = np.fromiter((o.size for o in others), dtype=np.int64, count=len(others))
        pooled = np.concatenate(others)
        at = np.minimum(np.searchsorted(mine, pooled), mine.size - 1)
        common = np.add.reduceat(mine[at] == pooled, np.cumsum(sizes) - sizes)
        return bool((common / (sizes + mine.size - common) >= self.threshold).any())


def lsh_bands(threshold: float, num_perm: int, *, recall: float = 0.999) -> tuple[int, int]:
    """(bands, rows) of an LSH over ``num_perm`` MinHash values that makes a pair at Jaccard ``threshold`` a
    candidate with probability >= ``recall`` (1 - (1 - J^rows)^bands), with the most rows per band that does
    (fewest candidates below the threshold). For 128 values: 0.5 -> (64, 2), 0.8 -> (25, 5), 0.9 -> (16, 8)."""
    best = (num_perm, 1)
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if 1 - (1 - threshold**rows) ** bands >= recall:
            best = (bands, rows)
    return best


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
