"""A wall-clock budget: "512 H100s for 3 weeks" is `--days 21 --gpus 512 --gpu H100` (days=21 in Python),
days x 24 x GPUs GPU-hours, the derivation shown with its source. Before, the user computed
`--gpu-hours 258048 --gpus 512` by hand."""

from __future__ import annotations

import json

import pytest

from helpers import run_cli
from tokenplan.errors import InvalidInputError
from tokenplan.plan import compare, plan

DERIVED = "21 days x 24 h x 512 GPUs = 258,048 GPU-hours"


def test_days_on_gpus_is_the_same_plan_as_their_gpu_hours():
    p = plan(days=21, gpus=512, gpu="H100")
    q = plan(gpu_hours=21 * 24 * 512, gpus=512, gpu="H100")
    assert (p.n_params, p.n_tokens, p.flops, p.gpu_hours) == (
        q.n_params,
        q.n_tokens,
        q.flops,
        q.gpu_hours,
    )
    assert p.mode == "days" and p.days == 21 and q.days is None
    assert p.wall_clock_hours == pytest.approx(21 * 24)
    assert (
        p.sources["budget"]
        == f"{DERIVED} (derived from the wall-clock budget: `days` 21, `gpus` 512)"
    )
    assert "budget" not in q.sources
    assert p.to_dict()["days"] == 21 and p.to_dict()["mode"] == "days"
    assert [c.gpu_hours for c in compare(days=21, gpus=512, gpu="H100").plans] == [258048.0] * 7


@pytest.mark.parametrize(
    ("kwargs", "param", "message"),
    [
        ({"days": 21, "gpu": "H100"}, "gpus", "`days` needs the GPU count: add `gpus` N"),
        ({"days": 21, "gpus": 512}, "gpu", "`days` needs the hardware: add `gpu` NAME"),
        ({"days": 21, "gpus": 8, "gpu": "H100", "flops": 1e22}, "days", "got `flops` and `days`"),
        (
            {"days": 21, "gpus": 8, "gpu": "H100", "gpu_hours": 5},
            "days",
            "got `gpu_hours` and `days`",
        ),
        ({"days": 0, "gpus": 8, "gpu": "H100"}, "days", "days=0 must be > 0"),
    ],
)
def test_a_wall_clock_budget_needs_its_gpus_and_hardware_and_no_other_budget(
    kwargs, param, message
):
    with pytest.raises(InvalidInputError) as info:
        plan(**kwargs)
    assert info.value.param == param and message in str(info.value)


def test_the_cli_shows_the_derived_budget_and_its_flags():
    args = ("plan", "--days", "21", "--gpus", "512", "--gpu", "H100")
    r = run_cli(*args, env={"COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Plan for the wall-clock budget under law epoch2024")
    assert (
        f"budget               │ {DERIVED} (derived from the wall-clock budget: --days 21, --gpus 512)"
        in r.stdout
    )
    assert "21.0 days on 512 GPUs" in r.stdout
    out = json.loads(run_cli(*args, "--json").stdout)
    assert out["mode"] == "days" and out["hardware"]["gpu_hours"] == 258048
    r = run_cli(*args, "--compare", env={"COLUMNS": "200"})
    assert r.stdout.startswith("Every law on 258,048 GPU-hours (21 days on 512 GPUs)")


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("--days", "21", "--gpu", "H100"), "--days needs the GPU count: add --gpus N"),
        (
            ("--days", "21", "--gpus", "8", "--flops", "1e22"),
            "got --flops and --days (they conflict)",
        ),
    ],
)
def test_cli_errors_name_the_flags(args, line):
    r = run_cli("plan", *args, "--gpu", "H100") if "--gpu" not in args else run_cli("plan", *args)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("tokenplan: error: ") and line in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("flag", "value", "fix"),
    [
        (
            "--days",
            "1K",
            "--days='1K' must be a plain number > 0 (no K/M/B/T suffix); e.g. --days 21",
        ),
        ("--days", "3w", "--days='3w' must be a plain number > 0"),
        (
            "--gpus",
            "1.5",
            "--gpus='1.5' must be a whole number > 0 (no K/M/B/T suffix); e.g. --gpus 8",
        ),
        ("--gpus", "1K", "--gpus='1K' must be a whole number > 0"),
        ("--seq-len", "1.5", "--seq-len='1.5' must be a whole number > 0"),
        ("--gpus", "8.0", "--gpus='8.0' must be a whole number > 0"),
    ],
)
def test_days_and_counts_are_plain_numbers(flag, value, fix):
    """`--days 1K` was read as 1000 days (a size suffix on a count of days) and `--gpus 1.5` got click's
    "'1.5' is not a valid integer range": each is now one line naming its flag and the fix."""
    base = {"--days": "21", "--gpus": "8", "--seq-len": "2048"}
    args = [x for k, v in {**base, flag: value}.items() for x in (k, v)]
    r = run_cli("plan", *args, "--gpu", "H100")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("tokenplan: error: ") and fix in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert "integer range" not in r.stderr


def test_days_may_be_fractional():
    r = run_cli("plan", "--days", "1.5", "--gpus", "8", "--gpu", "H100", "--json")
    out = json.loads(r.stdout)
    assert out["days"] == 1.5 and out["hardware"]["gpu_hours"] == 288
