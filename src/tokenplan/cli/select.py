"""``tokenplan select``: a thin CLI over :func:`tokenplan.select.pipeline.run`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from tokenplan.cli._common import console, err_console, print_json, report_written, warn
from tokenplan.cli._options import (
    choice_option,
    count_option,
    json_option,
    not_empty,
    report_option,
)
from tokenplan.cli._progress import stage_progress
from tokenplan.select.choices import BACKENDS, DEFAULT_EMBEDDER, FILTER_PRESETS

_UNITS = {"read": "rows", "embed": "texts", "kmeans": "iterations", "choose": "picks"}


def _fields(ctx, param, value):
    if value is None:
        return None
    parts = [p.strip() for p in value.split(",")]
    if len(parts) != 2 or not parts[0]:
        raise click.BadParameter(
            f"{value!r} must be two column names: PROMPT,RESPONSE (or PROMPT, for prompts only)."
        )
    return tuple(parts)


@click.command()
@click.argument("recipe", required=False, metavar="[RECIPE|POOL]", type=click.Path())
@click.option(
    "-i",
    "--input",
    "input_",
    help="The pool: .json, .jsonl, .parquet, .csv, .tsv, chatterbot .yml/dir.",
)
@click.option(
    "--example",
    help="Use a pool shipped with tokenplan as the input: chatterbot (English, 21 categories) or "
    "belle-eval (Chinese, 10 classes).",
)
@click.option(
    "-o",
    "--output",
    callback=not_empty("a file name (.jsonl, .json, .csv, .tsv or .parquet)"),
    help="Write the subset here (input's format; provenance fields added).",
)
@count_option("--n", "1000", "Select exactly this many samples.", dest="n_select")
@click.option("--fraction", type=float, help="Or this fraction of the candidates, e.g. 0.005.")
@count_option("--budget-tokens", "100000", "Or as many rows as fit this many tokens (approximate).")
@click.option(
    "--method",
    help="facility-cells (default), facility-kcenter, facility-location, kmeans-medoids, random, lima, "
    "kcenter, task-center (the 0.5% method), kcenter-per-cluster, random-greedy-cells, stratified-cells, "
    "stratified-inner, stratified-uniform (seldom below random on the benchmark: lowest 0.96x).",
)
@click.option(
    "--target", help="A few examples of your task (any input format): select the pool rows for it."
)
@click.option(
    "--target-method",
    help="With --target: centroid (default), task-center (the 0.5% paper) or nearest.",
)
@count_option("--seed", "0", "Seed for every random choice (default 0).", allow_zero=True)
@click.option("--format", "row_format", help="Row format: auto, alpaca, sharegpt, prompt-response.")
@click.option(
    "--fields",
    callback=_fields,
    help="Prompt and response columns: PROMPT,RESPONSE; PROMPT, for a prompt-only pool.",
)
@click.option("--domain-field", help="Column with the domain/task label.")
@click.option("--score-field", help="Column with a quality score (for --min-score).")
@click.option("--strict", is_flag=True, default=None, help="Stop at the first malformed row.")
@click.option("--no-clean", is_flag=True, help="Keep links, images and HTML.")
@choice_option("--filters", FILTER_PRESETS, dest="filter_preset", help="Filter preset.")
@count_option("--min-chars", "1200", "Drop answers shorter than this (LIMA 1200).", allow_zero=True)
@count_option("--max-chars", "4096", "Drop answers longer than this (LIMA 4096).")
@click.option("--drop-first-person", is_flag=True, default=None, help="Drop first-person answers.")
@click.option(
    "--drop-references", is_flag=True, default=None, help="Drop answers citing other answers."
)
@click.option("--min-score", type=float, help="Drop rows whose score is below this (LIMA 10).")
@click.option("--no-exact-dedup", is_flag=True, help="Keep exact duplicates.")
@click.option("--near-dedup", "dedup_near", type=float, help="MinHash Jaccard threshold, e.g. 0.8.")
@click.option("--semantic-dedup", "dedup_semantic", type=float, help="Cosine threshold, e.g. 0.95.")
@click.option(
    "--embedder",
    help=f"{DEFAULT_EMBEDDER} (default: MiniLM and character n-grams, the mean of their cosines), minilm "
    "(packaged, English), hf (with --model), tfidf (no torch), tfidf-char (character n-grams: any script).",
)
@choice_option(
    "--embed-backend",
    BACKENDS,
    help="How MiniLM runs (in minilm and the default): auto (default: onnxruntime int8 with the fast "
    "extra, else torch), onnx, torch.",
)
@click.option(
    "--model", help="A local Hugging Face model directory (mean-pooled last_hidden_state)."
)
@click.option("--embeddings", help="Precomputed embeddings .npy, one row per input row.")
@click.option(
    "--cache-dir", help="Embedding cache directory (default ~/.cache/tokenplan/embeddings)."
)
@click.option("--no-cache", is_flag=True, help="Do not read or write the embedding cache.")
@count_option("--batch-size", "64", "Texts per embedding batch (default: 1 onnxruntime, 64 torch).")
@count_option("--n-clusters", "100", "K-Means clusters (default min(100, sqrt(n/2))).")
@click.option("--tau", type=float, help="LIMA domain temperature (default 3).")
@count_option("--workers", "4", "Threads for kcenter-per-cluster.", dest="n_workers")
@click.option("--ray-address", help="Embed and select on Ray: local, auto, or ray://host:port.")
@click.option(
    "--plot",
    callback=not_empty("a file name ending in .png"),
    help="Write a 2-D PCA map of pool vs selection to this PNG.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    default=None,
    help="Replace an existing --output, --plot or --report.",
)
@report_option()
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Print nothing (no progress, warnings or report); errors still.",
)
@json_option
def select(recipe: str | None, as_json: bool, quiet: bool, **opts: Any) -> None:
    """Select a small, diverse SFT subset from a pool and report how well it covers the pool.

    Runs a YAML RECIPE, or flags, or both (flags win); a POOL file or folder in its place is the same as
    --input POOL. Pipeline: read -> clean -> LIMA filters -> dedup ->
    embed -> K-Means -> select -> coverage report (vs a random subset of the same size, or of the same
    token budget) -> write.

    \b
    Examples:
      tokenplan select pool.jsonl -o subset.jsonl --n 1000
      tokenplan select -i alpaca.json --fraction 0.005 --method task-center --filters lima
      tokenplan select --example chatterbot --n 40 --embedder tfidf
      tokenplan select -i chatterbot/ --n 100 --method lima --embedder tfidf
      tokenplan select -i pool.jsonl --target my_task.jsonl --n 200
      tokenplan select -i prompts.jsonl --fields question, --budget-tokens 50000
      tokenplan select -i pool.jsonl --n 500 --embedder tfidf --report select.html
      tokenplan select recipe.yaml --json
    """
    from tokenplan.errors import InvalidInputError
    from tokenplan.select.pipeline import Recipe

    overrides = _overrides(opts)
    pool_arg = recipe is not None and _is_pool(recipe)
    if pool_arg:
        if overrides.get("input"):
            raise InvalidInputError(
                f"{recipe!r} is a pool and --input or --example gives another; give the pool once.",
                param="input",
            )
        overrides["input"], recipe = recipe, None
    if recipe is not None:
        config = Recipe.from_yaml(recipe, **overrides)
    else:
        if not overrides.get("input"):
            raise InvalidInputError(
                "give a recipe file, --input PATH or --example NAME (see 'tokenplan select --help')."
            )
        config = Recipe.from_dict(overrides)  # an error carries its field, so the flag is named
    if recipe is not None:  # the recipe file is an input too: never write over it
        from tokenplan._io import check_output

        for name in ("output", "plot", "report"):
            if getattr(config, name):
                check_output(getattr(config, name), param=name, overwrite=True, inputs=[recipe])
    report = _run(config, recipe, overrides, quiet=quiet, pool_arg=pool_arg)
    if not quiet:
        for message in report.warnings:
            warn(message)
    if config.report and not quiet:
        report_written(config.report)
    if as_json:
        print_json({"recipe": config.to_dict(), "report": report.to_dict()})
    elif not quiet:
        _print_report(report, config.input)
    if not config.output and not quiet and not as_json:
        _say_nothing_written(report.n_selected)


def _say_nothing_written(n_selected: int) -> None:
    """A note on stderr (the report on stdout is unchanged) that no rows were written without -o."""
    err_console().print(
        f"note: no --output, so the {n_selected:,} selected "
        f"{'row was' if n_selected == 1 else 'rows were'} not written; add "
        "-o FILE (.jsonl, .json, .csv, .tsv or .parquet) to save them.",
        soft_wrap=True,
    )


def _is_pool(path: str) -> bool:
    """Whether the positional argument is a pool rather than a recipe: a folder, a file that is not YAML,
    or a YAML file holding a chatterbot corpus (a mapping with a ``conversations`` list)."""
    p = Path(path)
    if p.is_dir() or p.suffix.lower() not in (".yml", ".yaml"):
        return True
    import yaml

    from tokenplan.select.io import is_chatterbot

    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False  # the recipe reader names the file and the problem
    return is_chatterbot(doc)


def _run(config, recipe: str | None, overrides: dict[str, Any], *, quiet: bool, pool_arg: bool):
    """run(config) with progress; an error about a value the recipe file gave (not a flag) names the
    file instead of the flag the value could have come from ('--n: n_select=500 should be <= ...'), and
    one about a POOL typed in the recipe's place names the file alone (as `fit RUNS` does), not --input."""
    from tokenplan.errors import InvalidInputError
    from tokenplan.select.pipeline import run

    try:
        with stage_progress(quiet=quiet, units=_UNITS, prefix="select: ") as progress:
            return run(config, progress=progress)
    except InvalidInputError as exc:
        if pool_arg and exc.param == "input":  # the message names the file; --input was not typed
            raise InvalidInputError(str(exc)) from None
        if recipe is None or exc.param is None or _given_by_flag(exc.param, overrides):
            raise
        from tokenplan.cli._flags import unquoted

        raise InvalidInputError(f"recipe {str(recipe)!r}: {unquoted(str(exc))}") from None


