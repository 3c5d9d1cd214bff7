"""Cold start of `tokenplan plan` and `tokenplan predict`: wall time of a fresh process vs `python -c pass`.

Run:  python bench/plan_coldstart.py [--repeats 15]

Each command runs `--repeats` times as a new process (stdout discarded), interleaved with the baseline so
that load from other work on the machine hits both alike; medians are reported, with the load average
before and after. The budgets in the issues are < 0.5 s for `tokenplan plan --flops 1e22` (issue 3) and for
`tokenplan predict` (issue 12), the latter also with a law fitted by `tokenplan fit` (its fit.json, with 200
bootstrap draws and backtest errors, is written once into a temporary folder before timing). Last, one
`tokenplan predict` process reports which heavy modules it imported (none is the target).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PREDICT = "tokenplan predict --params 70B --tokens 1.4T"
PREDICT_FIT = "tokenplan predict --law fit.json --params 1B,7B --tokens 20B,140B"
HEAVY = ("torch", "sklearn", "pandas", "matplotlib", "scipy.optimize", "pyarrow")

COMMANDS = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "python -c 'import tokenplan'": [sys.executable, "-c", "import tokenplan"],
    "tokenplan plan --flops 1e22": [sys.executable, "-m", "tokenplan", "plan", "--flops", "1e22"],
    PREDICT: [
        sys.executable,
        "-m",
        "tokenplan",
        "predict",
        "--params",
        "70B",
        "--tokens",
        "1.4T",
    ],
    "tokenplan plan --flops 1e22 --json": [
        sys.executable,
        "-m",
        "tokenplan",
        "plan",
        "--flops",
        "1e22",
        "--json",
    ],
    "tokenplan plan --flops 5.76e23 --compare": [
        sys.executable,
        "-m",
        "tokenplan",
        "plan",
        "--flops",
        "5.76e23",
        "--compare",
    ],
    "tokenplan plan --params 13B --inference-tokens 2T": [
        sys.executable,
        "-m",
        "tokenplan",
        "plan",
        "--params",
        "13B",
        "--inference-tokens",
        "2T",
    ],
}


def _fitted_law(folder: str) -> str:
    """Write fit.json with `tokenplan fit --example chinchilla` (default flags) and return its path."""
    path = str(Path(folder) / "fit.json")
    cmd = [sys.executable, "-m", "tokenplan", "fit", "--example", "chinchilla", "--save", path]
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return path


def _heavy_modules() -> list[str]:
    """The heavy modules one `tokenplan predict` process imports."""
    code = (
        "import json, sys\nfrom tokenplan.cli import main\n"
        "sys.argv = ['tokenplan', 'predict', '--params', '70B', '--tokens', '1.4T']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"sys.stderr.write(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(r.stderr.strip().splitlines()[-1])


def _once(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        law = _fitted_law(tmp)
        commands = dict(COMMANDS)
        commands[PREDICT_FIT] = [
            *(sys.executable, "-m", "tokenplan", "predict", "--law", law),
            *("--params", "1B,7B", "--tokens", "20B,140B"),
        ]
        load_before = os.getloadavg()
        times = _measure(commands, args.repeats)
        load_after = os.getloadavg()
    base = statistics.median(times["python -c pass (baseline)"])
    print(f"{'command':<62} {'median s':>9} {'min s':>7} {'ratio':>7} {'minus base':>11}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:<62} {med:9.3f} {min(ts):7.3f} {med / base:7.1f} {med - base:11.3f}")
    print(
        f"load average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after, on "
        f"{os.cpu_count()} CPUs; {args.repeats} interleaved rounds"
    )
    for name in ("tokenplan plan --flops 1e22", PREDICT, PREDICT_FIT):
        med = statistics.median(times[name])
        verdict = "OK" if med < 0.5 else "OVER BUDGET"
        print(f"{name}: median {med:.3f} s (budget 0.5 s): {verdict}")
    print(f"heavy modules imported by `{PREDICT}`: {json.dumps(_heavy_modules())}")


def _measure(commands: dict[str, list[str]], repeats: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in commands}
    for cmd in commands.values():  # warm the file-system cache once
        _once(cmd)
    for _ in range(repeats):
        for name, cmd in commands.items():
            times[name].append(_once(cmd))
    return times


if __name__ == "__main__":
    main()
