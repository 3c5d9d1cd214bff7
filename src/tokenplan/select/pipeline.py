"""The selection pipeline: read -> clean -> filter -> dedup -> embed -> cluster -> select -> report -> write.

A :class:`Recipe` (a frozen dataclass, loadable from YAML) says what to do; :func:`run` does it and returns a
:class:`SelectionReport`. Each stage is a function
below, usable alone (:func:`read_pool`, :func:`clean_records`, :func:`filter_records`, :func:`dedup_records`,
:func:`embed_candidates`, :func:`cluster_candidates`, :func:`semantic_dedup`, :func:`choose`,
:func:`report_coverage`, :func:`write_outputs`).

The pool is streamed: the first pass keeps, per candidate row, only its source index, domain and token count,
and spools the text to an unnamed temporary file that the embedder then streams; the subset is written by a
second pass over the input. So memory grows with the embeddings, not with the texts.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from tokenplan._checks import (
    choice,
    in_range,
    instance,
    name_keys,
    number_text,
    positive,
    positive_int,
    ray_address,
    strict_bool,
)
from tokenplan._checks import seed as check_seed
from tokenplan._record import record
from tokenplan.errors import InvalidInputError
from tokenplan.select.embed import DEFAULT_EMBEDDER
from tokenplan.select.filters import FilterConfig, drop_reason
from tokenplan.select.guidance import quantity_guidance

if TYPE_CHECKING:
    from tokenplan.select.io import ReadStats, Record
    from tokenplan.select.metrics import CoverageReport

__all__ = [
    "Candidates",
    "Embedded",
    "Recipe",
    "SelectionReport",
    "budget",
    "check_outputs",
    "choose",
    "clean_records",
    "cluster_candidates",
    "collect_candidates",
    "count_tokens",
    "dedup_records",
    "default_cache_dir",
    "embed_candidates",
    "filter_records",
    "first_pass",
    "read_pool",
    "report_coverage",
    "run",
    "semantic_dedup",
    "spooled_texts",
    "write_outputs",
]

_TOKEN = re.compile(r"[A-Za-z0-9_]+|[\u3400-\u9fff\uf900-\ufaff]|[^\sA-Za-z0-9_]")

Progress = Callable[[str, int, int | None], None]


def count_tokens(text: str) -> int:
    """Approximate token count: words, each CJK character, each punctuation mark (no tokenizer needed)."""
    return len(_TOKEN.findall(text))


def default_cache_dir() -> Path:
    """``$TOKENPLAN_CACHE`` or ``~/.cache/tokenplan``, plus ``/embeddings``."""
    from tokenplan.select.cache import user_cache_dir

    return user_cache_dir() / "embeddings"


@dataclass(frozen=True)
class Recipe:
    """Everything one selection run needs. Every field has the same name in YAML and (with dashes) on the CLI."""

    input: str
    """The pool: .json, .jsonl, .parquet, .csv, or a chatterbot .yml file / directory."""
    output: str | None = None
    """Where the subset goes (same format as the input, or by suffix); None: report only."""
    n_select: int | None = None
    """How many samples to select (exactly this many are returned)."""
    fraction: float | None = None
    """Or: this fraction of the candidate pool (after filters and dedup), e.g. 0.005."""
    budget_tokens: int | None = None
    """Or: select by a token budget (approximate tokens of prompt + answer) instead of a row count."""
    method: str = "facility-cells"
    """facility-cells (default), facility-kcenter, facility-location, kmeans-medoids, random, lima, kcenter,
    task-center, kcenter-per-cluster, random-greedy-cells, stratified-cells, stratified-inner,
    stratified-uniform (docs/select.md says what each optimises)."""
    target: str | None = None
    """A file with a few examples of the downstream task (any format select reads): select for that task."""
    target_method: str = "centroid"
    """With target: centroid (rows nearest the examples' mean), task-center (the 0.5% paper's procedure) or
    nearest (rows most similar to any one example)."""
    seed: int = 0
    """Seed for every random choice (random subset, K-Means init, LIMA sampling, the random baseline)."""
    row_format: str = "auto"
    """auto, alpaca, sharegpt, prompt-response."""
    fields: tuple[str, str] | None = None
    """The prompt and response columns for prompt-response rows; ``(PROMPT, "")`` for a prompt-only pool."""
    domain_field: str | None = None
    """Column with the domain/task label (lima sampling, task-center tasks, per-domain report)."""
    score_field: str | None = None
    """Column with a quality score (for filters.min_score)."""
    strict: bool = False
    """Stop at the first malformed row instead of skipping it."""
    clean: bool = True
    """Strip links, images and HTML from prompt and answer (LIMA), keeping code and lists."""
    filters: FilterConfig = field(default_factory=FilterConfig)
    """Quality filters (see FilterConfig); YAML: a mapping, e.g. {preset: lima}."""
    dedup_exact: bool = True
    """Drop exact duplicates (normalised text hash)."""
    dedup_near: float | None = None
    """Drop near duplicates: MinHash Jaccard threshold (e.g. 0.8); None: off."""
    dedup_semantic: float | None = None
    """Drop semantic duplicates: cosine threshold in embedding space (e.g. 0.95); None: off."""
    embedder: str = DEFAULT_EMBEDDER
    """minilm+tfidf-char (default: MiniLM and character n-grams, the mean of their cosines), minilm (packaged
    all-MiniLM-L6-v2), hf (--model, mean pooling), tfidf (no torch), tfidf-char (character n-grams)."""
    embed_backend: str = "auto"
    """How minilm (alone or in the default) runs: auto (onnxruntime int8 with the fast extra, else torch),
    onnx, torch."""
    model: str | None = None
    """A local Hugging Face model directory: with embedder minilm or the default, that model alone (hf, mean
    pooling)."""
    embeddings: str | None = None
    """A precomputed .npy with one row per input row; skips embedding."""
    cache_dir: str | None = None
    """Embedding cache directory (default ~/.cache/tokenplan/embeddings); 'none' disables it."""
    batch_size: int | None = None
    """Texts per embedding batch (None: the embedder's own, 1 on onnxruntime, 64 on torch; Ray: 256)."""
    n_clusters: int | None = None
    """K-Means clusters (default min(100, max(2, sqrt(n/2))))."""
    tau: float = 3.0
    """LIMA temperature: p_domain ∝ n_domain^(1/tau)."""
    n_workers: int = 2
    """Threads for kcenter-per-cluster."""
    ray_address: str | None = None
    """Run embedding and per-cluster selection on Ray: 'local', 'auto' or ray://host:port."""
    plot: str | None = None
    """Write a 2-D PCA map of pool vs selection to this PNG."""
    report: str | None = None
    """Write a self-contained HTML report page here (needs the report extra)."""
    overwrite: bool = False
    """Replace an existing output file."""

    def __post_init__(self) -> None:
        problems: list[str] = []
        params: list[str | None] = []

        def check(fn: Callable[[], Any]) -> None:
            try:
                fn()
            except InvalidInputError as exc:
                problems.append(str(exc))
                params.append(exc.param)

        # not `not self.input`: a DataFrame has no truth value (its type is named below)
        if self.input is None or (isinstance(self.input, str) and not self.input):
            problems.append("input is required (the pool file).")
        problems += self._type_problems(check)
        sizes = [v for v in (self.n_select, self.fraction, self.budget_tokens) if v is not None]
        if len(sizes) != 1:
            problems.append(
                "give exactly one of n_select (--n), fraction (--fraction) or budget_tokens "
                "(--budget-tokens)."
            )
        if self.target is not None and not str(self.target):
            problems.append("target must name a file.")
        self._check_numbers(check)
        self._check_names(check)
        if not problems:  # names and numbers valid: options that the others make meaningless
            for param, problem in self._conflicts():
                problems.append(problem)
                params.append(param)
        if self.fields is not None and (len(self.fields) != 2 or not self.fields[0]):
            problems.append(
                f"fields={self.fields!r} must name two columns: PROMPT,RESPONSE (PROMPT, for prompts only)."
            )
        if not isinstance(self.filters, FilterConfig):
            problems.append("filters must be a FilterConfig.")
        elif self.filters.min_score is not None and self.score_field is None:
            problems.append(  # else no row has a score and the filter would keep every row
                f"min_score={self.filters.min_score:g} needs score_field (--score-field COLUMN): "
                "the column that holds each row's score."
            )
            params.append("min_score")
        if problems:
            one = params[0] if len(problems) == 1 and len(params) == 1 else None
            raise InvalidInputError(" ".join(problems), param=one)

    def _check_numbers(self, check: Callable[[Callable[[], Any]], None]) -> None:
        """Each numeric field is checked and stored as its number (10.0 -> 10 for a count). A number written
        as text is read as that number, as a sweep spec reads it (YAML 1.1 reads ``1e3`` as the string
        '1e3'; ``n_select: "100"`` is 100): stored as text, the checks accepted it and the pipeline then
        failed to compare it with a number."""
        rules: dict[str, Callable[[Any], Any]] = {
            "n_select": lambda v: positive_int("n_select", v),
            "fraction": lambda v: in_range("fraction", v, 0.0, 1.0, inclusive="high"),
            "budget_tokens": lambda v: positive_int("budget_tokens", v),
            "seed": lambda v: check_seed("seed", v),
            "dedup_near": lambda v: in_range("dedup_near", v, 0.0, 1.0, inclusive=False),
            "dedup_semantic": lambda v: in_range("dedup_semantic", v, 0.0, 1.0, inclusive=False),
            "batch_size": lambda v: positive_int("batch_size", v),
            "n_clusters": lambda v: positive_int("n_clusters", v),
            "tau": lambda v: positive("tau", v),
            "n_workers": lambda v: positive_int("n_workers", v),
        }

        def store(name: str, rule: Callable[[Any], Any], value: Any) -> None:
            object.__setattr__(self, name, rule(number_text(name, value)))

        for name, rule in rules.items():
            value = getattr(self, name)
            if value is not None:
                check(lambda n=name, r=rule, v=value: store(n, r, v))

    def _conflicts(self) -> list[tuple[str, str]]:
        """(field, problem) for each option this recipe would silently ignore (docs/select.md, Recipes:
        conflicting options are errors)."""
        out = []
        if self.model and self.embedder.startswith("tfidf"):
            out.append(
                (
                    "model",
                    f"model={self.model!r} is a neural model; embedder "
                    f"{self.embedder!r} does not use it: drop model (--model), or use embedder hf.",
                )
            )
        if self.embeddings and (self.model or self.embedder != DEFAULT_EMBEDDER):
            out.append(
                (
                    "embeddings",
                    f"embeddings={self.embeddings!r} replaces the embedder: drop "
                    "embedder/model (--embedder/--model), or embeddings (--embeddings).",
                )
            )
        if self.embed_backend != "auto" and self.embedder.startswith("tfidf"):
            out.append(
                (
                    "embed_backend",
                    f"embed_backend={self.embed_backend!r} sets how MiniLM or a "
                    f"--model runs; embedder {self.embedder!r} runs neither: drop it.",
                )
            )
        if self.target_method != "centroid" and self.target is None:
            out.append(
                (
                    "target_method",
                    f"target_method={self.target_method!r} needs target "
                    "(--target FILE, a few examples of your task).",
                )
            )
        if self.tau != 3.0 and self.method != "lima":
            out.append(
                (
                    "tau",
                    f"tau={self.tau:g} is the temperature of method 'lima'; method "
                    f"{self.method!r} does not use it: drop tau (--tau), or use method lima.",
                )
            )
        return out

    def _check_names(self, check: Callable[[Callable[[], Any]], None]) -> None:
        """Each name field is one of its valid names; an error carries the field, so the CLI names the flag."""
        from tokenplan.select.embed import BACKENDS, EMBEDDERS
        from tokenplan.select.io import ROW_FORMATS
        from tokenplan.select.methods import METHODS, TARGET_METHODS

        names = {  # field: (what it names, the valid names)
            "target_method": ("target method", TARGET_METHODS),
            "method": ("selection method", METHODS),
            "row_format": ("row format", ROW_FORMATS),
            "embedder": ("embedder", EMBEDDERS),
            "embed_backend": ("embedding backend", BACKENDS),
        }
        for key, (kind, valid) in names.items():
            check(lambda k=key, kind=kind, v=valid: choice(kind, getattr(self, k), v, param=k))

    def _type_problems(self, check: Callable[[Callable[[], Any]], None]) -> list[str]:
        """Types a YAML recipe can get wrong: strict booleans, the seed, the Ray address, path fields."""
        for name in ("strict", "clean", "dedup_exact", "overwrite"):
            check(lambda name=name: strict_bool(name, getattr(self, name)))
        if self.ray_address is not None:
            ray_address("ray_address", self.ray_address)  # a missing Ray Client is its own error
        types = [  # the type, not the value: a DataFrame's repr is many lines
            f"{name} must be {_PATH_FIELDS[name]} (a string), not {type(getattr(self, name)).__name__}"
            f"{_PATH_FIXES.get(name, '')}."
            for name in _PATH_FIELDS
            if getattr(self, name) is not None
            and not isinstance(getattr(self, name), str | os.PathLike)
        ]
        empty = [  # '' (an unset variable in a templated recipe) was read as no output, as '-o ""' was
            f"{name} is an empty path; give a file name, or leave the key out."
            for name in ("output", "plot", "report")
            if isinstance(getattr(self, name), str) and not getattr(self, name).strip()
        ]
        return types + empty

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recipe:
        """Build from a mapping (a parsed YAML recipe); unknown keys are listed with the valid ones."""
        if not isinstance(data, dict):
            raise InvalidInputError("a recipe must be a mapping of option: value.")
        name_keys("recipe", data, "n_select: 100")
        data = {k.replace("-", "_"): v for k, v in data.items()}
        valid = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(valid))
        if unknown:
            raise InvalidInputError(
                f"unknown recipe key(s) {', '.join(unknown)}; valid keys: {', '.join(valid)}."
            )
        data["filters"] = FilterConfig.from_dict(data.get("filters"))
        if isinstance(data.get("fields"), str):
            data["fields"] = tuple(s.strip() for s in data["fields"].split(","))
        elif isinstance(data.get("fields"), list | tuple):
            data["fields"] = tuple(data["fields"])
        elif data.get("fields") is not None:
            raise InvalidInputError(
                f"fields={data['fields']!r} must name two columns: PROMPT,RESPONSE.", param="fields"
            )
        if "input" not in data:
            data["input"] = ""
        return cls(**data)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike, **overrides: Any) -> Recipe:
        """Load a YAML recipe; ``overrides`` (e.g. from CLI flags) replace its values.

        Every error names the file: a missing, empty or unparsable file, and a problem with its values (the
        flags' values included: ``param`` then names the flag's key, else only the file and key are named).
        """
        from tokenplan._io import read_yaml

        name = f"recipe {str(path)!r}"
        data = read_yaml(path, what="recipe", param="recipe")  # a missing file: one error naming it
        if data is None:  # empty, blank or only comments
            raise InvalidInputError(
                f"{name} is empty; give at least input: POOL and n_select: N (docs/select.md, Recipes).",
                param="recipe",
            )
        if not isinstance(data, dict):
            raise InvalidInputError(f"{name} must be a mapping of option: value.", param="recipe")
        overrides = dict(overrides)
        if isinstance(overrides.get("filters"), dict) and isinstance(data.get("filters"), dict):
            overrides["filters"] = {**data["filters"], **overrides["filters"]}
        data.update(overrides)  # flags win (None clears: --fraction clears the recipe's n_select)
        try:
            return cls.from_dict(data)
        except InvalidInputError as exc:
            where = f"{name} with the flags given" if overrides else name
            param = exc.param if exc.param in overrides else None  # a flag's value: name the flag
            raise InvalidInputError(f"{where}: {exc}", param=param) from None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["fields"] = list(self.fields) if self.fields else None
        return d