def _given_by_flag(param: str, overrides: dict[str, Any]) -> bool:
    filters = overrides.get("filters") or {}
    if param == "filters":  # the filters that dropped every row: any filter flag counts
        return bool(filters)
    return param in overrides or param in filters


# the option's name is input_ (input is a builtin)
select.tokenplan_flags = {"input": "--input", "recipe": "RECIPE"}

_SIZES = ("n_select", "fraction", "budget_tokens")
# filter flag -> FilterConfig field
_FILTER_FLAGS = {
    "min_chars": "min_chars",
    "max_chars": "max_chars",
    "min_score": "min_score",
    "drop_first_person": "first_person",
    "drop_references": "refers_to_others",
}


def _overrides(opts: dict[str, Any]) -> dict[str, Any]:
    """The recipe keys the flags set. A flag named like a :class:`Recipe` field sets that field; the
    others (--input/--example, the --no-* switches, the filter flags) are mapped here."""
    from dataclasses import fields

    from tokenplan.select.pipeline import Recipe

    out = {f.name: opts[f.name] for f in fields(Recipe) if opts.get(f.name) is not None}
    if opts.get("input_") is not None:
        out["input"] = opts["input_"]
    if opts.get("example") is not None:
        out.update(_example(opts, out))
    for flag, key, value in (
        ("no_clean", "clean", False),
        ("no_exact_dedup", "dedup_exact", False),
        ("no_cache", "cache_dir", "none"),
    ):
        if opts.get(flag):
            out[key] = value
    for size in _SIZES:  # one size flag clears the recipe's other sizes
        if opts.get(size) is not None:
            out.update({k: None for k in _SIZES if k != size})
    filters = {key: opts[flag] for flag, key in _FILTER_FLAGS.items() if opts.get(flag) is not None}
    if opts.get("filter_preset"):
        filters = {"preset": opts["filter_preset"], **filters}
    if filters:
        out["filters"] = filters
    return out


