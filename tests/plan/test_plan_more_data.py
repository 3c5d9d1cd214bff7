"""`plan --unique-tokens` with more unique data than the plan trains on: legal (0.37 epochs is one pass
over 37% of the data), and the data-constrained optimum is then the all-unique optimum (Muennighoff et al.
2023: U_D = min(U, D), REFERENCE.md sec. 4). It printed '0.37' epochs unlabelled and the optimum twice,
'(0.36 epochs)' and 'vs the same if all were unique', as if the limit had bound."""

from __future__ import annotations

import re

import pytest

from helpers import run_cli
from tokenplan import plan


def rows(*args: str) -> dict[str, str]:
    r = run_cli("plan", *args, env={"COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    out: dict[str, str] = {}
    for line in r.stdout.splitlines():
        m = re.match(r"│ (.+?)\s+│ (.+?)\s+│$", line)
        if m:
            key = m.group(1).strip() or f"{list(out)[-1]} +"
            out[key] = m.group(2)
    return out


def test_the_optimum_is_the_all_unique_one_when_the_data_does_not_bind():
    p = plan(flops=1e22, unique_tokens=500e9)
    dc, fresh = p.data_constrained, p.fresh_optimum
    assert p.epochs == pytest.approx(0.3685, abs=1e-4) and p.loss_penalty == 0.0
    assert not dc.binding and dc.epochs < 1
    assert dc.n_params == pytest.approx(fresh.n_params, rel=1e-6)
    assert dc.n_tokens == pytest.approx(fresh.n_tokens, rel=1e-6)
    assert plan(flops=1e22, unique_tokens=25e9).data_constrained.binding


def test_console_says_the_data_does_not_limit_the_plan():
    r = rows("--flops", "1e22", "--unique-tokens", "500B")
    assert r["epochs"] == "0.37 (one pass over 37% of the unique tokens: nothing repeats)"
    assert r["data-constrained optimum"].startswith(
        "not limited by the data: 9.22B params on 181B tokens, the all-unique optimum (0.36 epochs of 500B)"
    )
    assert (
        "data-constrained optimum +" not in r
    )  # the 'vs ... if all were unique' line, a duplicate


def test_a_binding_limit_prints_both_optima_as_before():
    r = rows("--flops", "1e22", "--unique-tokens", "25B")
    assert r["epochs"] == "7.37"
    assert re.match(r"[\d.]+B params on 237B tokens \(9.49 epochs\)", r["data-constrained optimum"])
    assert r["data-constrained optimum +"].startswith("vs 9.22B on 181B tokens if all were unique")


def test_compare_note_says_so_too():
    r = run_cli(
        "plan", "--flops", "1e22", "--unique-tokens", "500B", "--compare", env={"COLUMNS": "200"}
    )
    assert r.returncode == 0, r.stderr
    assert "0.36 epochs, loss 2.1880 (not limited by the data: the all-unique optimum)." in r.stdout