# Recipe fields that hold a path or a name (a string), checked for type in Recipe.__post_init__: what each
# must be, and the fix where the type alone does not say it (rows or an array in memory have none).
_PATH_FIELDS = {
    "input": "a path",
    "output": "a file path",
    "plot": "a file path",
    "report": "a file path",
    "embeddings": "a path to a .npy file",
    "model": "a model folder",
    "cache_dir": "a folder path or 'none'",
    "ray_address": "a Ray address",
    "domain_field": "a column name",
    "score_field": "a column name",
    "target": "a path",
}
_PATH_FIXES = {
    "input": "; write rows in memory to a JSONL file first",
    "target": "; write rows in memory to a JSONL file first",
    "embeddings": "; save an array in memory with numpy.save first",
}


@dataclass(frozen=True)
class SelectionReport:
    """The result of :func:`run`: what was read, dropped (by reason), selected, and how well it covers."""

    method: str
    """The selection method that ran (``facility-cells`` by default; ``target:centroid`` with a target)."""
    n_rows: int
    """Rows read from the pool, malformed ones included."""
    n_malformed: int
    """Rows that could not be read as a prompt and an answer (skipped; ``strict`` stops at the first)."""
    malformed_examples: list[str]
    """The first few malformed rows' errors, each naming its line or row."""
    drop_reasons: dict[str, int]
    """Rows dropped by the cleaning, filters and dedup, counted by reason (``too_short``,
    ``exact_duplicate`` ...: :data:`~tokenplan.select.filters.DROP_REASONS`)."""
    n_candidates: int
    """Rows left to select from after the filters and dedup."""
    n_selected: int
    """Rows selected (exactly ``n_select``, or as many as the token budget holds)."""
    selected: np.ndarray
    """The selected rows' source indices (their positions in the pool as read), in pick order."""
    embedder: str
    """The embedder's full identity (model folder, options, backend: what its cache keys hold)."""
    embedder_label: str
    """The embedder as a user names it (``minilm+tfidf-char``, ``hf:FOLDER`` ...): what the CLI shows."""
    n_embedded_from_cache: int
    """Texts whose every view came from the embedding cache (at most the texts embedded)."""
    n_embedded_from_cache_by_view: dict[str, int]
    """Texts each view served from the cache, by view name (``{"minilm": 11, "tfidf-char": 0}`` for the
    default; one entry for a single embedder; empty for precomputed vectors)."""
    n_clusters: int
    """K-Means clusters of the candidates (the cells the coverage numbers count)."""
    coverage: CoverageReport
    """How well the subset covers the candidates (:class:`~tokenplan.select.metrics.CoverageReport`)."""
    random_baseline: CoverageReport
    """The same numbers for a random subset (see ``baseline_matched_on``)."""
    output: str | None
    """The subset file written (None: report only)."""
    plot: str | None
    """The cluster map written with ``plot`` (None: none)."""
    timings: dict[str, float]
    """Seconds per stage (``read``, ``embed``, ``kmeans``, ``select`` ... and ``total``)."""
    warnings: tuple[str, ...] = ()
    """Soft problems of this run (an unusable or damaged embedding cache ...); the run carried on."""
    notes: tuple[str, ...] = ()
    """Things the user should know about this run (e.g. answer filters skipped on a prompt-only pool)."""
    guidance: tuple[Any, ...] = ()
    """SFT quantity findings (select/guidance.py), each with its source."""
    prompt_only: bool = False
    """True when the pool has prompts and no answers: the answer-based filters and preferences (length,
    first person, references, longer-answer swaps) did not apply."""
    baseline_matched_on: str = "rows"
    """What the random baseline shares with the selection: ``rows`` (as many rows) or, with a token budget,
    ``tokens`` (random rows taken until the same budget is spent, the method's rule)."""
    drop_stages: tuple[str, ...] = ()
    """The checks that ran, as drop reasons in pipeline order (:func:`drop_stages`): a check that dropped
    no row is here and not in ``drop_reasons``, so the report's funnel shows it ran and dropped 0."""

    @property
    def baseline_label(self) -> str:
        """The baseline as the reports name it: ``random, same size`` or ``random, same token budget``."""
        return (
            "random, same size"
            if self.baseline_matched_on == "rows"
            else "random, same token budget"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "n_rows": self.n_rows,
            "n_malformed": self.n_malformed,
            "malformed_examples": self.malformed_examples,
            "drop_reasons": self.drop_reasons,
            "n_candidates": self.n_candidates,
            "n_selected": self.n_selected,
            "selected": [int(i) for i in self.selected],
            "embedder": self.embedder,
            "embedder_label": self.embedder_label,
            "n_embedded_from_cache": self.n_embedded_from_cache,
            "n_embedded_from_cache_by_view": self.n_embedded_from_cache_by_view,
            "n_clusters": self.n_clusters,
            "coverage": self.coverage.to_dict(),
            "random_baseline": self.random_baseline.to_dict(),
            "baseline_matched_on": self.baseline_matched_on,
            "prompt_only": self.prompt_only,
            "output": self.output,
            "plot": self.plot,
            "timings_s": self.timings,
            "warnings": list(self.warnings),
            "drop_stages": list(self.drop_stages),
            "notes": list(self.notes),
            "guidance": [g.to_dict() for g in self.guidance],
        }

    def __repr__(self) -> str:
        return (
            f"SelectionReport(method={self.method!r}, n_rows={self.n_rows}, "
            f"n_candidates={self.n_candidates}, n_selected={self.n_selected}, "
            f"coverage_radius={self.coverage.coverage_radius:.4f} "
            f"(random {self.random_baseline.coverage_radius:.4f}))"
        )


