"""A sweep spec built in a notebook: numpy numbers and arrays are numbers (np.geomspace budgets, np.int64
sizes), stored as Python numbers so sweep.yaml can hold them; a dict or a path given to run_sweep or
plan_sweep instead of a SweepSpec is named in one line. Torch-free: nothing here trains."""

from __future__ import annotations

import numpy as np
import pytest

from tokenplan.errors import InvalidInputError
from tokenplan.sweep import plan_sweep, run_sweep, spec_from_dict

BASE = {"kind": "isoflop", "budgets": [3e9], "sizes": ["L1-d16-h1"], "seq_len": 32, "batch_size": 8}


def test_numpy_numbers_and_arrays_are_numbers():
    spec = spec_from_dict(
        {
            **BASE,
            "budgets": np.geomspace(3e9, 6e9, 2),  # was: "array([...]) must be a number"
            "seq_len": np.int64(32),  # was: "np.int64(32) must be a number"
            "seeds": [np.int64(0), np.int64(1)],
            "lrs": np.array([3e-3]),
            "dropout": np.float32(0.25),
        }
    )
    assert spec.budgets == (3e9, 6e9) and spec.lrs == (3e-3,)
    assert spec.seq_len == 32 and type(spec.seq_len) is int
    assert spec.seeds == (0, 1) and all(type(s) is int for s in spec.seeds)
    assert type(spec.dropout) is float
    assert len(plan_sweep(spec)) == 4


def test_numpy_booleans_are_still_not_numbers():
    with pytest.raises(InvalidInputError) as info:
        spec_from_dict({**BASE, "seq_len": np.bool_(True)})
    assert info.value.param == "seq_len"


@pytest.mark.parametrize("call", [plan_sweep, lambda s: run_sweep(s, "unused", executor="serial")])
@pytest.mark.parametrize("spec", [BASE, "spec.yaml"], ids=["dict", "path"])
def test_a_spec_that_is_not_a_sweepspec_is_named(call, spec, tmp_path, monkeypatch):
    """run_sweep(dict) raised AttributeError: 'dict' object has no attribute 'device'."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidInputError, match="spec_from_dict") as info:
        call(spec)
    assert info.value.param == "spec"
    assert not (tmp_path / "unused").exists()


@pytest.mark.parametrize(
    "out_dir", [None, 3, "/proc/tokenplan-sweep"], ids=["none", "int", "unwritable"]
)
def test_a_sweep_folder_that_cannot_be_made_is_named(out_dir):
    """run_sweep(spec, None) raised TypeError from Path(), and a folder in a read-only place (/proc/x)
    FileNotFoundError from mkdir (the CLI printed "'/proc/x' No such file or directory", no flag)."""
    pytest.importorskip("torch")  # run_sweep resolves the device first
    with pytest.raises(
        InvalidInputError, match=r"must be a folder path|cannot create the sweep folder"
    ) as e:
        run_sweep(spec_from_dict(BASE), out_dir, executor="serial")
    assert e.value.param == "out_dir"


def test_load_spec_given_no_path_names_it():
    """load_spec(None) (and Recipe.from_yaml(None)) raised TypeError from Path()."""
    from tokenplan.select import Recipe
    from tokenplan.sweep import load_spec

    with pytest.raises(
        InvalidInputError, match="sweep spec must be a file path, not NoneType"
    ) as e:
        load_spec(None)
    assert e.value.param == "spec_file"
    with pytest.raises(InvalidInputError, match="recipe must be a file path, not NoneType"):
        Recipe.from_yaml(None)
