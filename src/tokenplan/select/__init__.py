"""SFT data selection [select extra]: LIMA-style curation and the "0.5% data" coreset method.

Each stage is usable alone: :mod:`~tokenplan.select.io` (read/write pools), :mod:`.clean`, :mod:`.filters`,
:mod:`.dedup`, :mod:`.embed`, :mod:`.cluster`, :mod:`.kcenter`, :mod:`.facility`, :mod:`.methods`,
:mod:`.metrics`, :mod:`.guidance`,
:mod:`.plot`; :mod:`.pipeline` runs them all from a :class:`Recipe`. Heavy libraries (torch,
sentence-transformers, scikit-learn, faiss, datasketch, ray) are imported only inside the functions that use
them, so importing this package is cheap.
"""

from __future__ import annotations

from tokenplan.select.clean import clean_text
from tokenplan.select.cluster import KMeansResult, kmeans
from tokenplan.select.dedup import ExactDeduper, MinHashDeduper, normalise, semantic_duplicates
from tokenplan.select.embed import (
    EMBEDDERS,
    EmbeddingCache,
    HFMeanPoolEmbedder,
    SentenceTransformerEmbedder,
    TfidfSvdEmbedder,
    embed_texts,
    get_embedder,
    l2_normalise,
    load_precomputed,
)
from tokenplan.select.facility import FacilityLocationResult, facility_location
from tokenplan.select.filters import DROP_REASONS, FilterConfig, drop_reason
from tokenplan.select.io import ReadStats, Record, iter_records, write_subset
from tokenplan.select.kcenter import KCenterResult, kcenter_from_center, kcenter_greedy
from tokenplan.select.methods import (
    DEFAULT_METHOD,
    METHODS,
    TARGET_METHODS,
    Pool,
    Selection,
    lima_quotas,
    select,
    select_by_tokens,
    select_for_target,
    split_budget,
)
from tokenplan.select.metrics import CoverageReport, coverage, kl_divergence
from tokenplan.select.pipeline import Recipe, SelectionReport, count_tokens, run

__all__ = [
    "DEFAULT_METHOD",
    "DROP_REASONS",
    "EMBEDDERS",
    "METHODS",
    "TARGET_METHODS",
    "CoverageReport",
    "EmbeddingCache",
    "ExactDeduper",
    "FacilityLocationResult",
    "FilterConfig",
    "HFMeanPoolEmbedder",
    "KCenterResult",
    "KMeansResult",
    "MinHashDeduper",
    "Pool",
    "ReadStats",
    "Recipe",
    "Record",
    "Selection",
    "SelectionReport",
    "SentenceTransformerEmbedder",
    "TfidfSvdEmbedder",
    "clean_text",
    "count_tokens",
    "coverage",
    "drop_reason",
    "embed_texts",
    "facility_location",
    "get_embedder",
    "iter_records",
    "kcenter_from_center",
    "kcenter_greedy",
    "kl_divergence",
    "kmeans",
    "l2_normalise",
    "lima_quotas",
    "load_precomputed",
    "normalise",
    "run",
    "select",
    "select_by_tokens",
    "select_for_target",
    "semantic_duplicates",
    "split_budget",
    "write_subset",
]
