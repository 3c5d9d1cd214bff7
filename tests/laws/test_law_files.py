"""Saved law files that are wrong in their values, not only in their layout: one error naming the file."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from helpers import run_cli
from tokenplan.errors import InvalidInputError
from tokenplan.laws import (
    ChinchillaLaw,
    DataConstrainedLaw,
    KaplanLaw,
    KaplanNDLaw,
    PowerLawAllocation,
    get_law,
    load_law,
)

GOOD = {
    "kind": "ChinchillaLaw",
    "name": "x",
    "E": 1.8,
    "A": 400.0,
    "B": 400.0,
    "alpha": 0.3,
    "beta": 0.3,
}

CONSTANTS = {k: GOOD[k] for k in ("E", "A", "B", "alpha", "beta")}


def _file(tmp_path, law, name="fit.json"):
    path = tmp_path / name
    text = json.dumps({"format": "tokenplan-law/2", "law": law, "fit": {}})
    path.write_text(text.replace('"E": "NaN"', '"E": NaN'))  # json.dumps cannot write a bare NaN
    return path


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"beta": "x"}, "beta='x'"),
        ({"A": -400.0}, "A=-400"),
        ({"alpha": 0.0}, "alpha=0.0"),
        ({"E": "NaN"}, "E=nan"),
        ({"B": True}, "B=True"),
        ({"B": None}, "B=None"),
        ({"param_convention": "weird"}, "param_convention"),
        ({"uncertainty": "lots"}, "uncertainty='lots'"),
        ({"uncertainty": {"names": ["E"], "draws": [[1.8]]}}, "lacks the field 'residuals'"),
        ({"uncertainty": {"names": ["Z"], "draws": [[1.0]], "residuals": []}}, "draws of Z"),
        ({"uncertainty": {"names": ["E"], "draws": [[1.8, 2.0]], "residuals": []}}, "uncertainty"),
        ({"uncertainty": {"names": ["E"], "draws": [[1.8]], "residuals": [-0.1]}}, "uncertainty"),
        ({"fitted_range": [1, 2]}, "fitted_range=(1, 2)"),
        ({"fitted_range": {"flops": [1e18, 1e22]}}, "lacks the field 'n_params'"),
        (
            {
                "fitted_range": {
                    k: [2.0, 1.0] for k in ("flops", "n_params", "n_tokens", "tokens_per_param")
                }
            },
            "low <= high",
        ),
    ],
)
def test_bad_values_are_one_error_naming_the_file(tmp_path, change, needle):
    path = _file(tmp_path, {**GOOD, **change})
    with pytest.raises(InvalidInputError, match=r"fit\.json") as exc:
        load_law(path)
    assert needle in str(exc.value) and exc.value.param == "law"
    r = run_cli("predict", "--law", str(path), "--params", "1B", "--tokens", "20B")
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "--law" in lines[0] and "fit.json" in lines[0] and needle in lines[0]


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('"E": 1.8', '"E": 9.9, "E": 1.8', "E"),  # a hand-edited constant above the saved one
        ('"law": {', '"law": {"name": "y", ', "name"),
        ('"fit": {}', '"fit": {}, "fit": {}', "fit"),
    ],
)
def test_a_key_given_twice_is_one_error_naming_the_file(tmp_path, old, new, key):
    """JSON keeps the last of two equal keys in silence: a law file whose E was written twice loaded the
    last one, the other unread."""
    path = _file(tmp_path, GOOD)
    path.write_text(path.read_text().replace(old, new, 1))
    with pytest.raises(InvalidInputError) as exc:
        load_law(path)
    assert str(exc.value).startswith(f"law file {str(path)!r} gives the key {key!r} twice")
    r = run_cli("plan", "--law", str(path), "--flops", "1e20")
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.splitlines()) == 1
    assert "--law" in r.stderr and f"gives the key {key!r} twice" in r.stderr


def test_a_valid_file_still_loads(tmp_path):
    law = load_law(_file(tmp_path, {**GOOD, "E": 0}))  # E = 0 is allowed (no irreducible loss)
    assert law.loss(1e9, 1e9) == pytest.approx(400 / 1e9**0.3 * 2)


def test_unknown_law_name_names_the_flag():
    with pytest.raises(InvalidInputError) as exc:
        get_law("chinchila")
    assert exc.value.param == "law"
    for cmd in (
        ["predict", "--params", "1B", "--tokens", "1B"],
        ["plan", "--flops", "1e20"],
        ["table"],
    ):
        r = run_cli(*cmd, "--law", "chinchila")
        assert r.returncode == 2 and r.stderr.startswith("tokenplan: error: --law: unknown law")


@pytest.mark.parametrize(
    ("make", "key"),
    [
        (lambda: ChinchillaLaw(**{**CONSTANTS, "E": -1.0}), "E"),
        (lambda: ChinchillaLaw(**{**CONSTANTS, "A": 0.0}), "A"),
        (lambda: ChinchillaLaw(**{**CONSTANTS, "B": float("inf")}), "B"),
        (lambda: ChinchillaLaw(**{**CONSTANTS, "alpha": float("nan")}), "alpha"),
        (lambda: ChinchillaLaw(**{**CONSTANTS, "beta": "0.28"}), "beta"),
        (lambda: ChinchillaLaw(**{**CONSTANTS, "E": (1.0, 2.0)}), "E"),
        (lambda: DataConstrainedLaw(**CONSTANTS, R_D_star=-15.0, R_N_star=5.3), "R_D_star"),
        (lambda: KaplanNDLaw(N_c=6.4e13, D_c=1.8e13, alpha_N=0.0, alpha_D=0.1), "alpha_N"),
        (lambda: KaplanLaw(table6_N=(1.3e9, -0.73)), "table6_N"),
        (lambda: KaplanLaw(table6_N=(1.3e9,)), "table6_N"),
        (lambda: PowerLawAllocation(k=-0.1, a=0.5), "k"),
        (lambda: replace(get_law("epoch2024"), E=-1.0), "E"),
    ],
)
def test_a_law_built_in_python_checks_its_constants_as_a_file_does(make, key):
    """ChinchillaLaw(E=-1, ...) was accepted (and planned with a negative irreducible loss) while load_law
    refused the same constants. Construction now runs load_law's check (laws.base.check_constants)."""
    with pytest.raises(InvalidInputError, match=f"has {key}=") as exc:
        make()
    assert exc.value.param == key


def test_what_fits_return_is_still_built():
    """Fits can return an exponent at any sign (a parametric fit's alpha <= 0 comes with a warning): a law
    built in Python takes it, finite; a law file still needs it > 0. E = 0 and arrays of draws (the
    vectorised Uncertainty) pass."""
    assert ChinchillaLaw(**{**CONSTANTS, "alpha": -0.1}).alpha == -0.1
    assert PowerLawAllocation(k=1.0, a=1.2).a == 1.2
    assert ChinchillaLaw(**{**CONSTANTS, "E": 0}).E == 0
    draws = replace(get_law("chinchilla"), E=np.array([1.6, 1.7]), alpha=np.array([0.3, 0.4]))
    assert draws.loss(1e9, 2e10).shape == (2,)
    with pytest.raises(InvalidInputError, match=r"E=an array whose element 1 is -1\.0"):
        replace(draws, E=np.array([1.6, -1.0]))
