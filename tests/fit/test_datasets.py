"""tokenplan.datasets: the packaged reference tables are the shared copies, load without pandas, and feed
`tokenplan fit --example`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import SHARED_DATA, run_cli
from tokenplan import datasets
from tokenplan.errors import UnknownNameError


@pytest.mark.parametrize("name", sorted(datasets.DATASETS))
def test_packaged_copy_is_byte_identical_to_reference(name):
    ref = SHARED_DATA / datasets.DATASETS[name].file
    if not ref.exists():
        pytest.skip("../shared/data is absent: nothing to compare with")
    assert datasets.path(name).read_bytes() == ref.read_bytes()


def test_every_file_is_described_in_the_readme():
    readme = (datasets.path("chinchilla_fig4").parent / "README.md").read_text()
    for name, ds in datasets.DATASETS.items():
        assert f"`{name}`" in readme and ds.file in readme
    assert "Apache 2.0" in readme


def test_loads():
    fig4 = datasets.load("chinchilla_fig4")
    assert len(fig4) == 245 and fig4.source == "tokenplan.datasets:chinchilla_fig4"
    np.testing.assert_allclose(fig4.n_tokens, fig4.flops / (6 * fig4.n_params))
    c4 = datasets.load("datablations_c4")
    assert len(c4) == 182 and c4.has_unique_tokens
    assert c4.n_params.min() == pytest.approx(7.1e6, rel=0.01)
    assert c4.n_params.max() == pytest.approx(8.67e9)
    shapes = datasets.load("chinchilla_tableA9")
    assert len(shapes["params"]) == 50 and shapes["n_layers"].dtype == float
    assert len(datasets.load("chinchilla_fig4", drop_highest=5)) == 240


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(UnknownNameError, match="chinchilla_fig4"):
        datasets.load("alpaca")


def test_fit_example_runs_from_an_empty_folder(tmp_path):
    """A user without ../shared: the example data comes with the package."""
    r = run_cli(
        "fit", "--example", "datablations", "--law", "data-constrained", "--json", cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["runs"]["n_used"] == 182
    assert out["fits"]["data-constrained"]["objective"] == pytest.approx(0.0158259, rel=1e-4)


@pytest.mark.parametrize(
    "args", [("fit",), ("fit", "x.csv", "--example", "chinchilla"), ("fit", "--example", "nope")]
)
def test_fit_needs_exactly_one_source(args, tmp_path):
    r = run_cli(*args, cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
