"""The selection pipeline: read -> clean -> filter -> dedup -> embed -> cluster -> select -> report -> write.

A :class:`Recipe` (a frozen dataclass, loadable from YAML) says what to do; :func:`run` does it and returns a
:class:`SelectionReport`. The pool is streamed: the first pass keeps, per candidate row, only its source index,
domain, score and token count, and spools the text to a temporary file that the embedder then streams; the
subset is written by a second pass over the input. So memory grows with the embeddings, not with the texts.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from tokenplan._checks import choice, in_range, positive, positive_int
from tokenplan.errors import InvalidInputError
from tokenplan.select.filters import FilterConfig, drop_reason
from tokenplan.select.guidance import quantity_guidance

__all__ = ["Recipe", "SelectionReport", "count_tokens", "default_cache_dir", "run"]

_TOKEN = re.compile(r"[A-Za-z0-9_]+|[\u3400-\u9fff\uf900-\ufaff]|[^\sA-Za-z0-9_]")

Progress = Callable[[str, int, int | None], None]


def count_tokens(text: str) -> int:
    """Approximate token count: words, each CJK character, each punctuation mark (no tokenizer needed)."""
    return len(_TOKEN.findall(text))


def default_cache_dir() -> Path:
    """``$TOKENPLAN_CACHE`` or ``~/.cache/tokenplan``, plus ``/embeddings``."""
    root = os.environ.get("TOKENPLAN_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tokenplan"
    )
    return Path(root) / "embeddings"


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
    method: str = "facility-kcenter"
    """facility-kcenter (default), facility-location, kmeans-medoids, random, lima, kcenter, task-center,
    kcenter-per-cluster (docs/select.md says what each optimises)."""
    target: str | None = None
    """A file with a few examples of the downstream task (any format select reads): select for that task."""
    target_method: str = "task-center"
    """With target: task-center (the 0.5% paper's procedure) or nearest (rows most similar to the examples)."""
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
    embedder: str = "minilm"
    """minilm (packaged all-MiniLM-L6-v2), hf (--model, mean pooling), tfidf (no torch)."""
    model: str | None = None
    """A local Hugging Face model directory (implies embedder hf unless embedder is set otherwise)."""
    embeddings: str | None = None
    """A precomputed .npy with one row per input row; skips embedding."""
    cache_dir: str | None = None
    """Embedding cache directory (default ~/.cache/tokenplan/embeddings); 'none' disables it."""
    batch_size: int = 256
    """Texts per embedding batch (and per cache entry)."""
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

        from tokenplan.select.embed import EMBEDDERS
        from tokenplan.select.io import ROW_FORMATS
        from tokenplan.select.methods import METHODS

        if not self.input:
            problems.append("input is required (the pool file).")
        sizes = [v for v in (self.n_select, self.fraction, self.budget_tokens) if v is not None]
        if len(sizes) != 1:
            problems.append(
                "give exactly one of n_select (--n), fraction (--fraction) or budget_tokens "
                "(--budget-tokens)."
            )
        if self.budget_tokens is not None:
            check(lambda: positive_int("budget_tokens", self.budget_tokens))
        if self.target is not None and not str(self.target):
            problems.append("target must name a file.")
        from tokenplan.select.methods import TARGET_METHODS

        check(lambda: choice("target method", self.target_method, TARGET_METHODS))
        if self.n_select is not None:
            check(lambda: positive_int("n_select", self.n_select))
        if self.fraction is not None:
            check(lambda: in_range("fraction", self.fraction, 0.0, 1.0))
            if self.fraction == 0:
                problems.append("fraction=0 must be > 0.")
        check(lambda: choice("selection method", self.method, METHODS))
        check(lambda: choice("row format", self.row_format, ROW_FORMATS))
        check(lambda: choice("embedder", self.embedder, EMBEDDERS))
        if self.fields is not None and (len(self.fields) != 2 or not self.fields[0]):
            problems.append(
                f"fields={self.fields!r} must name two columns: PROMPT,RESPONSE (PROMPT, for prompts only)."
            )
        for name in ("dedup_near", "dedup_semantic"):
            v = getattr(self, name)
            if v is not None:
                check(lambda v=v, name=name: in_range(name, v, 0.0, 1.0, inclusive=False))
        check(lambda: positive_int("batch_size", self.batch_size))
        if self.n_clusters is not None:
            check(lambda: positive_int("n_clusters", self.n_clusters))
        check(lambda: positive("tau", self.tau))
        check(lambda: positive_int("n_workers", self.n_workers))
        if not isinstance(self.filters, FilterConfig):
            problems.append("filters must be a FilterConfig.")
        if problems:
            one = params[0] if len(problems) == 1 and len(params) == 1 else None
            raise InvalidInputError("invalid recipe: " + " ".join(problems), param=one)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recipe:
        """Build from a mapping (a parsed YAML recipe); unknown keys are listed with the valid ones."""
        if not isinstance(data, dict):
            raise InvalidInputError("a recipe must be a mapping of option: value.")
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
        elif data.get("fields") is not None:
            data["fields"] = tuple(data["fields"])
        if "input" not in data:
            data["input"] = ""
        return cls(**data)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike, **overrides: Any) -> Recipe:
        """Load a YAML recipe; ``overrides`` (e.g. from CLI flags) replace its values."""
        import yaml

        p = Path(path)
        if not p.exists():
            raise InvalidInputError(f"recipe {str(p)!r} does not exist.")
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise InvalidInputError(f"recipe {str(p)!r} is not valid YAML ({exc}).") from None
        if not isinstance(data, dict):
            raise InvalidInputError(f"recipe {str(p)!r} must be a mapping of option: value.")
        overrides = dict(overrides)
        if isinstance(overrides.get("filters"), dict) and isinstance(data.get("filters"), dict):
            overrides["filters"] = {**data["filters"], **overrides["filters"]}
        data.update(overrides)  # flags win (None clears: --fraction clears the recipe's n_select)
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["fields"] = list(self.fields) if self.fields else None
        return d


