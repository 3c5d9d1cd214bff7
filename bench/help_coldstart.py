"""CPU of `tokenplan --help` (and each sub-command's --help) as a fresh process, against `python -c pass`.

Run:  python bench/help_coldstart.py [--repeats 15]

Each command runs `--repeats` times as a new process (output discarded), interleaved with the baseline
`python -c pass` and `python -c 'import tokenplan'` so that load from other work on the machine hits all
alike. CPU is the child's user + system time (resource.getrusage(RUSAGE_CHILDREN) around each run), less
noisy than wall time on a shared machine; medians are reported, with their ratio to the baseline's median
measured in the same process. Last, which tokenplan sub-packages one `tokenplan --help` imported.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

TOKENPLAN = [sys.executable, "-m", "tokenplan"]
COMMANDS = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "python -c 'import tokenplan'": [sys.executable, "-c", "import tokenplan"],
    "tokenplan --help": [*TOKENPLAN, "--help"],
    "tokenplan fit --help": [*TOKENPLAN, "fit", "--help"],
    "tokenplan sweep --help": [*TOKENPLAN, "sweep", "--help"],
    "tokenplan select --help": [*TOKENPLAN, "select", "--help"],
}
PACKAGES = ("tokenplan.fit", "tokenplan.sweep", "tokenplan.select", "tokenplan.report", "scipy")


def _once(cmd: list[str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one run of ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def _imported() -> dict[str, list[str]]:
    """The modules under each of PACKAGES that one `tokenplan --help` imported."""
    code = (
        "import json, sys\nfrom tokenplan.cli import main\nsys.argv = ['tokenplan', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"sys.stderr.write(json.dumps({{p: sorted(m for m in sys.modules if m == p or m.startswith(p + '.')) "
        f"for p in {list(PACKAGES)!r}}}))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(r.stderr.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    for cmd in COMMANDS.values():  # warm the file-system cache once
        _once(cmd)
    load_before = os.getloadavg()
    cpu: dict[str, list[float]] = {name: [] for name in COMMANDS}
    wall: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.repeats):
        for name, cmd in COMMANDS.items():
            c, w = _once(cmd)
            cpu[name].append(c)
            wall[name].append(w)
    load_after = os.getloadavg()
    base = statistics.median(cpu["python -c pass (baseline)"])
    print(f"{'command':<32} {'CPU s':>7} {'ratio':>6} {'wall s':>7}")
    for name in COMMANDS:
        med = statistics.median(cpu[name])
        print(f"{name:<32} {med:7.3f} {med / base:6.1f} {statistics.median(wall[name]):7.3f}")
    print(
        f"medians of {args.repeats} interleaved rounds; load average (1 min) {load_before[0]:.1f} "
        f"before, {load_after[0]:.1f} after, on {os.cpu_count()} CPUs"
    )
    print(
        "imported by `tokenplan --help`:", json.dumps({k: len(v) for k, v in _imported().items()})
    )


if __name__ == "__main__":
    main()
