"""SFT data selection [select extra]: LIMA-style curation and the "0.5% data" coreset method.

Each stage is usable alone: :mod:`~tokenplan.select.io` (read/write pools), :mod:`.clean`, :mod:`.filters`,
:mod:`.dedup`, :mod:`.embed`, :mod:`.cluster`, :mod:`.kcenter`, :mod:`.facility`, :mod:`.methods`,
:mod:`.metrics`, :mod:`.guidance`,
:mod:`.plot`; :mod:`.pipeline` runs them all from a :class:`Recipe`. Heavy libraries (torch,
sentence-transformers, scikit-learn, faiss, datasketch, ray) are imported only inside the functions that use
them, and the names below are imported on first use (PEP 562), so importing this package, or one of its
modules (as the CLI does for its choice lists), is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokenplan._lazy import lazy_exports

if TYPE_CHECKING:
    from tokenplan.select.clean import clean_text
    from tokenplan.select.cluster import KMeansResult, kmeans
    from tokenplan.select.dedup import ExactDeduper, MinHashDeduper, normalise, semantic_duplicates
    from tokenplan.select.embed import (
        DEFAULT_EMBEDDER,
        EMBEDDERS,
        EmbeddingCache,
        EnsembleEmbedder,
        HFMeanPoolEmbedder,
        SentenceTransformerEmbedder,
        TfidfSvdEmbedder,
        combine_views,
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

_HOME = {  # public name -> the module that defines it (imported on first use, PEP 562)
    "CoverageReport": "metrics",
    "DEFAULT_EMBEDDER": "embed",
    "DEFAULT_METHOD": "methods",
    "DROP_REASONS": "filters",
    "EMBEDDERS": "embed",
    "EmbeddingCache": "embed",
    "EnsembleEmbedder": "embed",
    "ExactDeduper": "dedup",
    "FacilityLocationResult": "facility",
    "FilterConfig": "filters",
    "HFMeanPoolEmbedder": "embed",
    "KCenterResult": "kcenter",
    "KMeansResult": "cluster",
    "METHODS": "methods",
    "MinHashDeduper": "dedup",
    "Pool": "methods",
    "ReadStats": "io",
    "Recipe": "pipeline",
    "Record": "io",
    "Selection": "methods",
    "SelectionReport": "pipeline",
    "SentenceTransformerEmbedder": "embed",
    "TARGET_METHODS": "methods",
    "TfidfSvdEmbedder": "embed",
    "clean_text": "clean",
    "combine_views": "embed",
    "count_tokens": "pipeline",
    "coverage": "metrics",
    "drop_reason": "filters",
    "embed_texts": "embed",
    "facility_location": "facility",
    "get_embedder": "embed",
    "iter_records": "io",
    "kcenter_from_center": "kcenter",
    "kcenter_greedy": "kcenter",
    "kl_divergence": "metrics",
    "kmeans": "cluster",
    "l2_normalise": "embed",
    "lima_quotas": "methods",
    "load_precomputed": "embed",
    "normalise": "dedup",
    "run": "pipeline",
    "select": "methods",
    "select_by_tokens": "methods",
    "select_for_target": "methods",
    "semantic_duplicates": "dedup",
    "split_budget": "methods",
    "write_subset": "io",
}


__getattr__, __dir__ = lazy_exports(__name__, _HOME, globals())


__all__ = [
    "DEFAULT_EMBEDDER",
    "DEFAULT_METHOD",
    "DROP_REASONS",
    "EMBEDDERS",
    "METHODS",
    "TARGET_METHODS",
    "CoverageReport",
    "EmbeddingCache",
    "EnsembleEmbedder",
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
    "combine_views",
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