def _default_clusters(n: int) -> int:
    return int(min(100, max(2, round(math.sqrt(n / 2))), n))


# ------------------------------------------------------------------------------------------------ stages
# Each stage is a function of plain data, usable and testable alone; run() chains them. The first four
# (read, clean, filter, dedup) are generators over records, so the pool streams through them in one pass.


@dataclass(frozen=True)
class Candidates:
    """What the first pass keeps per candidate row: its source index, domain and approximate token count."""

    index: np.ndarray  # source indices (int64)
    domains: np.ndarray | None  # str labels, or None when the pool has no domain
    n_tokens: np.ndarray  # int64
    answer_chars: np.ndarray | None = None  # int64, the answer's length (0 for a prompt alone)

    def __len__(self) -> int:
        return len(self.index)

    def subset(self, keep: np.ndarray) -> Candidates:
        """The candidates at the positions (or boolean mask) ``keep``."""
        dom = self.domains[keep] if self.domains is not None else None
        chars = self.answer_chars[keep] if self.answer_chars is not None else None
        return Candidates(self.index[keep], dom, self.n_tokens[keep], chars)


def _tick(progress: Progress | None) -> Progress:
    def tick(stage: str, done: int, total: int | None = None) -> None:
        if progress is not None:
            progress(stage, done, total)

    return tick


class _Timer:
    """``with timer("stage"):`` adds the block's wall time to ``timer.timings["stage"]``.

    With ``show=NAME`` it also reports the stage as started (``NAME, 0, None``) and finished (``NAME, 1, 1``)
    to the progress callback, for stages that have no count of their own.
    """

    def __init__(self, tick: Progress) -> None:
        self.timings: dict[str, float] = {}
        self.tick = tick
        self._stage: str | None = None
        self._show: str | None = None

    def __call__(self, stage: str, *, show: str | None = None) -> _Timer:
        self._stage, self._show = stage, show
        return self

    def __enter__(self) -> None:
        self._t = time.perf_counter()
        if self._show:
            self.tick(self._show, 0, None)

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.timings[self._stage] = time.perf_counter() - self._t
        if self._show and exc_type is None:
            self.tick(self._show, 1, 1)


