"""Stratified sampling over K-Means cells: one drawn row per cell (the stratified-cells methods).

A uniform sample gives every label its share of the picks, so it has no blind spot a seed cannot move, but it
can put two picks in one crowd and none in another. Stratifying by K-Means cells (one uniform draw per cell)
gives every region of the pool its pick: with one pick per stratum of equal mass the chance of missing a
label is at most a uniform sample's (Cochran 1977, ch. 5: proportional stratification never has a larger
variance than simple random sampling; for a label of share q_c in cell c,
log P(miss) = sum_c log(1 - q_c) <= n log(1 - mean q_c) by Jensen).
"""

from __future__ import annotations

import numpy as np

__all__ = ["draw_per_cell", "inner_half"]


def inner_half(labels: np.ndarray, d2: np.ndarray) -> np.ndarray:
    """Rows no farther from their cell's centre than the cell's median row (by rank: the nearest
    ceil(size / 2) rows of each cell). ``labels`` are cell ids, ``d2`` each row's squared distance to its
    cell's centre."""
    labels = np.asarray(labels)
    order = np.lexsort((np.asarray(d2), labels))
    sorted_labels = labels[order]
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    rank = np.arange(len(order)) - np.repeat(starts, sizes)
    inner = np.empty(len(order), dtype=bool)
    inner[order] = rank <= (np.repeat(sizes, sizes) - 1) // 2
    return inner


def draw_per_cell(labels: np.ndarray, tiers: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One row per non-empty cell, drawn uniformly among the cell's rows of its lowest tier (tier 0 =
    preferred, then 1, ...; a cell with no tier-0 row draws among its tier-1 rows, and so on). Returned in
    a random order of the cells."""
    labels = np.asarray(labels)
    key = rng.random(len(labels))  # a uniform random key: the smallest per (cell, lowest tier) wins
    order = np.lexsort((key, np.asarray(tiers), labels))
    first = order[np.r_[True, labels[order][1:] != labels[order][:-1]]]
    return first[rng.permutation(len(first))].astype(np.int64)
