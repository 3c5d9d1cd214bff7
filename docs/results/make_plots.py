"""Draw the plots of docs/results/ from the shipped results.csv / curves.csv files (matplotlib).

    python docs/results/make_plots.py

Writes cpu-demo/isoflop.png, repeat/repeat.png and lr-minisweep/lr.png (each only if its CSVs exist), and
prints the numbers quoted in docs/sweep.md (per-budget minima, parabola vertices, loss by epochs).
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

HERE = Path(__file__).resolve().parent


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return [r for r in csv.DictReader(f)]


def isoflop(directory: Path) -> None:
    data = [r for r in rows(directory / "results.csv") if r["status"] == "ok"]
    by_budget: dict[float, list[tuple[float, float, str]]] = defaultdict(list)
    for r in data:
        by_budget[float(r["flops_budget"])].append(
            (int(r["n_params"]), float(r["loss"]), r["model"])
        )
    fig, ax = plt.subplots(figsize=(7, 4.5))
    colors = plt.cm.viridis(np.linspace(0.1, 0.85, len(by_budget)))
    print(f"== {directory.name}: IsoFLOP profiles (loss vs total params)")
    for color, budget in zip(colors, sorted(by_budget)):
        pts = sorted(by_budget[budget])
        n = np.array([p[0] for p in pts], dtype=float)
        loss = np.array([p[1] for p in pts])
        ax.plot(n, loss, "o", color=color, label=f"C = {budget:.0e} FLOPs")
        best = int(np.argmin(loss))
        x = np.log(n)
        coef = np.polyfit(x, loss, 2)
        grid = np.linspace(x.min(), x.max(), 100)
        ax.plot(np.exp(grid), np.polyval(coef, grid), "-", color=color, alpha=0.6)
        bracketed = 0 < best < len(n) - 1
        vertex = math.exp(-coef[1] / (2 * coef[0])) if coef[0] > 0 else float("nan")
        print(
            f"C={budget:.0e}: best {pts[best][2]} N={int(n[best]):,} loss {loss[best]:.3f} "
            f"({'bracketed' if bracketed else 'NOT bracketed: at the edge of the grid'}); "
            f"parabola vertex N={vertex:,.0f}; loss range {loss.max() - loss.min():.3f} nats"
        )
    ax.set_xscale("log")
    ax.set_xlabel("parameters (total, embeddings included)")
    ax.set_ylabel("held-out loss (nats/byte)")
    ax.set_title(f"IsoFLOP profiles — {directory.name} (byte-level Shakespeare, CPU)")
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(directory / "isoflop.png", dpi=110)
    plt.close(fig)


def repeat(directory: Path) -> None:
    data = rows(directory / "results.csv")
    curves = rows(directory / "curves.csv")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    print(f"== {directory.name}: final held-out loss by epochs and dropout schedule")
    styles = {"none": "o-", "constant": "s--", "late": "^:"}
    table: dict[str, dict[float, float]] = defaultdict(dict)
    for r in data:
        table[r["dropout_schedule"]][round(float(r["epochs"]))] = float(r["loss"])
    for schedule, style in styles.items():
        if schedule not in table:
            continue
        ep = sorted(table[schedule])
        ax1.plot(ep, [table[schedule][e] for e in ep], style, label=f"dropout {schedule}")
        print(f"{schedule:9s} " + "  ".join(f"{e:>2d} ep: {table[schedule][e]:.3f}" for e in ep))
    ax1.set_xscale("log", base=2)
    ax1.set_xlabel("epochs over the unique tokens (4M tokens seen in every run)")
    ax1.set_ylabel("final held-out loss (nats/byte)")
    ax1.set_title("Repetition: same model, same tokens, fewer unique tokens")
    ax1.legend()
    ax1.grid(alpha=0.3)
    run_of = {r["run_id"]: r for r in data}
    for run_id, r in run_of.items():
        if r["dropout_schedule"] != "none":
            continue
        pts = [c for c in curves if c["run_id"] == run_id]
        ax2.plot(
            [int(c["n_tokens"]) for c in pts],
            [float(c["loss"]) for c in pts],
            "-o",
            ms=3,
            label=f"{round(float(r['epochs']))} epochs",
        )
    ax2.set_xlabel("tokens seen")
    ax2.set_ylabel("held-out loss")
    ax2.set_title("Held-out curves, no dropout")
    ax2.legend()
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(directory / "repeat.png", dpi=110)
    plt.close(fig)


def lr_sweep(directory: Path) -> None:
    data = [r for r in rows(directory / "results.csv") if r["status"] == "ok"]
    by_lr: dict[float, list[tuple[int, float, str]]] = defaultdict(list)
    for r in data:
        by_lr[float(r["lr"])].append((int(r["n_params"]), float(r["loss"]), r["model"]))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    print(f"== {directory.name}: loss by LR at C = 1e12")
    spreads = defaultdict(list)
    for lr in sorted(by_lr):
        pts = sorted(by_lr[lr])
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=f"lr {lr:g}")
        for _n, loss, model in pts:
            spreads[model].append(loss)
    for model, losses in sorted(spreads.items()):
        print(f"{model}: LR moves the loss by {max(losses) - min(losses):.3f} nats")
    ax.set_xscale("log")
    ax.set_xlabel("parameters (total)")
    ax.set_ylabel("held-out loss (nats/byte)")
    ax.set_title("Per-size LR mini-sweep at C = 1e12 FLOPs")
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(directory / "lr.png", dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    for name in ("cpu-demo-chinchilla-centred", "cpu-demo"):
        if (HERE / name / "results.csv").exists():
            isoflop(HERE / name)
    if (HERE / "repeat" / "results.csv").exists():
        repeat(HERE / "repeat")
    if (HERE / "lr-minisweep" / "results.csv").exists():
        lr_sweep(HERE / "lr-minisweep")