def _count_rows_hint(path: str | os.PathLike) -> int | None:
    """What the read bar counts to: lines of a text file, rows of a Parquet file; None otherwise."""
    p = Path(path)
    if not p.is_file():
        return None
    if p.suffix.lower() in (".parquet", ".pq"):
        try:
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(p).metadata.num_rows)
        except Exception:  # an unreadable file is reported by the reader itself
            return None
    if p.suffix.lower() not in (".json", ".jsonl", ".ndjson", ".csv", ".tsv"):
        return None
    n, last = 0, b"\n"
    with open(p, "rb") as fh:
        while chunk := fh.read(1 << 22):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")


def check_outputs(recipe: Recipe) -> Path | None:
    """Refuse a bad ``output``, ``plot`` or ``report`` path (or a ``cache_dir`` that is a file) before the
    slow part; return the output path (or None).

    An existing file needs ``overwrite``; an input (pool, embeddings, target) is refused even with it, and
    so is a plot over the output. A missing folder is created when the file is written (as every command
    does, :func:`tokenplan._io.check_output`), so a run that fails leaves none.
    """
    from tokenplan._io import check_folder, check_output
    from tokenplan.select.io import detect_file_type

    _check_recipe(recipe)  # run's first look at the recipe
    if (
        recipe.cache_dir and recipe.cache_dir.lower() != "none"
    ):  # a file there: refused, as `data` does
        check_folder(recipe.cache_dir, param="cache_dir")
    inputs = [recipe.input, recipe.embeddings, recipe.target]
    out_path = None
    if recipe.output:
        out_path = check_output(
            recipe.output, param="output", overwrite=recipe.overwrite, inputs=inputs
        )
        try:
            kind = detect_file_type(out_path) if out_path.suffix else "jsonl"
        except InvalidInputError:
            kind = None
        if kind in (None, "yaml"):
            raise InvalidInputError(
                f"`output` {str(out_path)!r} must end in .jsonl, .json, .csv, .tsv or .parquet (the "
                "formats select writes).",
                param="output",
            )
    if recipe.plot:
        check_output(
            recipe.plot,
            param="plot",
            overwrite=recipe.overwrite,
            inputs=inputs,
            outputs={"output": out_path},
        )
        if Path(recipe.plot).suffix.lower() != ".png":
            raise InvalidInputError(
                f"`plot` {str(recipe.plot)!r} must end in .png (the map is a PNG image).",
                param="plot",
            )
    if recipe.report:
        from tokenplan.report import _html

        _html.require()
        _html.check(
            recipe.report,
            overwrite=recipe.overwrite,
            inputs=inputs,
            outputs={"output": out_path, "plot": recipe.plot},
        )
    return out_path


def read_pool(
    recipe: Recipe, stats: ReadStats, *, tick: Progress | None = None
) -> Iterator[Record]:
    """Stage *read*: the pool's records, streamed; malformed rows are counted in ``stats``.

    An error about the file itself (a broken JSON array, a malformed row under ``strict``, no rows) is the
    pool's: ``param="input"``, so the command line names --input (or the recipe's ``input``) as it does
    for a pool that is missing or not UTF-8. Errors naming another option (``--fields``) keep theirs.
    """
    from tokenplan.select.io import iter_records

    tick = tick or _tick(None)
    total = _count_rows_hint(recipe.input) or None
    tick("read", 0, total)
    try:
        for rec in iter_records(
            recipe.input, strict=recipe.strict, stats=stats, **_read_options(recipe)
        ):
            if stats.n_rows % 256 == 0:
                # the position in the file (lines, or rows of a Parquet file); the final count is in rows
                tick("read", min(rec.line, total - 1) if total else stats.n_rows, total)
            yield rec
    except InvalidInputError as exc:
        if exc.param is not None:
            raise
        raise InvalidInputError(str(exc), param="input") from None
    tick("read", stats.n_rows, stats.n_rows)


def _read_options(recipe: Recipe) -> dict[str, Any]:
    """How the recipe reads its pool: one home for the read stage and the second pass over the input."""
    return {
        "row_format": recipe.row_format,
        "fields": recipe.fields,
        "domain_field": recipe.domain_field,
        "score_field": recipe.score_field,
    }


def clean_records(records: Iterable[Record], *, enabled: bool = True) -> Iterator[Record]:
    """Stage *clean*: links, images and HTML stripped from prompt and answer (LIMA); code kept."""
    from tokenplan.select.clean import clean_text

    for rec in records:
        if enabled:
            rec = replace(rec, prompt=clean_text(rec.prompt), response=clean_text(rec.response))
        yield rec


def filter_records(
    records: Iterable[Record],
    config: FilterConfig,
    reasons: Counter[str],
    *,
    stats: ReadStats | None = None,
) -> Iterator[Record]:
    """Stage *filter*: the records the quality filters keep; each drop is counted in ``reasons``.

    On a prompt-only pool (``stats.prompt_only``, set by the reader) the answer filters (length, first
    person, references) do not apply: the prompt is checked for emptiness and the score only.
    """
    prompt_filters = FilterConfig(min_score=config.min_score)
    for rec in records:
        if stats is not None and stats.prompt_only:
            reason = drop_reason(rec.prompt, rec.score, prompt_filters)
        else:
            reason = drop_reason(rec.response, rec.score, config)
        if reason is None:
            yield rec
        else:
            reasons[reason] += 1


def dedup_records(
    records: Iterable[Record],
    reasons: Counter[str],
    *,
    exact: bool = True,
    near: float | None = None,
    seed: int = 0,
) -> Iterator[Record]:
    """Stage *dedup* (streaming part): drop exact and, with ``near`` (a Jaccard threshold), near copies."""
    from tokenplan.select.dedup import ExactDeduper, MinHashDeduper

    exact_dd = ExactDeduper() if exact else None
    near_dd = MinHashDeduper(threshold=near, seed=seed) if near else None
    for rec in records:
        text = rec.text
        if exact_dd is not None and exact_dd.is_duplicate(text):
            reasons["exact_duplicate"] += 1
        elif near_dd is not None and near_dd.is_duplicate(text):
            reasons["near_duplicate"] += 1
        else:
            yield rec


def collect_candidates(
    records: Iterable[Record], spool: IO[str], *, domain_field: str | None = None
) -> Candidates:
    """Keep index, domain and token count of each record; write its text to ``spool`` (one JSON per line)."""
    src_index: list[int] = []
    domains: list[str | None] = []
    n_tokens: list[int] = []
    answer_chars: list[int] = []
    for rec in records:
        text = rec.text
        src_index.append(rec.index)
        domains.append(rec.domain)
        n_tokens.append(count_tokens(text))
        answer_chars.append(len(rec.response))
        spool.write(json.dumps(text, ensure_ascii=False) + "\n")
    spool.flush()
    has_domains = domain_field is not None or all(d is not None for d in domains)
    return Candidates(
        index=np.asarray(src_index, dtype=np.int64),
        domains=np.asarray(domains, dtype=object).astype(str) if has_domains else None,
        n_tokens=np.asarray(n_tokens, dtype=np.int64),
        answer_chars=np.asarray(answer_chars, dtype=np.int64),
    )


