"""Benchmark the sweep trainer (issue 5).

1. tokens/s of ``tokenplan.sweep.train.train`` vs a plain minimal PyTorch loop of the same shape (the same
   GPT module, AdamW, random windows, no evals/schedule/checks), interleaved in one process, one thread.
   Target: ratio >= 1.0 (our bookkeeping costs nothing measurable).
2. process-per-core scaling of the local executor: the same set of runs with 2 workers vs 1.
   Target on an idle 2-core box: >= 1.7x.
3. the cost of resumability: the same serial sweep checkpointing after every step vs at the default 60 s
   (the ratio bounds what a checkpoint costs), and a resume of the finished folder (nothing to train:
   the lock, manifest, corpus.npz, CSV rebuild and fit-call check) vs planning the same grid; and the
   CLI's no-op resume of that folder (a fresh `tokenplan sweep ... -q` process) vs its `--dry-run`, the
   baseline that imports no torch, interleaved.

    python bench/train_bench.py                  # both (about 2-4 minutes on 2 cores)
    python bench/train_bench.py --only trainer   # just the first
    python bench/train_bench.py --only resume    # just the third (about a minute)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time


def plain_loop(model_kw: dict, data, steps: int, batch_size: int, seed: int = 0) -> float:
    """The baseline: the same model trained by the shortest loop that does the same work; tokens/s."""
    import torch

    from tokenplan.sweep.config import GPTConfig
    from tokenplan.sweep.model import GPT

    torch.manual_seed(seed)
    config = GPTConfig(**model_kw)
    model = GPT(config)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.95), weight_decay=0.1)
    T = config.seq_len
    x_all = torch.from_numpy(data)
    t0 = time.perf_counter()
    for _ in range(steps):
        starts = torch.randint(0, len(x_all) - T - 1, (batch_size,))
        batch = torch.stack([x_all[s : s + T + 1] for s in starts.tolist()])
        _, loss = model(batch[:, :-1], batch[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return steps * batch_size * T / (time.perf_counter() - t0)


def ours(model_kw: dict, corpus, steps: int, batch_size: int) -> float:
    from tokenplan.sweep.config import TrainConfig
    from tokenplan.sweep.train import train

    cfg = TrainConfig(
        **{k: v for k, v in model_kw.items() if k != "vocab_size"},
        n_tokens=steps * batch_size * model_kw["seq_len"],
        batch_size=batch_size,
        n_evals=1,
        eval_tokens=model_kw["seq_len"] * batch_size,
        min_steps=1,
    )
    t0 = time.perf_counter()
    r = train(cfg, corpus)
    return r.n_tokens / (time.perf_counter() - t0)


def bench_trainer(repeats: int) -> None:
    import torch

    from tokenplan.sweep.data import load_corpus

    torch.set_num_threads(1)
    corpus = load_corpus()
    for model_kw, steps in (
        (dict(n_layers=1, d_model=32, n_heads=2, vocab_size=256, seq_len=128), 300),
        (dict(n_layers=2, d_model=64, n_heads=2, vocab_size=256, seq_len=128), 150),
        (dict(n_layers=4, d_model=128, n_heads=4, vocab_size=256, seq_len=128), 40),
    ):
        ratios, ours_tps, base_tps = [], [], []
        for _ in range(repeats):  # interleaved so background load hits both alike
            b = plain_loop(model_kw, corpus.train, steps, 16)
            o = ours(model_kw, corpus, steps, 16)
            ratios.append(o / b)
            ours_tps.append(o)
            base_tps.append(b)
        label = f"L{model_kw['n_layers']}-d{model_kw['d_model']}"
        print(
            f"trainer {label:9s} ours {statistics.median(ours_tps):9.0f} tok/s | plain loop "
            f"{statistics.median(base_tps):9.0f} tok/s | ratio (median of {repeats}) "
            f"{statistics.median(ratios):.2f}x"
        )


def bench_scaling(repeats: int) -> None:
    from tokenplan.sweep.runner import run_sweep
    from tokenplan.sweep.spec import spec_from_dict

    spec = spec_from_dict(
        {
            "kind": "isoflop",
            "budgets": [8e11],
            "sizes": ["L1-d32-h2", "L1-d48-h2", "L2-d48-h2", "L2-d64-h2"],
            "seq_len": 128,
            "batch_size": 16,
            "n_evals": 1,
            "eval_tokens": 2048,
            "min_steps": 1,
        }
    )
    ratios = []
    for _ in range(repeats):
        times = {}
        for workers in (1, 2):
            with tempfile.TemporaryDirectory() as out:
                t0 = time.perf_counter()
                run_sweep(spec, out, executor="local", workers=workers)
                times[workers] = time.perf_counter() - t0
        ratios.append(times[1] / times[2])
        print(f"  local executor: 1 worker {times[1]:.1f} s, 2 workers {times[2]:.1f} s")
    print(f"scaling 2 workers vs 1 (median of {repeats}): {statistics.median(ratios):.2f}x")


def bench_resume(repeats: int) -> None:
    from tokenplan.sweep.runner import plan_sweep, run_sweep
    from tokenplan.sweep.spec import spec_from_dict

    spec = spec_from_dict({"preset": "micro", "budgets": [1e10]})  # 2 runs, 739 steps in all
    times: dict[str, list[float]] = {"every step": [], "every 60 s": [], "resume": [], "plan": []}
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            for label, every in (("every 60 s", 60.0), ("every step", 0.0)):  # interleaved
                t0 = time.perf_counter()
                result = run_sweep(
                    spec, f"{tmp}/{every}", executor="serial", checkpoint_every=every
                )
                times[label].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            assert run_sweep(spec, f"{tmp}/60.0", executor="serial").n_trained == 0
            times["resume"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            plan_sweep(spec)
            times["plan"].append(time.perf_counter() - t0)
            steps = sum(int(r["steps"]) for r in _rows(result.results_csv))
            argv = ["sweep", "--preset", "micro", "--budgets", "1e10", "--out", f"{tmp}/60.0"]
            for label, extra in (("cli resume", ["-q"]), ("cli dry-run", ["--dry-run"])):
                t0 = time.perf_counter()
                _cli(*argv, *extra)
                times.setdefault(label, []).append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    per = (med["every step"] - med["every 60 s"]) / steps * 1e3
    print(
        f"  checkpoint every step {med['every step']:.2f} s vs every 60 s {med['every 60 s']:.2f} s"
    )
    print(
        f"checkpointing every step (median of {repeats}): {med['every step'] / med['every 60 s']:.2f}x,"
    )
    print(f"  {per:.2f} ms per checkpoint over {steps} steps")
    print(
        f"resume of the finished folder: {med['resume']:.3f} s; planning the grid: {med['plan']:.4f} s"
    )
    print(
        f"CLI no-op resume vs --dry-run (median of {repeats}): "
        f"{med['cli resume'] / med['cli dry-run']:.2f}x ({med['cli resume']:.2f} s vs "
        f"{med['cli dry-run']:.2f} s)"
    )


def _cli(*args: str) -> None:
    """`tokenplan ARGS` in a fresh process (its imports count), which must succeed."""
    import subprocess

    subprocess.run([sys.executable, "-m", "tokenplan", *args], check=True, capture_output=True)


def _rows(path: str) -> list[dict]:
    import csv

    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["trainer", "scaling", "resume"])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if args.only in (None, "trainer"):
        bench_trainer(args.repeats)
    if args.only in (None, "scaling"):
        bench_scaling(args.repeats)
    if args.only in (None, "resume"):
        bench_resume(args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
