"""The results files a sweep keeps current: results.csv (the schema ``tokenplan fit`` reads), curves.csv
and, with an LR mini-sweep, results_best_lr.csv.

A run is finished exactly when its ``runs/<run_id>/result.json`` exists (written atomically, so whole or
absent). The CSVs are derived data: they are rebuilt from all result.json files, atomically, after every
finished run and at every start, so a kill at any moment never duplicates or tears a row.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tokenplan._io import write_text_atomic

__all__ = [
    "CURVE_COLUMNS",
    "DIVERGED",
    "RESULT_COLUMNS",
    "damaged_results",
    "divergence",
    "finished_records",
    "read_results",
    "rebuild_results",
    "relabel_diverged",
    "result_row",
]

RESULT_COLUMNS = (
    "run_id",
    "status",
    "n_params",
    "n_params_non_embedding",
    "n_params_embedding",
    "n_params_lm_head",
    "n_tokens",
    "flops",
    "flops_budget",
    "loss",
    "unique_tokens",
    "epochs",
    "dropout",
    "dropout_start",
    "lr",
    "batch_tokens",
    "steps",
    "seed",
    "kind",
    "wall_seconds",
    # extras after the contract's columns
    "model",
    "dropout_schedule",
    "error",
)
DIVERGED = "diverged:"
"""How the error of a run that diverged starts: a result of its settings (an LR too high), not a failure
of the machine or the code; its status is ``failed`` and its loss NaN, so no fit takes it."""
CURVE_COLUMNS = ("run_id", "step", "n_tokens", "flops", "loss", "n_params", "train_loss", "lr")


def _num(x: Any) -> Any:
    if x is None:
        return ""
    if isinstance(x, float):
        if not math.isfinite(x):
            return "nan"
        return repr(x)
    return x


def result_row(record: dict[str, Any]) -> dict[str, Any]:
    """One results.csv row from a run's result.json record."""
    cfg, res = record["config"], record["result"]
    p = res["params"]
    return {
        "run_id": record["run_id"],
        "status": res["status"],
        "n_params": p["total"],
        "n_params_non_embedding": p["non_embedding"],
        "n_params_embedding": p["embedding"],
        "n_params_lm_head": p["lm_head"],
        "n_tokens": res["n_tokens"],
        "flops": _num(float(res["flops"])),
        "flops_budget": _num(float(record["flops_budget"])),
        "loss": _num(res["loss"] if res["loss"] is not None else math.nan),
        "unique_tokens": _num(res["unique_tokens"]),
        "epochs": _num(float(res["epochs"])),
        "dropout": _num(float(cfg["dropout"])),
        "dropout_start": _num(float(cfg["dropout_start"])),
        "lr": _num(float(cfg["lr"])),
        "batch_tokens": cfg["batch_size"] * cfg["seq_len"],
        "steps": res["steps"],
        "seed": cfg["seed"],
        "kind": record["kind"],
        "wall_seconds": f"{float(res['wall_seconds']):.3f}",
        "model": record.get("model", ""),
        "dropout_schedule": record.get("dropout_schedule", "none"),
        "error": res.get("error", ""),
    }