def first_pass(
    recipe: Recipe, spool: IO[str], stats: ReadStats, reasons: Counter[str], *, tick: Progress
) -> Candidates:
    """read -> clean -> filter -> dedup in one streamed pass; fails early when nothing is left."""
    records = read_pool(recipe, stats, tick=tick)
    records = clean_records(records, enabled=recipe.clean)
    records = filter_records(records, recipe.filters, reasons, stats=stats)
    records = dedup_records(
        records, reasons, exact=recipe.dedup_exact, near=recipe.dedup_near, seed=recipe.seed
    )
    cands = collect_candidates(records, spool, domain_field=recipe.domain_field)
    if not len(cands):
        _no_candidates(stats, reasons, recipe.filters)
    if recipe.method == "lima" and cands.domains is None:  # fail before the slow part
        raise InvalidInputError(
            "method 'lima' samples over domains: give their column, domain_field (--domain-field NAME).",
            param="method",
        )
    budget(recipe, len(cands), stats, reasons)  # too few candidates: say so before embedding
    if recipe.n_clusters is not None and recipe.n_clusters > len(cands):
        raise InvalidInputError(
            f"n_clusters={recipe.n_clusters} should be <= the {len(cands)} candidates left.",
            param="n_clusters",
        )
    return cands


def spooled_texts(spool: IO[str]) -> Iterator[str]:
    """The spooled texts, from the start, one at a time."""
    spool.seek(0)
    for line in spool:
        yield json.loads(line)


@dataclass(frozen=True)
class Embedded:
    """Stage *embed*'s result: one unit vector per spooled text, and how they were made."""

    matrix: np.ndarray
    """float32, one row per text, in spool order."""
    identity: str
    """The embedder's full identity (model folder, options, backend), as its cache keys hold it: what
    reproducing the run needs (the JSON report's ``embedder``)."""
    label: str
    """The embedder as a user names it: ``minilm+tfidf-char``, ``tfidf``, ``hf:FOLDER``,
    ``precomputed:FILE``; `` (ray)`` when it ran on Ray. What human-facing lines show."""
    n_from_cache: int
    """Texts whose every view came from the cache (never more than the texts)."""
    from_cache_by_view: dict[str, int]
    """Texts each view served from the cache, by view (``{"minilm": 11, "tfidf-char": 0}``; one entry for a
    single embedder, none for precomputed vectors)."""


def embed_candidates(
    recipe: Recipe,
    spool: IO[str],
    cands: Candidates,
    *,
    n_rows: int,
    tick: Progress,
    n_texts: int | None = None,
    warnings: list[str] | None = None,
) -> Embedded:
    """Stage *embed*: the spooled texts' vectors (:class:`Embedded`).

    ``n_texts``: how many texts the spool holds (the candidates', then a target's); default len(cands).
    An ensemble (the default ``minilm+tfidf-char``) embeds the spool once per part, each part as it would
    alone (MiniLM streamed and cached per text, TF-IDF fitted on the whole pool), then joins the views; a
    text counts as from the cache when all its views were, and each view's count is kept too. Cache problems
    (an unusable folder, a damaged store) are appended to ``warnings``; the run carries on.
    """
    from tokenplan.select.embed import get_embedder, load_precomputed

    if recipe.embeddings:
        full = load_precomputed(recipe.embeddings, n_rows=n_rows)
        where = f"precomputed:{recipe.embeddings}"
        return Embedded(full[cands.index], where, where, 0, {})
    name = recipe.embedder
    if recipe.model and name in ("minilm", DEFAULT_EMBEDDER):
        name = "hf"  # --model PATH means a local HF model with mean pooling
    label = f"hf:{Path(recipe.model).name}" if name == "hf" and recipe.model else name
    if name == "minilm" and warnings is not None:
        _warn_script(spool, warnings)
    on_ray = recipe.ray_address is not None and not name.startswith("tfidf")
    total = n_texts if n_texts is not None else len(cands)
    tick("embed", 0, total)
    if (
        on_ray and "+" not in name
    ):  # built on the Ray workers only (a --model folder may be theirs alone)
        progress = lambda done, _: tick("embed", done, total)  # noqa: E731
        emb = _embed_on_ray(recipe, spool, name, progress=progress)
        return Embedded(emb, f"{name} (ray)", f"{label} (ray)", 0, {label: 0})
    options = {"backend": recipe.embed_backend} if name.startswith("minilm") else {}
    embedder = get_embedder(name, model=recipe.model, **options)
    emb, hits = _embed_views(
        recipe, spool, embedder, name, tick=tick, total=total, warnings=warnings
    )
    views = name.split("+") if len(hits) > 1 else [label]
    by_view = {v: int(n) for v, n in zip(views, hits.sum(axis=1))}
    n_cached = int(hits.all(axis=0).sum())
    if on_ray:
        return Embedded(emb, f"{name} (ray)", f"{label} (ray)", n_cached, by_view)
    return Embedded(emb, embedder.name, label, n_cached, by_view)


def _embed_views(recipe: Recipe, spool: IO[str], embedder, name: str, *, tick, total, warnings):
    """Each view of ``embedder`` (``name``, an ensemble's parts joined by "+") over the spool, a neural part
    on Ray when asked: (joined matrix, views x rows mask of the rows from the cache)."""
    from tokenplan.select.embed import embed_views

    parts = getattr(embedder, "parts", (embedder,))
    keys = name.split("+") if len(parts) > 1 else [name]  # the parts' names, for Ray
    on_ray = recipe.ray_address is not None

    def embed_part(i: int, part, progress) -> tuple:
        if on_ray and part.batched:
            return _embed_on_ray(recipe, spool, keys[i], progress=progress), np.zeros(total, bool)
        if part.batched:
            return _embed_part(recipe, spool, part, cache, total, progress)

        # a view fitted on the whole pool (TF-IDF) counts no texts until it ends: a fit is its own stage,
        # shown as running (a pulsing bar, then its time), so a long fit does not look like a stalled embed
        # bar; it starts at the view's count of 0 (a miss) and ends just before its count of all the texts
        # (the last view's ends the embed stage). A view read from the cache shows no fit.
        fitting: list[bool] = []

        def fitted(done: int, n: int | None) -> None:
            if fitting and done == n:
                tick(keys[i], 1, 1)
            if progress is not None:
                progress(done, n)
            if not fitting and done == 0 and n:
                fitting.append(True)
                tick(keys[i], 0, None)

        return _embed_part(recipe, spool, part, cache, total, fitted)

    with _embedding_cache(recipe, warnings) as cache:
        return embed_views(
            parts, embed_part, n_texts=total, progress=lambda done, n: tick("embed", done, n)
        )


def _embed_part(recipe: Recipe, spool: IO[str], embedder, cache, total: int, progress) -> tuple:
    """One embedder over the spool, read afresh from its start: (matrix, mask of the rows from the cache)."""
    from tokenplan.select.embed import embed_view

    return embed_view(
        spooled_texts(spool),
        embedder,
        cache=cache,
        n_texts=total,
        batch_size=recipe.batch_size,
        progress=progress,
    )


@contextmanager
def _embedding_cache(recipe: Recipe, warnings: list[str] | None) -> Iterator[Any]:
    """The recipe's embedding cache (None with cache_dir 'none'), closed after the block."""
    from tokenplan.select.embed import EmbeddingCache

    if (recipe.cache_dir or "").lower() == "none":
        yield None
        return
    sink = warnings if warnings is not None else []
    cache = EmbeddingCache(recipe.cache_dir or default_cache_dir(), on_warning=sink.append)
    try:
        yield cache
    finally:
        cache.close()


def _warn_script(spool: IO[str], warnings: list[str], *, sample: int = 2000) -> None:
    """Warn when most letters of the pool (its first ``sample`` texts) are not Latin script: MiniLM, an
    English model, separates such text poorly (docs/select.md, "Which embedder")."""
    from tokenplan.select.embed import NON_LATIN_WARN, non_latin_share

    share = non_latin_share(itertools.islice(spooled_texts(spool), sample))
    if share > NON_LATIN_WARN:
        warnings.append(
            f"{share:.0%} of the pool's letters are not Latin script; MiniLM is an English model (most "
            "CJK characters are unknown to its vocabulary): prefer a local multilingual model (--model "
            f"DIR), or the default embedder {DEFAULT_EMBEDDER}, or --embedder tfidf-char (character "
            "n-grams; docs/select.md, Which embedder); --method stratified-uniform kept at least 0.98x "
            "random's label coverage on the 20 benchmark pools measured with MiniLM alone "
            "(docs/select.md, A robust alternative)."
        )


