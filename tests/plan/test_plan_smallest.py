"""A budget whose optimum is under one parameter or one token is refused, naming the smallest budget that
plans a whole model (computed from the law, so the value printed works and a value 1% smaller does not)."""

from __future__ import annotations

import re
import warnings

import pytest

from helpers import run_cli
from tokenplan.errors import InvalidInputError
from tokenplan.plan import plan

CASES = [
    # Kaplan's law planned 2.19e-06 non-embedding parameters on 1 FLOP (with warnings); epoch2024, which
    # counts all parameters, 0.048 on 3.5 tokens from Python with nothing raised.
    ({"flops": 1, "law": "kaplan"}, "flops", "smallest"),
    ({"flops": 1}, "flops", "smallest"),
    ({"gpu_hours": 1e-19, "gpu": "H100"}, "gpu_hours", "smallest"),
    ({"n_tokens": 1}, "n_tokens", "smallest"),
    # 330 decades below the answer: the search walked 60 decades from the budget and gave up, blaming
    # the law ("no budget up to 1e+30 plans more").
    ({"flops": 1e-300}, "flops", "smallest"),
    ({"target_loss": 2000}, "target_loss", "highest"),
    ({"flops": 100, "unique_tokens": 10, "law": "muennighoff2023"}, "flops", "smallest"),
]


def _whole(p) -> bool:
    return p.n_params >= 1 and p.n_tokens >= 1


@pytest.mark.parametrize(("kwargs", "param", "edge"), CASES)
def test_a_budget_below_one_parameter_names_the_smallest_that_works(kwargs, param, edge):
    with pytest.raises(InvalidInputError) as info:
        plan(**kwargs)
    assert info.value.param == param
    text = str(info.value)
    assert text.startswith(f"`{param}` {kwargs[param]:g} plans less than one ")
    found = re.search(
        rf"the {edge} `{param}` that plans at least one parameter and one token is (\S+)\.$", text
    )
    assert found, text
    value = float(found.group(1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _whole(plan(**{**kwargs, param: value}))
    worse = value * 1.01 if edge == "highest" else value / 1.01
    with pytest.raises(InvalidInputError, match="plans less than one"):
        plan(**{**kwargs, param: worse})


def test_the_cli_names_the_flag_in_one_line():
    r = run_cli("plan", "--flops", "1", "--law", "kaplan")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip() == (
        "tokenplan: error: --flops 1 plans less than one parameter under law 'kaplan' (2.19e-06 "
        "non-embedding parameters on 76.1K tokens); the smallest --flops that plans at least one "
        "parameter and one token is 5.66e+07."
    )


def test_a_degenerate_law_that_no_budget_makes_whole_says_so(tmp_path):
    """A fitted law whose parameter term vanished, with D/N still finite (N_opt 1e-79): no budget up to
    1e30 plans a parameter; the message is the degenerate law's, not a smallest budget."""
    from dataclasses import replace

    from tokenplan.laws import get_law

    law = replace(
        get_law("chinchilla"), name="fit-approach3", E=4.74e-10, A=3.226e-11, B=6.09,
        alpha=0.0676, beta=0.0676,
    )  # fmt: skip
    with pytest.raises(InvalidInputError, match="has no usable plan for `flops` 1e\\+12") as info:
        plan(flops=1e12, law=law)
    assert info.value.param == "law" and "no budget up to 1e+30 plans more" in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "what"),
    [
        ({"n_tokens": 1}, "(1.28e-02 parameters on 1 token)"),
        ({"n_tokens": 2}, "(2.66e-02 parameters on 2 tokens)"),
        ({"flops": 1}, "(4.77e-02 parameters on 3.49 tokens)"),
    ],
)
def test_one_token_is_singular(kwargs, what):
    """The refusal of `tokens=1` read "on 1 tokens"."""
    with pytest.raises(InvalidInputError) as info:
        plan(**kwargs)
    assert what in str(info.value)


# A count under one is refused as given (it names no model or data), before any law is asked: 0.5 unique
# tokens planned a run, 1e-300 failed with "math domain error", `n_tokens` 1e-300 was reported as
# "`n_params`=0.0 must be > 0" and a run on 1e-300 tokens blamed the law.
SUB_ONE = [
    ({"n_params": 0.5}, "n_params", "parameter"),
    ({"n_tokens": 1e-300}, "n_tokens", "token"),
    ({"n_params": 1e29, "n_tokens": 1e-300}, "n_tokens", "token"),
    ({"n_params": 1e-300, "n_tokens": 1e12}, "n_params", "parameter"),
    ({"flops": 1e21, "unique_tokens": 0.5}, "unique_tokens", "unique token"),
    (
        {"flops": 1e21, "unique_tokens": 1e-300, "law": "muennighoff2023"},
        "unique_tokens",
        "unique token",
    ),
    ({"flops": 1e21, "inference_tokens": 0.5}, "inference_tokens", "inference token"),
]


@pytest.mark.parametrize(("kwargs", "param", "noun"), SUB_ONE)
def test_a_count_under_one_is_refused_as_given(kwargs, param, noun):
    with pytest.raises(InvalidInputError) as info:
        plan(**kwargs)
    assert info.value.param == param
    assert (
        str(info.value) == f"`{param}` {kwargs[param]:g} is less than one {noun}; give at least 1."
    )


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"gpu_hours": 1000, "peak_flops": 1e-300}, "peak_flops"),
        ({"gpu_hours": 1000, "peak_flops": 2.0, "mfu": 0.4}, "peak_flops"),
        ({"flops": 1e21, "gpu": "H100", "mfu": 1e-300}, "mfu"),
    ],
)
def test_a_throughput_under_one_flop_per_second_is_refused(kwargs, param):
    """1e-300 FLOP/s blamed the law ("no usable plan"); 0.8 FLOP/s planned a 54-parameter model."""
    with pytest.raises(
        InvalidInputError, match=r"is less than 1 FLOP/s; give the accelerator"
    ) as info:
        plan(**kwargs)
    assert info.value.param == param


def test_the_cli_says_a_sub_one_count_in_one_line():
    r = run_cli("plan", "--flops", "1e21", "--unique-tokens", "1e-300")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == (
        "tokenplan: error: --unique-tokens 1e-300 is less than one unique token; give at least 1.\n"
    )


@pytest.mark.parametrize(
    ("args", "flag", "noun"),
    [
        (
            ("predict", "--params", "1e9", "--tokens", "2e10", "--unique-tokens", "1e-300"),
            "--unique-tokens",
            "unique token",
        ),
        (
            ("repeat", "--unique-tokens", "1e-300", "--params", "1e8"),
            "--unique-tokens",
            "unique token",
        ),
        (("repeat", "--unique-tokens", "1e9", "--params", "0.5"), "--params", "parameter"),
    ],
)
def test_predict_and_repeat_refuse_a_count_under_one(args, flag, noun):
    """predict and repeat printed numpy's "RuntimeWarning: overflow encountered in scalar divide" (R_D =
    D / U - 1 at U = 1e-300) and a table; repeat tabled a model of 0.5 parameters."""
    r = run_cli(*args)
    value = args[args.index(flag) + 1]
    assert r.returncode == 2 and r.stdout == "", r.stderr
    assert (
        r.stderr == f"tokenplan: error: {flag} {value} is less than one {noun}; give at least 1.\n"
    )