def _read_record(path: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or "result" not in record or "config" not in record:
        return None
    return record


def finished_records(out_dir: str | Path) -> dict[str, dict[str, Any]]:
    """run_id -> result.json record for every finished run in ``out_dir``."""
    runs = Path(out_dir) / "runs"
    records = {}
    if runs.is_dir():
        for path in sorted(runs.glob("*/result.json")):
            record = _read_record(path)
            if record is not None:
                records[record["run_id"]] = record
    return records


def damaged_results(out_dir: str | Path) -> list[str]:
    """The ``runs/<run_id>/result.json`` files (relative to ``out_dir``) that are not a record of their own
    run: cut off or edited by hand (the sweep writes them atomically, whole or not at all)."""
    runs = Path(out_dir) / "runs"
    paths = sorted(runs.glob("*/result.json")) if runs.is_dir() else []
    return [
        f"runs/{path.parent.name}/result.json"
        for path in paths
        if (record := _read_record(path)) is None or record.get("run_id") != path.parent.name
    ]


def divergence(loss: float, vocab_size: int) -> str:
    """The error of a run whose final held-out loss is not below ln(vocab_size), the loss of a uniform
    guess (a model no better than its start: gradient clipping kept a blow-up finite, 18.9 nats at LR 10
    on bytes), else ''. The one rule: :func:`tokenplan.sweep.train.train` applies it when a run ends and
    :func:`relabel_diverged` to the records of folders made before it (commit 011559f)."""
    uniform = math.log(vocab_size)
    if not loss >= uniform:  # below, or NaN (the training loop reports those itself)
        return ""
    return (
        f"{DIVERGED} final held-out loss {loss:.4g} nats is not below ln({vocab_size}) = "
        f"{uniform:.4g}, the loss of a uniform guess; lower the LR"
    )


RELABELLED = " (re-labelled when the folder was read: recorded 'ok' before 2026-12-05)"


def relabel_diverged(out_dir: str | Path) -> list[str]:
    """Apply :func:`divergence` to every finished run of ``out_dir``: a run recorded ``ok`` (or
    ``too_few_steps``) with a final loss not below ln(vocab_size), as folders made before the rule were,
    is rewritten (atomically) as the rule records it: ``failed``, loss NaN, the ``diverged:`` error (which
    keeps the loss). Returns the run ids re-labelled (none on a second call)."""
    done = []
    for run_id, record in finished_records(out_dir).items():
        res = record["result"]
        if res.get("status") not in ("ok", "too_few_steps") or res.get("loss") is None:
            continue
        why = divergence(float(res["loss"]), int(record["config"]["vocab_size"]))
        if why:
            res = {**res, "status": "failed", "loss": None, "error": why + RELABELLED}
            text = json.dumps({**record, "result": res}, indent=1, allow_nan=False)
            write_text_atomic(Path(out_dir) / "runs" / run_id / "result.json", text)
            done.append(run_id)
    return done


def _csv_text(columns: Sequence[str], rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def rebuild_results(out_dir: str | Path) -> dict[str, int]:
    """Rewrite results.csv, curves.csv (and results_best_lr.csv) from the runs' result.json files.

    Each file is written atomically. Returns the number of rows by status (runs, ok, failed,
    too_few_steps).
    """
    out = Path(out_dir)
    ordered = sorted(
        finished_records(out).values(),
        key=lambda r: (
            r["kind"],
            float(r["flops_budget"]),
            r["result"]["params"]["total"],
            r["run_id"],
        ),
    )
    rows = [result_row(r) for r in ordered]
    write_text_atomic(out / "results.csv", _csv_text(RESULT_COLUMNS, rows))
    write_text_atomic(out / "curves.csv", _csv_text(CURVE_COLUMNS, _curve_rows(ordered)))
    if len({float(r["config"]["lr"]) for r in ordered}) > 1:
        best = _best_lr_rows(ordered, rows)
        write_text_atomic(out / "results_best_lr.csv", _csv_text(RESULT_COLUMNS, best))
    return {
        "runs": len(rows),
        "ok": sum(r["status"] == "ok" for r in rows),
        "failed": sum(r["status"] == "failed" for r in rows),
        "too_few_steps": sum(r["status"] == "too_few_steps" for r in rows),
    }


def _curve_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for r in records:
        n_params = r["result"]["params"]["total"]
        for point in r["result"].get("curve", []):
            rows.append(
                {
                    "run_id": r["run_id"],
                    "step": point["step"],
                    "n_tokens": point["n_tokens"],
                    "flops": _num(float(point["flops"])),
                    "loss": _num(float(point["loss"])),
                    "n_params": n_params,
                    "train_loss": _num(float(point["train_loss"])),
                    "lr": _num(float(point["lr"])),
                }
            )
    return rows


def _best_lr_rows(records: list[dict[str, Any]], rows: list[dict[str, Any]]) -> list[dict]:
    """Per (kind, budget, model, dropout schedule, unique tokens, seed): the row of the lowest loss."""
    best: dict[tuple, dict[str, Any]] = {}
    for r, row in zip(records, rows):
        if row["status"] != "ok":
            continue
        cfg = r["config"]
        key = (
            r["kind"],
            float(r["flops_budget"]),
            r.get("model"),
            r.get("dropout_schedule"),
            cfg.get("unique_tokens"),
            cfg["seed"],
        )
        if key not in best or float(row["loss"]) < float(best[key]["loss"]):
            best[key] = row
    return list(best.values())


def read_results(path: str | Path) -> list[dict[str, str]]:
    """Rows of a results.csv as dicts of strings (tests and quick looks; ``tokenplan fit`` has its own
    reader). A missing file reads as no rows."""
    path = Path(path)
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