def _embed_on_ray(recipe: Recipe, spool: IO[str], name: str, *, progress) -> np.ndarray:
    """The embedder ``name`` (a neural one) over the spooled texts on Ray (no cache)."""
    from tokenplan.select.ray_backend import embed_ray

    texts = list(spooled_texts(spool))
    emb = embed_ray(
        texts,
        embedder=name,
        model=recipe.model,
        address=recipe.ray_address,
        batch_size=recipe.batch_size or 256,
    )
    progress(len(texts), len(texts))
    return emb


def cluster_candidates(
    emb: np.ndarray, *, n_clusters: int | None = None, seed: int = 0, tick: Progress | None = None
):
    """Stage *cluster*: K-Means with ``n_clusters`` (default min(100, sqrt(n/2))), iterations to ``tick``."""
    from tokenplan.select.cluster import kmeans

    k = n_clusters or _default_clusters(len(emb))
    if k > len(emb):
        raise InvalidInputError(f"n_clusters={k} should be <= the {len(emb)} candidates left.")
    tick = tick or _tick(None)
    return kmeans(emb, k, seed=seed, progress=lambda done, total: tick("kmeans", done, total))


def semantic_dedup(
    emb: np.ndarray, cands: Candidates, km, *, threshold: float, reasons: Counter[str]
) -> tuple[np.ndarray, Candidates, Any]:
    """Stage *dedup* (semantic part): drop rows within cosine ``threshold`` of an earlier kept row."""
    from tokenplan.select.dedup import semantic_duplicates

    labels = km.labels if len(emb) > 20000 else None
    dup = semantic_duplicates(emb, threshold=threshold, labels=labels)
    if not dup.any():
        return emb, cands, km
    reasons["semantic_duplicate"] += int(dup.sum())
    keep = ~dup
    return emb[keep], cands.subset(keep), replace(km, labels=km.labels[keep])


def drop_summary(reasons: Mapping[str, int]) -> str:
    """The rows dropped, per reason, as the report and errors print them: 'exact_duplicate 1,127, ...'."""
    return ", ".join(f"{k} {v:,}" for k, v in reasons.items())


def budget(recipe: Recipe, n_candidates: int, stats: ReadStats, reasons: Counter[str]) -> int:
    """How many to select: ``n_select``, or ``fraction`` of the candidates rounded half up (>= 1); with a
    token budget, 1 (the count then follows from the budget)."""
    if recipe.n_select is not None:
        n_select = recipe.n_select
    elif recipe.fraction is not None:
        n_select = max(1, math.floor(recipe.fraction * n_candidates + 0.5))  # round half up
    else:
        n_select = 1  # a token budget: the count follows from it
    if n_select > n_candidates:
        # malformed rows are read but never candidates: without them the counts did not add up
        malformed = {"malformed": stats.n_malformed} if stats.n_malformed else {}
        dropped = drop_summary({**malformed, **reasons}) or "none"
        raise InvalidInputError(
            f"n_select={n_select:,} is more than the {n_candidates:,} candidates left after filters "
            f"and dedup ({stats.n_rows:,} rows read; dropped: {dropped}); select at most "
            f"{n_candidates:,}, or loosen the filters.",
            param="n_select" if recipe.n_select is not None else "fraction",
        )
    return n_select


def choose(
    recipe: Recipe,
    emb: np.ndarray,
    cands: Candidates,
    km,
    n_select: int,
    *,
    target: np.ndarray | None = None,
    tick: Progress | None = None,
):
    """Stage *select*: the recipe's method (or, with ``target`` embeddings, target-task selection);
    picks counted to ``tick``."""
    from tokenplan.select.methods import Pool

    pool = Pool(embeddings=emb, domains=cands.domains, clusters=km, answer_chars=cands.answer_chars)
    tick = tick or _tick(None)
    return _select(recipe, pool, n_select, cands.n_tokens, target, tick=tick)


def report_coverage(
    emb: np.ndarray,
    cands: Candidates,
    km,
    sel,
    *,
    seed: int = 0,
    budget_tokens: int | None = None,
    random: np.ndarray | None = None,
) -> tuple:
    """Stage *report*: coverage of the selection and of the random baseline (seed + 1): a random subset of
    the same size, or with ``budget_tokens`` random rows within the same token budget. ``random`` gives the
    baseline's positions already drawn by :func:`random_subset` (``run`` draws them once, for this and for
    the report page)."""
    from tokenplan.select.metrics import coverage

    cov_kw = dict(
        cluster_labels=km.labels,
        n_clusters=km.n_clusters,
        domains=cands.domains,
        n_tokens=cands.n_tokens,
    )
    report = coverage(emb, sel.indices, **cov_kw)
    if random is None:
        random = random_subset(
            len(emb),
            len(sel.indices),
            seed=seed,
            n_tokens=cands.n_tokens,
            budget_tokens=budget_tokens,
        )
    return report, coverage(emb, random, **cov_kw)


def random_subset(
    n_candidates: int,
    n_selected: int,
    *,
    seed: int = 0,
    n_tokens: np.ndarray | None = None,
    budget_tokens: int | None = None,
) -> np.ndarray:
    """The random baseline, drawn with ``seed + 1``: ``n_selected`` candidate positions; with
    ``budget_tokens`` (and each candidate's ``n_tokens``), the rule a method follows under a token budget
    (:func:`~tokenplan.select.methods.select_by_tokens`): the longest prefix of a random order whose tokens
    fit the budget (if its first row alone is over, the first row that fits), so it never spends more."""
    rng = np.random.default_rng(seed + 1)
    if budget_tokens is None:
        return rng.choice(n_candidates, n_selected, replace=False)
    order = rng.permutation(n_candidates)
    tokens = np.asarray(n_tokens, dtype=np.int64)[order]
    keep = int(np.searchsorted(np.cumsum(tokens), budget_tokens, side="right"))
    if keep == 0:  # a method's first pick fit (else it refused the budget): so does some row
        return order[np.flatnonzero(tokens <= budget_tokens)[:1]]
    return order[:keep]


def _baseline(recipe: Recipe, cands: Candidates, sel) -> np.ndarray:
    """The random baseline of ``recipe``'s selection ``sel``: :func:`random_subset` of the candidates."""
    return random_subset(
        len(cands),
        len(sel.indices),
        seed=recipe.seed,
        n_tokens=cands.n_tokens,
        budget_tokens=recipe.budget_tokens,
    )


def write_outputs(
    recipe: Recipe, out_path: Path | None, emb: np.ndarray, cands: Candidates, km, sel
) -> tuple[str | None, str | None]:
    """Stage *write*: the chosen rows with provenance fields, and the map; returns (output, plot)."""
    written = None
    if out_path is not None:
        from tokenplan.select.io import write_subset

        idx = cands.index
        prov = {
            int(idx[p]): {
                "_source_index": int(idx[p]),
                "_cluster": int(km.labels[p]),
                "_score": None if not np.isfinite(s) else round(float(s), 6),
                "_rank": r,
            }
            for r, (p, s) in enumerate(zip(sel.indices, sel.scores))
        }
        write_subset(recipe.input, out_path, prov, overwrite=recipe.overwrite)
        written = str(out_path)
    plot_path = None
    if recipe.plot:
        from tokenplan.select.plot import plot_selection

        plot_path = str(plot_selection(emb, sel.indices, recipe.plot, title=recipe.method))
    return written, plot_path