@dataclass(frozen=True)
class SelectionReport:
    """The result of :func:`run`: what was read, dropped (by reason), selected, and how well it covers."""

    method: str
    n_rows: int
    n_malformed: int
    malformed_examples: list[str]
    drop_reasons: dict[str, int]
    n_candidates: int
    n_selected: int
    selected: np.ndarray  # source indices, in pick order
    embedder: str
    n_embedded_from_cache: int
    n_clusters: int
    coverage: Any  # CoverageReport
    random_baseline: Any  # CoverageReport of a random subset of the same size
    output: str | None
    plot: str | None
    timings: dict[str, float]
    notes: tuple[str, ...] = ()
    """Things the user should know about this run (e.g. answer filters skipped on a prompt-only pool)."""
    guidance: tuple[Any, ...] = ()
    """SFT quantity findings (select/guidance.py), each with its source."""

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
            "n_embedded_from_cache": self.n_embedded_from_cache,
            "n_clusters": self.n_clusters,
            "coverage": self.coverage.to_dict(),
            "random_baseline": self.random_baseline.to_dict(),
            "output": self.output,
            "plot": self.plot,
            "timings_s": self.timings,
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


def run(recipe: Recipe, *, progress: Progress | None = None) -> SelectionReport:
    """Run the whole pipeline of ``recipe``; ``progress(stage, n_done, total)`` reports long stages."""
    from tokenplan.select.clean import clean_text
    from tokenplan.select.dedup import ExactDeduper, MinHashDeduper
    from tokenplan.select.io import ReadStats, iter_records, join_text

    def tick(stage: str, n: int, total: int | None = None) -> None:
        if progress is not None:
            progress(stage, n, total)

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    out_path = Path(recipe.output) if recipe.output else None
    if (
        out_path is not None and out_path.exists() and not recipe.overwrite
    ):  # fail before the slow part
        raise InvalidInputError(f"output {str(out_path)!r} exists; pass --overwrite to replace it.")
    if out_path is not None:
        from tokenplan.select.io import detect_file_type

        if out_path.resolve() == Path(recipe.input).resolve():
            raise InvalidInputError("output is the input file; choose another --output.")
        if not out_path.parent.exists():
            raise InvalidInputError(f"the directory of output {str(out_path)!r} does not exist.")
        if out_path.suffix and detect_file_type(out_path) == "yaml":
            raise InvalidInputError("writing YAML is not supported; use a .jsonl output.")
    if recipe.plot and not Path(recipe.plot).parent.exists():
        raise InvalidInputError(f"the directory of --plot {recipe.plot!r} does not exist.")
    stats = ReadStats()
    reasons: Counter[str] = Counter()
    exact = ExactDeduper() if recipe.dedup_exact else None
    near = (
        MinHashDeduper(threshold=recipe.dedup_near, seed=recipe.seed) if recipe.dedup_near else None
    )
    # on a prompt-only pool the answer filters (length, first person, references) do not apply
    prompt_filters = FilterConfig(min_score=recipe.filters.min_score)
    src_index: list[int] = []
    domains: list[str | None] = []
    n_tokens: list[int] = []
    spool_dir = tempfile.TemporaryDirectory(prefix="tokenplan-select-")
    try:
        spool = Path(spool_dir.name) / "texts.jsonl"
        with open(spool, "w", encoding="utf-8") as sp:
            for rec in iter_records(
                recipe.input,
                row_format=recipe.row_format,
                fields=recipe.fields,
                domain_field=recipe.domain_field,
                score_field=recipe.score_field,
                strict=recipe.strict,
                stats=stats,
            ):
                if stats.n_rows % 1000 == 0:
                    tick("read", 1000)
                prompt, response = rec.prompt, rec.response
                if recipe.clean:
                    prompt, response = clean_text(prompt), clean_text(response)
                if stats.prompt_only:  # no answers: only the answer-free checks apply
                    reason = drop_reason(prompt, rec.score, prompt_filters)
                else:
                    reason = drop_reason(response, rec.score, recipe.filters)
                text = join_text(prompt, response)
                if reason is None and exact is not None and exact.is_duplicate(text):
                    reason = "exact_duplicate"
                if reason is None and near is not None and near.is_duplicate(text):
                    reason = "near_duplicate"
                if reason is not None:
                    reasons[reason] += 1
                    continue
                src_index.append(rec.index)
                domains.append(rec.domain)
                n_tokens.append(count_tokens(text))
                sp.write(json.dumps(text, ensure_ascii=False) + "\n")
        n_pool = len(src_index)
        if recipe.target is not None:  # the target's texts go after the pool's, embedded with them
            n_target = _spool_target(recipe, spool)
        timings["read_filter_dedup"] = time.perf_counter() - t0
        if not src_index:
            _no_candidates(stats, reasons)
        idx = np.asarray(src_index, dtype=np.int64)
        tokens = np.asarray(n_tokens, dtype=np.int64)
        has_domains = recipe.domain_field is not None or all(d is not None for d in domains)
        dom = np.asarray(domains, dtype=object).astype(str) if has_domains else None

        if recipe.method == "lima" and dom is None:  # fail before the slow part
            raise InvalidInputError(
                "method 'lima' samples over domains: give a domain field (--domain-field NAME)."
            )

        # ---- embed
        t = time.perf_counter()
        emb, embedder_name, n_cached = _embed(recipe, spool, idx, stats.n_rows, tick)
        target_emb = emb[n_pool:] if recipe.target is not None else None
        emb = emb[:n_pool]
        timings["embed"] = time.perf_counter() - t
    finally:
        spool_dir.cleanup()

    # ---- cluster (for the methods that need it and for the report), then semantic dedup
    from tokenplan.select.cluster import kmeans

    t = time.perf_counter()
    k = recipe.n_clusters or _default_clusters(len(emb))
    if k > len(emb):
        raise InvalidInputError(f"n_clusters={k} should be <= the {len(emb)} candidates left.")
    km = kmeans(emb, k, seed=recipe.seed)
    timings["kmeans"] = time.perf_counter() - t
    if recipe.dedup_semantic is not None:
        from tokenplan.select.dedup import semantic_duplicates

        labels = km.labels if len(emb) > 20000 else None
        dup = semantic_duplicates(emb, threshold=recipe.dedup_semantic, labels=labels)
        if dup.any():
            reasons["semantic_duplicate"] += int(dup.sum())
            keep = ~dup
            emb, idx, tokens = emb[keep], idx[keep], tokens[keep]
            dom = dom[keep] if dom is not None else None
            km = replace(km, labels=km.labels[keep])

    # ---- select
    from tokenplan.select.methods import Pool

    n_cand = len(emb)
    if recipe.n_select is not None:
        n_select = recipe.n_select
    elif recipe.fraction is not None:
        n_select = max(1, math.floor(recipe.fraction * n_cand + 0.5))  # round half up
    else:
        n_select = 1  # a token budget: the count follows from it
    if n_select > n_cand:
        raise InvalidInputError(
            f"n_select={n_select} should be <= the {n_cand} candidates left after filters and dedup "
            f"({stats.n_rows} rows read; dropped {dict(reasons) or 'none'}).",
            param="n_select" if recipe.n_select is not None else "fraction",
        )
    t = time.perf_counter()
    tick("select", 0, None)
    sel = _select(
        recipe, Pool(embeddings=emb, domains=dom, clusters=km), n_select, tokens, target_emb
    )
    n_select = len(sel)
    timings["select"] = time.perf_counter() - t

    # ---- report, with a random subset of the same size as the baseline
    from tokenplan.select.metrics import coverage

    t = time.perf_counter()
    cov_kw = dict(cluster_labels=km.labels, n_clusters=k, domains=dom, n_tokens=tokens)
    report = coverage(emb, sel.indices, **cov_kw)
    rand = np.random.default_rng(recipe.seed + 1).choice(n_cand, n_select, replace=False)
    baseline = coverage(emb, rand, **cov_kw)
    timings["report"] = time.perf_counter() - t

    # ---- write
    written = None
    if out_path is not None:
        from tokenplan.select.io import write_subset

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
    timings["total"] = time.perf_counter() - t0
    return SelectionReport(
        method=sel.method,
        n_rows=stats.n_rows,
        n_malformed=stats.n_malformed,
        malformed_examples=list(stats.errors),
        drop_reasons=dict(sorted(reasons.items())),
        n_candidates=n_cand,
        n_selected=n_select,
        selected=idx[sel.indices],
        embedder=embedder_name,
        n_embedded_from_cache=n_cached,
        n_clusters=k,
        coverage=report,
        random_baseline=baseline,
        output=written,
        plot=plot_path,
        timings={k_: round(v, 3) for k_, v in timings.items()},
        notes=_notes(recipe, stats, n_target if recipe.target is not None else 0),
        guidance=tuple(
            quantity_guidance(n_select, report.n_tokens, target=recipe.target is not None)
        ),
    )


