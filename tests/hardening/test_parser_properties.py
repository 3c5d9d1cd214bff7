"""Property tests on every parser of user input: random text never raises anything but our own error.

A parser may accept the text or refuse it with a :class:`TokenplanError` (which the CLI prints as one line);
a ``KeyError``, ``TypeError``, ``UnicodeDecodeError`` ... escaping from it is a traceback for a user.
"""

from __future__ import annotations

import json
import math
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tokenplan.errors import TokenplanError
from tokenplan.units import MAX_QUANTITY, parse_list, parse_quantity

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text that looks like what the parsers expect (digits, suffixes, separators, quotes, braces) and anything.
_ALPHABET = "0123456789.eE+-_,kKmMbBgGtTpP nainf\"'{}[]:\n\t#=;/\\\x00é"
quantity_text = st.one_of(st.text(alphabet=_ALPHABET, max_size=20), st.text(max_size=20))


@SETTINGS
@given(quantity_text)
def test_parse_quantity_returns_a_finite_bounded_number_or_our_error(text):
    try:
        x = parse_quantity(text, name="--flops")
    except TokenplanError as exc:
        assert exc.param == "--flops"
        return
    assert math.isfinite(x) and abs(x) <= MAX_QUANTITY


@SETTINGS
@given(
    st.one_of(
        st.floats(allow_nan=True), st.integers(), st.booleans(), st.none(), st.lists(st.integers())
    )
)
def test_parse_quantity_non_text_values(value):
    try:
        x = parse_quantity(value)
    except TokenplanError:
        return
    assert math.isfinite(x) and not isinstance(value, bool)


@SETTINGS
@given(st.text(alphabet=_ALPHABET, max_size=40))
def test_parse_list_returns_finite_numbers_or_our_error(text):
    try:
        values = parse_list(text)
    except TokenplanError:
        return
    assert values and all(math.isfinite(v) for v in values)


@pytest.mark.parametrize(
    "text",
    [
        "1e400",
        "-1e400",
        "1e31",
        "nan",
        "NaN",
        "inf",
        "-Infinity",
        "1e",
        "7 B B",
        "",
        "3,1",
        "1,5e9",
    ],
)
def test_parse_quantity_refuses(text):
    with pytest.raises(TokenplanError):
        parse_quantity(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("7B", 7e9),
        ("1.4T", 1.4e12),
        ("400m", 4e8),
        ("5.76e23", 5.76e23),
        ("1_000", 1e3),
        ("1,000", 1e3),
        ("2,500,000.5", 2500000.5),
        ("1,000B", 1e12),
        ("2E", 2e18),
    ],
)
def test_parse_quantity_accepts(text, value):
    assert parse_quantity(text) == pytest.approx(value)


@pytest.mark.parametrize(
    ("text", "point"), [("3,1", "3.1"), ("1,5e9", "1.5e9"), ("12,34", "12.34")]
)
def test_a_decimal_comma_is_refused_with_the_point_to_write(text, point):
    """Dropping the comma read '3,1' as 31 (a semicolon-separated table from a European locale)."""
    with pytest.raises(TokenplanError, match=rf"write a point \({re.escape(point)}\)"):
        parse_quantity(text, name="--flops")


# --- file readers --------------------------------------------------------------------------------------

file_bytes = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda t: t.encode("utf-8")),
    st.lists(st.text(alphabet="abc,\"'\n 0123456789.e-", max_size=30), max_size=8).map(
        lambda rows: ("n_params,n_tokens,loss\n" + "\n".join(rows)).encode()
    ),
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
        lambda kids: (
            st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4)
        ),
        max_leaves=12,
    ).map(lambda obj: json.dumps(obj).encode()),
)


def _with_file(suffix: str, content: bytes, fn):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"input{suffix}"
        path.write_bytes(content)
        try:
            fn(path)
        except TokenplanError:
            pass
        assert path.read_bytes() == content, "a reader changed its input"


@SETTINGS
@given(st.sampled_from([".csv", ".json", ".jsonl", ".tsv", ".txt"]), file_bytes)
def test_read_runs_never_raises_a_foreign_error(suffix, content):
    from tokenplan.runs import read_runs

    _with_file(suffix, content, read_runs)


@SETTINGS
@given(st.sampled_from([".csv", ".jsonl"]), file_bytes)
def test_read_curves_never_raises_a_foreign_error(suffix, content):
    from tokenplan.runs import read_curves

    _with_file(suffix, content, read_curves)


@SETTINGS
@given(st.sampled_from([".json", ".jsonl", ".csv", ".yml"]), file_bytes, st.booleans())
def test_select_reader_never_raises_a_foreign_error(suffix, content, strict):
    pytest.importorskip("sklearn")
    from tokenplan.select.io import iter_records

    _with_file(suffix, content, lambda p: list(iter_records(p, strict=strict)))


@SETTINGS
@given(file_bytes)
def test_load_law_never_raises_a_foreign_error(content):
    from tokenplan.laws import load_law

    _with_file(".json", content, load_law)


yaml_text = st.one_of(
    file_bytes,
    st.dictionaries(
        st.sampled_from(
            [
                "input",
                "n_select",
                "fraction",
                "method",
                "seed",
                "strict",
                "clean",
                "overwrite",
                "filters",
                "fields",
                "tau",
                "embedder",
                "output",
                "plot",
                "dedup_near",
            ]
        ),
        st.none()
        | st.booleans()
        | st.floats()
        | st.integers()
        | st.text(max_size=6)
        | st.lists(st.integers(), max_size=3),
        max_size=6,
    ).map(lambda d: json.dumps(d).encode()),  # JSON is YAML
)


@SETTINGS
@given(yaml_text)
@example(b"input: a.jsonl\nfilters: {1: 2}\n")  # a filter key that is not a name
def test_select_recipe_never_raises_a_foreign_error(content):
    from tokenplan.select.pipeline import Recipe

    _with_file(".yaml", content, Recipe.from_yaml)


@SETTINGS
@given(yaml_text)
@example(b"?")  # {None: None}: a key that is not a name (found by this test)
@example(b"1: 2")
def test_sweep_spec_never_raises_a_foreign_error(content):
    from tokenplan.sweep.spec import load_spec

    _with_file(".yaml", content, load_spec)


@pytest.mark.parametrize("value", ["false", "no", "off", "0", 0, 1, None, "true"])
def test_recipe_booleans_are_strict(value):
    from tokenplan.errors import InvalidInputError
    from tokenplan.select.pipeline import Recipe

    for key in ("overwrite", "clean", "strict", "dedup_exact"):
        with pytest.raises(InvalidInputError, match=key):
            Recipe.from_dict({"input": "pool.jsonl", "n_select": 3, key: value})
