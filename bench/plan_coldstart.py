"""Cold start of `tokenplan plan`: wall time of a fresh process vs a `python -c pass` baseline.

Run:  python bench/plan_coldstart.py [--repeats 15]

Each command runs `--repeats` times as a new process (stdout discarded), interleaved with the baseline so
that load from other work on the machine hits both alike; medians are reported. The budget in the issue is
< 0.5 s for `tokenplan plan --flops 1e22`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "python -c 'import tokenplan'": [sys.executable, "-c", "import tokenplan"],
    "tokenplan plan --flops 1e22": [sys.executable, "-m", "tokenplan", "plan", "--flops", "1e22"],
    "tokenplan predict --params 70B --tokens 1.4T": [
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


def _once(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for cmd in COMMANDS.values():  # warm the file-system cache once
        _once(cmd)
    for _ in range(args.repeats):
        for name, cmd in COMMANDS.items():
            times[name].append(_once(cmd))
    base = statistics.median(times["python -c pass (baseline)"])
    print(f"{'command':<52} {'median s':>9} {'min s':>7} {'ratio':>7} {'minus base':>11}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:<52} {med:9.3f} {min(ts):7.3f} {med / base:7.1f} {med - base:11.3f}")
    plan_med = statistics.median(times["tokenplan plan --flops 1e22"])
    verdict = "OK" if plan_med < 0.5 else "OVER BUDGET"
    print(f"tokenplan plan --flops 1e22: median {plan_med:.3f} s (budget 0.5 s): {verdict}")


if __name__ == "__main__":
    main()