def _example(opts: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    """--example NAME: the shipped pool's path, and its fields and domain column unless flags gave them."""
    from tokenplan.datasets import sft
    from tokenplan.errors import InvalidInputError

    if opts.get("input_") is not None:
        raise InvalidInputError("give --input or --example, not both.", param="example")
    found = {"input": str(sft.path(opts["example"]))}  # an unknown name lists the shipped ones
    pool = sft.POOLS[_example_name(opts["example"])]
    if pool.fields and "fields" not in out:
        found["fields"] = pool.fields
    if pool.domain_field and "domain_field" not in out:
        found["domain_field"] = pool.domain_field
    return found


def _example_name(name: str) -> str:
    from tokenplan.datasets import sft

    return {k.lower(): k for k in sft.POOLS}[name.lower()]


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def _from_cache(report) -> str:
    """How many texts the embedding cache served: per view for an ensemble, each at most the texts."""
    views = report.n_embedded_from_cache_by_view
    if len(views) > 1:
        return "texts from cache: " + ", ".join(f"{v} {n:,}" for v, n in views.items())
    return f"{report.n_embedded_from_cache:,} texts from cache"


def _domain_line(cov) -> str:
    """The per-domain counts, after how many domains the subset covers and what a uniform random subset of
    its size covers on average (exact: :func:`tokenplan.select.metrics.random_expectation`)."""
    counts = ", ".join(f"{k} {v}" for k, v in cov.per_domain.items())
    return (
        f"per domain ({cov.domains_covered:,} of {cov.n_domains:,} domains; a uniform random subset of "
        f"{cov.n_selected:,} covers {cov.domains_random_mean:.1f} on average): {counts}"
    )


def _print_report(report, input_path: str) -> None:
    from rich.table import Table

    out = console()
    out.print(
        f"[bold]{report.method}[/bold]: selected {report.n_selected:,} of {report.n_candidates:,} "
        f"candidates ({report.n_rows:,} rows read, {report.n_malformed:,} malformed; "
        f"{report.n_clusters} K-Means clusters; embedder {report.embedder_label}, "
        f"{_from_cache(report)})",
        soft_wrap=True,
    )

    for msg in report.malformed_examples[:5]:  # the input's folder is known: show its name only
        msg = msg.replace(str(Path(input_path)), Path(input_path).name, 1)
        out.print(f"  malformed: {msg}", soft_wrap=True)
    if report.drop_reasons:
        from tokenplan.select.pipeline import drop_summary

        out.print(f"dropped: {drop_summary(report.drop_reasons)}", soft_wrap=True)
    table = Table(title="coverage (distances on unit vectors, 0..2)", title_justify="left")
    table.add_column("metric")
    table.add_column(report.method, justify="right")
    table.add_column(report.baseline_label, justify="right")
    sel, rnd = report.coverage.to_dict(), report.random_baseline.to_dict()
    for key, label in (
        ("coverage_radius", "coverage radius (max)"),
        ("mean_distance", "mean nearest-selected"),
        ("p95_distance", "p95 nearest-selected"),
        ("clusters_hit_share", "clusters hit"),
        ("kl_clusters", "KL clusters (nats)"),
        ("kl_domains", "KL domains (nats)"),
        ("domains_covered", "domains covered"),
        ("n_tokens", "tokens (approx.)"),
    ):
        if key == "domains_covered" and sel.get(key) is not None:
            table.add_row(label, *(f"{r[key]:,} of {r['n_domains']:,}" for r in (sel, rnd)))
        elif sel.get(key) is not None:
            table.add_row(label, _fmt(sel[key]), _fmt(rnd[key]))
    out.print(table)
    if report.coverage.per_domain:
        out.print(_domain_line(report.coverage), soft_wrap=True)
    for note in report.notes:
        out.print(f"note: {note}", soft_wrap=True)
    for g in report.guidance:
        out.print(f"guidance: {g.text} [{g.source}]", soft_wrap=True)
    if report.output:
        out.print(f"wrote {report.n_selected:,} rows to {report.output}")
    if report.plot:
        out.print(f"wrote map to {report.plot}")
