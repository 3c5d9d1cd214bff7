"""Arguments a notebook user gets wrong in Python: a lone value where a list is wanted (repeat's epochs,
optimal_table's sizes, compare's laws) is named instead of a TypeError or a search for the law 'k'; a
target loss no compute-optimal model reaches names target_loss and the value given; an Allocation of
arrays prints and serialises; save_law with its arguments swapped names the law."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tokenplan import get_law
from tokenplan.errors import InvalidInputError
from tokenplan.laws import save_law
from tokenplan.plan import compare, optimal_table, repeat


@pytest.mark.parametrize(
    ("call", "param"),
    [
        (lambda: repeat(25e9, 4), "epochs"),  # was TypeError: 'int' object is not iterable
        (lambda: repeat(25e9, "4"), "epochs"),
        (lambda: optimal_table(7e9), "n_params"),  # was TypeError: 'float' object is not iterable
        (lambda: optimal_table(np.array(7e9)), "n_params"),
        (lambda: compare(flops=1e21, laws="kaplan"), "laws"),  # was: unknown law 'k'
        (lambda: compare(flops=1e21, laws=get_law("kaplan")), "laws"),
    ],
)
def test_a_lone_value_where_a_list_is_wanted(call, param):
    with pytest.raises(InvalidInputError, match=r"must be a list, e\.g\.") as info:
        call()
    assert info.value.param == param


def test_lists_arrays_and_tuples_still_work():
    assert len(repeat(25e9, np.array([2.0, 4.0])).rows) == 2
    assert len(optimal_table((7e9, 70e9)).rows) == 2
    assert [p.law for p in compare(flops=1e21, laws=("kaplan",)).plans] == ["kaplan"]


@pytest.mark.parametrize("law", ["chinchilla", "epoch2024", "kaplan", "muennighoff2023"])
def test_an_unreachable_target_loss_names_it_with_the_value_given(law):
    """The message said 'value -1e+21 is outside what law ... can reach' (the solver's -loss), param None."""
    with pytest.raises(InvalidInputError) as info:
        get_law(law).optimal_for_loss(1e21)
    assert info.value.param == "target_loss"
    assert str(info.value).startswith("target_loss=1e+21 is outside what law")


def test_an_unreachable_size_names_it():
    with pytest.raises(InvalidInputError) as info:
        get_law("kaplan").optimal_params(1e29)
    assert info.value.param == "n_tokens" and "n_tokens=1e+29" in str(info.value)


def test_an_allocation_of_arrays_prints_and_serialises():
    """law.optimal(array) worked but its repr raised TypeError (a notebook shows the repr) and
    json.dumps(alloc.to_dict()) refused the arrays."""
    alloc = get_law("chinchilla").optimal(np.array([1e20, 1e21]))
    assert repr(alloc).startswith("Allocation(law='chinchilla', n_params=[645M, 1.82B], ")
    d = json.loads(json.dumps(alloc.to_dict()))
    assert d["flops"] == [1e20, 1e21] and len(d["loss"]) == 2
    one = get_law("chinchilla").optimal(1e21)
    assert repr(one) == (
        "Allocation(law='chinchilla', n_params=1.82B, n_tokens=91.4B, flops=1e+21, "
        "tokens_per_param=50.1, loss=2.3289)"
    )


def test_a_huge_tokens_per_param_prints_compactly():
    """A fitted law whose N term vanished allocates ~1e-73 parameters on ~1e94 tokens; the repr printed
    tokens_per_param with .1f, a 167-digit string, where n_params and n_tokens were compact."""
    from dataclasses import replace

    law = replace(
        get_law("chinchilla"),
        name="fit",
        E=4.74e-10,
        A=3.226e-11,
        B=6.09,
        alpha=0.0676,
        beta=0.0676,
    )
    text = repr(law.optimal(1e22))
    assert "tokens_per_param=6.37e+166, " in text and len(text) < 150, text


def test_save_law_with_swapped_arguments_names_the_law(tmp_path):
    out = tmp_path / "law.json"
    with pytest.raises(InvalidInputError, match=r"save_law\(law, path\)") as info:
        save_law(str(out), get_law("chinchilla"))
    assert info.value.param == "law" and not out.exists()


def test_a_comparison_says_why_a_law_has_no_plan():
    """comparison['chinchilla-a1'] raised KeyError('chinchilla-a1'), not saying the law was skipped."""
    c = compare(target_loss=2.2)
    with pytest.raises(KeyError, match="skipped: law 'chinchilla-a1' predicts an allocation only"):
        c["chinchilla-a1"]
    with pytest.raises(KeyError, match="this comparison has: chinchilla, "):
        c["nope"]
    assert c["epoch2024"].law == "epoch2024"


@pytest.mark.parametrize("vocab_size", [0, -5, 1.5, float("nan")])
@pytest.mark.parametrize("law", ["chinchilla-a1", "kaplan"])
def test_table_checks_vocab_size_whatever_the_law(law, vocab_size):
    """optimal_table(vocab_size=0) ran for a total-parameter law (checked only when a non-embedding law
    converted sizes), while plan and repeat refuse it for every law."""
    with pytest.raises(InvalidInputError, match="vocab_size") as info:
        optimal_table([1e9], law=law, vocab_size=vocab_size)
    assert info.value.param == "vocab_size"


def test_compare_names_itself_for_a_keyword_it_does_not_take():
    """compare(flops=1e21, bogus=1) said "plan() got an unexpected keyword argument 'bogus'": a function
    the user had not called, and no list of what compare takes."""
    from tokenplan import compare

    with pytest.raises(
        TypeError, match=r"^compare\(\) got an unexpected keyword argument 'bogus'; .*flops"
    ):
        compare(flops=1e21, bogus=1)