def _read_and_embed(
    recipe: Recipe, stats: ReadStats, reasons: Counter[str], warnings: list[str], timer: _Timer
) -> tuple[Recipe, Candidates, np.ndarray, np.ndarray | None, tuple[Embedded, int]]:
    """The first pass and the embedding, around one spool of texts; a target's rows are split off. The
    recipe comes back as read (a pool with no answers: prompt-only, :func:`_first_pass_or_prompts`)."""
    # the spool is an unnamed temporary file: nothing is left behind, even after SIGKILL
    with tempfile.TemporaryFile(
        "w+", encoding="utf-8", errors="surrogatepass", prefix="tokenplan-select-"
    ) as spool:
        with timer("read_filter_dedup"):
            read, cands = _first_pass_or_prompts(recipe, spool, stats, reasons, timer)
            # the target's texts go after the pool's, embedded with them; read with the fields given, not
            # those a pool of prompts alone was read with (the target may be in another format)
            n_target = _spool_target(recipe, spool) if recipe.target is not None else 0
            recipe = read
        with timer("embed"):
            embedded = embed_candidates(
                recipe,
                spool,
                cands,
                n_rows=stats.n_rows,
                tick=timer.tick,
                n_texts=len(cands) + n_target,
                warnings=warnings,
            )
        emb = embedded.matrix
        target = emb[len(cands) :] if recipe.target is not None else None
        emb = emb[: len(cands)]
        if recipe.target is not None:
            keep = ~_target_rows(spool, len(cands), n_target)
            if not keep.all():
                reasons["target_example"] += int((~keep).sum())
                emb, cands = emb[keep], cands.subset(keep)
    return recipe, cands, emb, target, (embedded, n_target)


def _first_pass_or_prompts(
    recipe: Recipe, spool: IO[str], stats: ReadStats, reasons: Counter[str], timer: _Timer
) -> tuple[Recipe, Candidates]:
    """:func:`first_pass`; a pool none of whose rows has an answer (every row read was dropped as empty: an
    alpaca file of empty outputs, chat rows with no assistant turn, an empty answer column) is a prompt-only
    pool, read again for its prompts alone with the fields that do so (``stats.prompt_only_fields``, as
    ``--fields instruction,`` would); the returned recipe says so to the rest of the run."""
    from tokenplan.select.io import ReadStats

    try:
        return recipe, first_pass(recipe, spool, stats, reasons, tick=timer.tick)
    except InvalidInputError:
        prompts = stats.prompt_only_fields
        if recipe.fields is not None or prompts is None or not _no_row_answered(stats, reasons):
            raise
    recipe = replace(recipe, fields=prompts)
    vars(stats).update(vars(ReadStats()))
    reasons.clear()
    spool.seek(0)
    spool.truncate()
    cands = first_pass(recipe, spool, stats, reasons, tick=timer.tick)
    stats.prompt_only_fields = prompts  # read so as no row had an answer: the note says it
    return recipe, cands


def _no_row_answered(stats: ReadStats, reasons: Counter[str]) -> bool:
    """True when rows were read and every one that was not malformed was dropped as empty (no answer)."""
    n_read = stats.n_rows - stats.n_malformed
    return n_read > 0 and reasons == {"empty": n_read}


def _target_rows(spool: IO[str], n_cands: int, n_target: int) -> np.ndarray:
    """Which candidates are one of the target's examples: the same text (prompt and answer, cleaned, as
    embedded), or the same prompt where one of the two has no answer. A target is often evaluation data,
    so selecting it would put the test into the training set; and the user holds these rows already."""
    spool.seek(0)
    targets = itertools.islice(spool, n_cands, n_cands + n_target)
    whole = {json.loads(line).strip() for line in targets}
    prompts = set().union(*(_blank_line_prefixes(t) for t in whole))
    spool.seek(0)
    found = np.zeros(n_cands, dtype=bool)
    for i, line in enumerate(itertools.islice(spool, n_cands)):
        text = json.loads(line).strip()
        found[i] = text in prompts or not whole.isdisjoint(_blank_line_prefixes(text))
    return found


def _blank_line_prefixes(text: str) -> set[str]:
    """``text`` and each start of it that ends before a blank line (the prompt of "prompt\n\nanswer")."""
    out, at = {text}, text.find("\n\n")
    while at != -1:
        out.add(text[:at].strip())
        at = text.find("\n\n", at + 1)
    return out


def _check_recipe(recipe: object) -> None:
    """A dict or None given to :func:`run` failed on a missing attribute deep inside: name it."""
    instance(
        "recipe", recipe, Recipe,
        "run(Recipe(input='pool.jsonl', n_select=100)) (a dict d: Recipe.from_dict(d); a YAML file: "
        "Recipe.from_yaml(path))",
    )  # fmt: skip


def run(recipe: Recipe, *, progress: Progress | None = None) -> SelectionReport:
    """Run the whole pipeline of ``recipe``; ``progress(stage, n_done, total)`` reports long stages: read ->
    clean -> filter -> dedup (one streamed pass) -> embed -> cluster -> [semantic dedup] -> select -> report.
    """
    from tokenplan.select.io import ReadStats

    t0 = time.perf_counter()
    timer = _Timer(_tick(progress))
    out_path = check_outputs(recipe)
    stats, reasons, warnings = ReadStats(), Counter(), []
    read = _read_and_embed(recipe, stats, reasons, warnings, timer)
    recipe, cands, emb, target_emb, embed_info = read
    embedded, n_target = embed_info
    with timer("kmeans"):
        km = cluster_candidates(
            emb, n_clusters=recipe.n_clusters, seed=recipe.seed, tick=timer.tick
        )
    if recipe.dedup_semantic is not None:
        with timer("semantic_dedup", show="semantic dedup"):
            emb, cands, km = semantic_dedup(
                emb, cands, km, threshold=recipe.dedup_semantic, reasons=reasons
            )
    n_select = budget(recipe, len(cands), stats, reasons)
    with timer("select"):
        sel = choose(recipe, emb, cands, km, n_select, target=target_emb, tick=timer.tick)
    with timer("report", show="report"):
        rnd = _baseline(recipe, cands, sel)  # drawn once: its coverage, and the report page's rows
        cov, baseline = report_coverage(emb, cands, km, sel, random=rnd)
    with timer("write", show="write" if out_path is not None or recipe.plot else None):
        written, plot_path = write_outputs(recipe, out_path, emb, cands, km, sel)
    timer.timings["total"] = time.perf_counter() - t0
    result = SelectionReport(
        method=sel.method,
        n_rows=stats.n_rows,
        n_malformed=stats.n_malformed,
        malformed_examples=list(stats.errors),
        drop_reasons=dict(sorted(reasons.items())),
        n_candidates=len(cands),
        n_selected=len(sel),
        selected=cands.index[sel.indices],
        embedder=embedded.identity,
        embedder_label=embedded.label,
        n_embedded_from_cache=embedded.n_from_cache,
        n_embedded_from_cache_by_view=embedded.from_cache_by_view,
        n_clusters=km.n_clusters,
        coverage=cov,
        random_baseline=baseline,
        baseline_matched_on="rows" if recipe.budget_tokens is None else "tokens",
        prompt_only=stats.prompt_only,
        drop_stages=drop_stages(recipe, prompt_only=stats.prompt_only),
        output=written,
        plot=plot_path,
        timings={k: round(v, 3) for k, v in timer.timings.items()},
        notes=_notes(recipe, stats, n_target, reasons["target_example"]),
        guidance=tuple(quantity_guidance(len(sel), cov.n_tokens, target=recipe.target is not None)),
        warnings=tuple(warnings),
    )
    if recipe.report:
        write_report_page(recipe, result, emb, cands, km, sel, random=rnd)
    return result


