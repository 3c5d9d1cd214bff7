"""units.format_quantity: what a size prints as, at the unit boundaries."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokenplan.units import format_quantity, parse_quantity


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (999.6e6, "1B"),  # printed '1e+03M': rounded to 3 figures after the suffix was chosen
        (999.9e6, "1B"),
        (999.6, "1K"),
        (999.6e9, "1T"),
        (999.6e12, "1.00e+15"),  # the scientific range starts at 1e15
        (999.4e6, "999M"),
        (7.02e9, "7.02B"),
        (1e9, "1B"),
        (953.3e6, "953M"),
        (-999.6e6, "-1B"),
        (0.9996, "1"),
    ],
)
def test_format_quantity_at_unit_boundaries(value, text):
    assert format_quantity(value) == text


@given(st.floats(min_value=1.0, max_value=9.99e14))
def test_format_quantity_reads_back_within_its_rounding(x):
    text = format_quantity(x)
    assert "e+03" not in text and "e+02" not in text  # a suffix, never a suffix and an exponent
    assert math.isclose(parse_quantity(text), x, rel_tol=5e-3)


def test_the_in_range_cell_is_one_text_in_predict_table_and_fit():
    """table wrote 'beyond float range' where predict and fit wrote 'no: beyond float range' for the same
    overflowed factor: one formatter now."""
    from types import SimpleNamespace

    from tokenplan.cli.plan import _in_range
    from tokenplan.units import format_out

    assert format_out(44.46) == "44.5x out"
    assert format_out(math.inf) == "no: beyond float range"
    row = SimpleNamespace(inside_range=False, extrapolation={"n_params": 2.0, "d_over_n": math.inf})
    assert _in_range(row) == "no: beyond float range"
