"""A number that is not whole never prints as a whole one (plan, table and repeat echo numbers typed by a
person; ``:g`` keeps 6 significant figures, so 1.0000001 epochs printed as '1' and ``--params 0.9999999``
was refused as '--params 1 is less than one parameter')."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import run_cli
from tokenplan.plan import repeat
from tokenplan.units import format_epochs, format_exact


@given(st.floats(min_value=-1e30, max_value=1e30, allow_nan=False))
def test_format_exact_reads_back_as_the_number(x):
    assert float(format_exact(x)) == x


@pytest.mark.parametrize(
    ("x", "text"), [(4.0, "4"), (2.5, "2.5"), (1e22, "1e+22"), (1.0000001, "1.0000001")]
)
def test_format_exact_is_g_where_g_is_exact(x, text):
    assert format_exact(x) == text


@given(st.floats(min_value=0.0, max_value=9_999.0, allow_nan=False))
def test_format_epochs_never_rounds_onto_a_whole_count(e):
    for decimals in (1, 2):
        text = format_epochs(e, decimals)
        if float(text) == round(float(text)):
            assert e == float(text), (e, text)


@pytest.mark.parametrize(
    ("e", "two", "one"),
    [
        (1.0, "1.00", "1.0"),
        (12.28, "12.28", "12.3"),
        (1.0000001, "1.0000001", "1.0000001"),
        (0.999, "0.999", "0.999"),
    ],
)
def test_format_epochs_keeps_the_hundredth_otherwise(e, two, one):
    assert (format_epochs(e), format_epochs(e, 1)) == (two, one)


def test_repeat_table_shows_the_epochs_given():
    r = run_cli("repeat", "--unique-tokens", "25B", "--epochs", "1,1.0000001")
    assert r.returncode == 0, r.stderr
    rows = [line for line in r.stdout.splitlines() if line.startswith("│")]
    assert re.match(r"│\s+1 │", rows[0]) and re.match(r"│\s+1\.0000001 │", rows[1]), rows
    # the advice differs between the two rows; the epoch counts must too
    assert "fresh data" in rows[0] and "about as good as fresh" in rows[1]
    assert [r.epochs for r in repeat(25e9, [1.0000001]).rows] == [1.0000001]


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (("plan", "--params", "0.9999999"), "--params 0.9999999 is less than one parameter"),
        (("plan", "--params", "7B", "--tokens", "0.9999999"), "--tokens 0.9999999 is less"),
        (("table", "--params", "0.9999999"), "--params 0.9999999 is less than one parameter"),
        (("repeat", "--unique-tokens", "0.9999999"), "--unique-tokens 0.9999999 is less"),
    ],
)
def test_refused_values_are_quoted_as_typed(args, shown):
    r = run_cli(*args)
    assert r.returncode == 2 and shown in r.stderr, r.stderr


def test_the_fix_for_a_suffixed_number_in_python_is_that_number():
    import tokenplan

    with pytest.raises(ValueError, match=r"pass the number 1000000100\.0 "):
        tokenplan.plan(n_params="1.0000001B")


def test_report_pages_write_epochs_as_the_console_does():
    pytest.importorskip("markupsafe")
    from tokenplan.report._html import num

    assert ">1.0000001<" in str(num(1.0000001, "epochs", "epochs"))
    assert ">12.28<" in str(num(12.2812, "epochs", "epochs"))


@pytest.mark.parametrize(
    ("x", "text"),
    [(0.37, "37%"), (0.999, "99.9%"), (0.9999, "99.99%"), (1.0, "100%"), (0.004, "0.4%")],
)
def test_a_share_never_rounds_onto_all_or_nothing(x, text):
    from tokenplan.units import format_share

    assert format_share(x) == text


def test_a_plan_on_just_more_data_than_it_uses_does_not_claim_all_of_it():
    r = run_cli("plan", "--flops", "1e22", "--unique-tokens", "184.3B", env={"COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    assert "0.9998 (one pass over 99.98% of the unique tokens: nothing repeats)" in r.stdout