def drop_stages(recipe: Recipe, *, prompt_only: bool = False) -> tuple[str, ...]:
    """The drop checks ``recipe`` runs, in pipeline order (:data:`~tokenplan.select.filters.DROP_REASONS`):
    emptiness always; the answer filters it turns on (none on a prompt-only pool, :func:`filter_records`);
    the score floor with a score field; the dedup stages it turns on; the target's own examples."""
    from tokenplan.select.filters import DROP_REASONS

    f = recipe.filters
    answers = not prompt_only
    ran = {
        "empty": True,
        "too_short": answers and f.min_chars is not None,
        "too_long": answers and f.max_chars is not None,
        "first_person": answers and bool(f.first_person),
        "refers_to_other_answers": answers and bool(f.refers_to_others),
        "low_score": f.min_score is not None and recipe.score_field is not None,
        "exact_duplicate": bool(recipe.dedup_exact),
        "near_duplicate": recipe.dedup_near is not None,
        "semantic_duplicate": recipe.dedup_semantic is not None,
        "target_example": recipe.target is not None,
    }
    return tuple(r for r in DROP_REASONS if ran[r])


def write_report_page(
    recipe: Recipe, result: SelectionReport, emb, cands, km, sel, *, random: np.ndarray
) -> None:
    """``report``: the self-contained HTML page of this selection (tokenplan.report.select_page), with the
    random baseline's positions ``random`` (the ones its coverage was measured on)."""
    from tokenplan.report.select_page import write_select_report

    write_select_report(
        recipe.report,
        result,
        embeddings=emb,
        labels=km.labels,
        selected=sel.indices,
        random=random,
        text_of=lambda pos: candidate_texts(recipe, cands.index[pos]),
        seed=recipe.seed,
        overwrite=recipe.overwrite,
        inputs=[recipe.input, recipe.output],
    )


def candidate_texts(recipe: Recipe, source_index: np.ndarray) -> list[str]:
    """The texts of the rows at ``source_index`` as the embedder saw them (a second pass over the input)."""
    from tokenplan.select.io import iter_records

    want = set(np.asarray(source_index).tolist())
    found: dict[int, str] = {}
    records = iter_records(recipe.input, strict=False, **_read_options(recipe))
    for rec in clean_records(records, enabled=recipe.clean):
        if rec.index in want:
            found[rec.index] = rec.text
            if len(found) == len(want):
                break
    return [found.get(i, "") for i in np.asarray(source_index).tolist()]


# drop reason -> the filter that dropped the row, as a recipe names it (filters: {min_chars: ...}) and its flag
_FILTERS = {
    "too_short": "filters.min_chars (--min-chars)",
    "too_long": "filters.max_chars (--max-chars)",
    "first_person": "filters.first_person (--drop-first-person)",
    "refers_to_other_answers": "filters.refers_to_others (--drop-references)",
    "low_score": "filters.min_score (--min-score)",
}


def _no_candidates(stats, reasons: Counter, filters: FilterConfig) -> None:
    """Every row was malformed or filtered out: one error saying in words how many rows each reason
    dropped and naming the filters to loosen (the recipe key and the flag: either may have set it)."""
    names = [_FILTERS[r] for r, _ in reasons.most_common() if r in _FILTERS]
    fix = f"loosen {', '.join(names)}" if names else "check row_format/fields (--format/--fields)"
    if reasons.get("empty") and not stats.prompt_only:
        fix += "; rows without an answer: for a prompt-only pool set fields (--fields) to PROMPT,"
    parts = [f"{n:,} {_dropped_as(r, n, filters)}" for r, n in reasons.most_common()]
    if stats.n_malformed:
        first = f" (first: {stats.errors[0]})" if stats.errors else ""
        parts.append(f"{stats.n_malformed:,} malformed{first}")
    raise InvalidInputError(
        f"no candidates left of the {stats.n_rows:,} rows read: {', '.join(parts) or 'none'}; "
        f"{fix}.",
        param="filters",
    )


def _dropped_as(reason: str, n: int, filters: FilterConfig) -> str:
    """What a drop reason says of the rows it dropped, with the threshold that decided it."""
    many = "s" if n != 1 else ""
    words = {
        "too_short": f"too short (under {filters.min_chars or 0:,} characters)",
        "too_long": f"too long (over {filters.max_chars or 0:,} characters)",
        "first_person": "in the first person",
        "refers_to_other_answers": "referring to other answers",
        "low_score": f"scored below {filters.min_score or 0:g}",
        "exact_duplicate": f"exact duplicate{many}",
        "near_duplicate": f"near duplicate{many}",
        "semantic_duplicate": f"semantic duplicate{many}",
        "target_example": "copies of target examples" if n != 1 else "copy of a target example",
    }
    return words.get(reason, reason.replace("_", " "))


def _spool_target(recipe: Recipe, spool: IO[str]) -> int:
    """Append the target's texts (prompt + answer, cleaned like the pool) to the spool; their count."""
    from tokenplan._io import _same_file
    from tokenplan.select.io import ReadStats, iter_records, missing_file

    if recipe.embeddings:
        raise InvalidInputError(
            "target needs an embedder to embed its examples; drop embeddings (--embeddings).",
            param="target",
        )
    path = Path(recipe.target)
    if not path.exists():
        raise missing_file("target file", path, param="target")
    if _same_file(path, Path(recipe.input)):
        raise InvalidInputError(
            f"target file {str(path)!r} is the pool itself; give a few examples of your task in a "
            "separate file.",
            param="target",
        )
    stats, n = ReadStats(), 0
    spool.seek(0, os.SEEK_END)
    try:
        records = iter_records(path, fields=recipe.fields, stats=stats)
        for rec in clean_records(records, enabled=recipe.clean):
            text = rec.text
            if text.strip():
                spool.write(json.dumps(text, ensure_ascii=False) + "\n")
                n += 1
    except InvalidInputError as exc:
        raise InvalidInputError(f"target (--target): {exc}", param="target") from None
    if n == 0:
        raise InvalidInputError(
            f"target file {str(path)!r} has no usable rows ({stats.n_rows} read, {stats.n_malformed} "
            f"malformed{f', first: {stats.errors[0]}' if stats.errors else ''}); give a few examples of "
            "your task in a format select reads (with the pool's fields, --fields).",
            param="target",
        )
    return n


def _select(recipe: Recipe, pool, n_select: int, tokens, target, *, tick: Progress):
    from tokenplan.select.methods import select, select_by_tokens, select_for_target

    def progress(done: int, total: int) -> None:
        tick("choose", done, total)

    if target is not None:

        def pick(n: int):
            sel = select_for_target(pool, target, n, method=recipe.target_method, progress=progress)
            progress(n, n)
            return sel
    else:

        def pick(n: int):
            # the recipe's fields of the same names, passed through
            how = record(recipe, "method seed tau n_workers ray_address")
            return select(pool, n, **how, progress=progress)

    if recipe.budget_tokens is not None:
        return select_by_tokens(pool, tokens, recipe.budget_tokens, pick=pick)
    return pick(n_select)


def _answer_hint(stats) -> str:
    """For a pool detected as prompt-only whose rows hold other text: how to name the answer column."""
    others = stats.other_text_columns
    if not others:
        return ""
    names = ", ".join(repr(c) for c in others)
    return (
        f" The rows also hold text in {names}: if one is the answer, name it with "
        f"--fields {stats.prompt_column},{others[0]} (recipe: fields)."
    )


def _notes(recipe: Recipe, stats, n_target: int, n_left_out: int = 0) -> tuple[str, ...]:
    notes = []
    if stats.prompt_only:
        skipped = " (length, first person, references)" if recipe.filters.active else ""
        why = "no answers, so"
        if stats.prompt_only_fields is not None:
            flag = f"--fields {stats.prompt_only_fields[0]},"
            why = f"no row has an answer, so it was read for its prompts alone (as {flag} does) and"
        notes.append(
            f"prompt-only pool: {why} answer-based filters{skipped} were skipped; "
            "selected on prompts alone." + _answer_hint(stats)
        )
    if recipe.target is not None:
        left_out = (
            f"; {n_left_out} pool row(s) that are those examples were left out (a target is often "
            "evaluation data: selecting it would train on the test)"
            if n_left_out
            else ""
        )
        notes.append(
            f"selected for the task in {recipe.target} ({n_target} examples, {recipe.target_method})"
            f"{left_out}."
        )
    return tuple(notes)
