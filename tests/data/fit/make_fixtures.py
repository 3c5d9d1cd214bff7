"""Generate tests/data/fit fixtures from a known law (run once from the repo root; outputs are committed).

results.csv follows the sweep engine's results schema (one row per run, status, flops_budget, parameter
counts by convention); curves.csv its curves schema. Losses are the law's plus 0.2% log-normal noise; two
extra rows have status "failed" and "too_few_steps". The truth: E=1.6, A=80, B=400, alpha=0.32, beta=0.34.
"""

import csv

import numpy as np

from tokenplan.laws import ChinchillaLaw

law = ChinchillaLaw(name="truth", E=1.6, A=80.0, B=400.0, alpha=0.32, beta=0.34)
rng = np.random.default_rng(7)
budgets = [1e14, 3e14, 1e15, 3e15]
rows, curves = [], []
i = 0
for C in budgets:
    n_opt = float(law.optimal(C).n_params)
    for f in (0.25, 0.5, 1.0, 2.0, 4.0):
        N = n_opt * f
        D = C / (6 * N)
        steps = 40
        loss = float(law.loss(N, D)) * float(np.exp(rng.normal(0, 0.002)))
        rid = f"r{i:02d}"
        i += 1
        emb = round(N * 0.2)
        rows.append(
            dict(
                run_id=rid,
                status="ok",
                n_params=round(N),
                n_params_non_embedding=round(N) - emb,
                n_params_embedding=emb,
                n_params_lm_head=emb,
                n_tokens=round(D),
                flops=f"{6 * N * D:.6g}",
                flops_budget=f"{C:g}",
                loss=f"{loss:.6f}",
                unique_tokens="",
                epochs=1,
                dropout=0.0,
                dropout_start=0.0,
                lr=6e-4,
                batch_tokens=4096,
                steps=steps,
                seed=0,
                kind="isoflop",
                wall_seconds=1.5,
            )
        )
        for s in range(0, steps + 1, 4):
            d = D * s / steps
            cl = "" if s == 0 else f"{float(law.loss(N, d)):.6f}"
            curves.append(
                dict(
                    run_id=rid,
                    step=s,
                    n_tokens=round(d),
                    flops=f"{6 * N * d:.6g}",
                    loss=cl,
                    n_params=round(N),
                )
            )
rows.append(dict(rows[0], run_id="bad1", status="failed", loss=""))
rows.append(dict(rows[1], run_id="bad2", status="too_few_steps", loss="9.9"))
fields = list(rows[0].keys())
with open("tests/data/fit/results.csv", "w", newline="") as fh:
    w = csv.DictWriter(fh, fieldnames=fields)
    w.writeheader()
    w.writerows(rows)
with open("tests/data/fit/curves.csv", "w", newline="") as fh:
    w = csv.DictWriter(fh, fieldnames=list(curves[0].keys()))
    w.writeheader()
    w.writerows(curves)