_FILTER_FLAGS = {
    "too_short": "--min-chars",
    "too_long": "--max-chars",
    "first_person": "--drop-first-person",
    "refers_to_other_answers": "--drop-references",
    "low_score": "--min-score",
}


def _no_candidates(stats, reasons: Counter) -> None:
    """Every row was malformed or filtered out: one error naming the flags that dropped them."""
    flags = [_FILTER_FLAGS[r] for r, _ in reasons.most_common() if r in _FILTER_FLAGS]
    fix = f"loosen {', '.join(flags)}" if flags else "check --format/--fields"
    if reasons.get("empty"):
        fix += "; rows without an answer: for a prompt-only pool pass --fields PROMPT,"
    raise InvalidInputError(
        f"no candidates left: {stats.n_rows} rows read, {stats.n_malformed} malformed, "
        f"dropped {dict(reasons) or 'none'}; {fix}.",
        param="filters",
    )


def _spool_target(recipe: Recipe, spool: Path) -> int:
    """Append the target's texts (prompt + answer, cleaned like the pool) to the spool; their count."""
    from tokenplan.select.clean import clean_text
    from tokenplan.select.io import ReadStats, iter_records, join_text

    if recipe.embeddings:
        raise InvalidInputError(
            "--target needs an embedder to embed its examples; drop --embeddings.", param="target"
        )
    path = Path(recipe.target)
    if not path.exists():
        raise InvalidInputError(f"target file {str(path)!r} does not exist.", param="target")
    stats, n = ReadStats(), 0
    try:
        with open(spool, "a", encoding="utf-8") as sp:
            for rec in iter_records(path, fields=recipe.fields, stats=stats):
                prompt, response = rec.prompt, rec.response
                if recipe.clean:
                    prompt, response = clean_text(prompt), clean_text(response)
                text = join_text(prompt, response)
                if text.strip():
                    sp.write(json.dumps(text, ensure_ascii=False) + "\n")
                    n += 1
    except InvalidInputError as exc:
        raise InvalidInputError(f"--target: {exc}", param="target") from None
    if n == 0:
        raise InvalidInputError(
            f"target file {str(path)!r} has no usable rows ({stats.n_rows} read, {stats.n_malformed} "
            "malformed); give a few examples of your task in a format select reads.",
            param="target",
        )
    return n


def _select(recipe: Recipe, pool, n_select: int, tokens: np.ndarray, target: np.ndarray | None):
    from tokenplan.select.methods import select, select_by_tokens, select_for_target

    if target is not None:

        def pick(n: int):
            return select_for_target(pool, target, n, method=recipe.target_method)
    else:

        def pick(n: int):
            return select(
                pool,
                n,
                method=recipe.method,
                seed=recipe.seed,
                tau=recipe.tau,
                n_workers=recipe.n_workers,
                ray_address=recipe.ray_address,
            )

    if recipe.budget_tokens is not None:
        return select_by_tokens(pool, tokens, recipe.budget_tokens, pick=pick)
    return pick(n_select)


def _notes(recipe: Recipe, stats, n_target: int) -> tuple[str, ...]:
    notes = []
    if stats.prompt_only:
        skipped = " (length, first person, references)" if recipe.filters.active else ""
        notes.append(
            f"prompt-only pool: no answers, so answer-based filters{skipped} were skipped; "
            "selected on prompts alone."
        )
    if recipe.target is not None:
        notes.append(
            f"selected for the task in {recipe.target} ({n_target} examples, {recipe.target_method})."
        )
    return tuple(notes)


def _spool_batches(spool: Path, batch_size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    with open(spool, encoding="utf-8") as fh:
        for line in fh:
            batch.append(json.loads(line))
            if len(batch) == batch_size:
                yield batch
                batch = []
    if batch:
        yield batch


def _embed(recipe: Recipe, spool: Path, idx: np.ndarray, n_rows: int, tick) -> tuple:
    from tokenplan.select.embed import EmbeddingCache, embed_texts, get_embedder, load_precomputed

    if recipe.embeddings:
        full = load_precomputed(recipe.embeddings, n_rows=n_rows)
        return full[idx], f"precomputed:{recipe.embeddings}", 0
    name = recipe.embedder
    if recipe.model and name == "minilm":
        name = "hf"  # --model PATH means a local HF model with mean pooling
    if recipe.ray_address is not None and name != "tfidf":
        from tokenplan.select.ray_backend import embed_ray

        texts = [t for b in _spool_batches(spool, recipe.batch_size) for t in b]
        tick("embed", 0, len(texts))
        emb = embed_ray(
            texts,
            embedder=name,
            model=recipe.model,
            address=recipe.ray_address,
            batch_size=recipe.batch_size,
        )
        tick("embed", len(texts), len(texts))
        return emb, f"{name} (ray)", 0
    embedder = get_embedder(name, model=recipe.model)
    cache = None
    if (recipe.cache_dir or "").lower() != "none":
        cache = EmbeddingCache(recipe.cache_dir or default_cache_dir())
    total = len(idx)
    tick("embed", 0, total)
    emb, n_cached = embed_texts(
        _spool_batches(spool, recipe.batch_size),
        embedder,
        cache=cache,
        on_batch=lambda n, _hit: tick("embed", n, total),
    )
    return emb, embedder.name, n_cached
