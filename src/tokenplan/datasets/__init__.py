"""Published reference tables shipped with tokenplan (source and licence: ``datasets/README.md``).

>>> from tokenplan import datasets
>>> runs = datasets.load("chinchilla_fig4")        # a RunTable: 245 points of Hoffmann et al. 2022 Fig. 4
>>> len(runs), datasets.path("datablations_c4").name
(245, 'datablations_c4_runs.csv')

Run tables (``chinchilla_fig4``, ``datablations_c4``) load as :class:`tokenplan.runs.RunTable`; the model
shapes of Table A9 (``chinchilla_tableA9``) load as a dict of numpy columns. Only numpy and the csv module
are used (no pandas). Small SFT example pools live in the subpackage ``tokenplan.datasets.sft`` (its own
README names their sources and licences).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from tokenplan import _checks

__all__ = ["DATASETS", "FIT_EXAMPLES", "FIT_EXAMPLE_NAMES", "Dataset", "load", "path"]


@dataclass(frozen=True)
class Dataset:
    """One shipped table: its file, what it is, where it comes from, and how ``load`` reads it."""

    file: str
    description: str
    source: str
    licence: str
    kind: str = "runs"  # "runs" -> RunTable, "table" -> dict of columns


DATASETS: dict[str, Dataset] = {
    "chinchilla_fig4": Dataset(
        file="chinchilla_fig4_points.csv",
        description="245 (N, C, loss) points of Hoffmann et al. 2022 Fig. 4; D = C / (6N)",
        source="Besiroglu et al. 2024 (Epoch AI), extracted from Hoffmann et al. 2022 Fig. 4",
        licence="measurements of a published figure, shipped with attribution (see README)",
    ),
    "datablations_c4": Dataset(
        file="datablations_c4_runs.csv",
        description="182 C4 runs with repeated data (N, D, unique tokens, loss)",
        source="Muennighoff et al. 2023, huggingface/datablations",
        licence="Apache-2.0",
    ),
    "chinchilla_tableA9": Dataset(
        file="chinchilla_tableA9_models.csv",
        description="50 model shapes of Hoffmann et al. 2022 Table A9 (44M to 16.2B)",
        source="Hoffmann et al. 2022, Table A9",
        licence="transcribed from the paper, with attribution",
        kind="table",
    ),
}

# The run tables ``tokenplan fit --example NAME`` fits, by short name.
FIT_EXAMPLES: dict[str, str] = {"chinchilla": "chinchilla_fig4", "datablations": "datablations_c4"}
FIT_EXAMPLE_NAMES = tuple(FIT_EXAMPLES)


def path(name: str) -> Path:
    """The installed file of dataset ``name`` (one of :data:`DATASETS`)."""
    key = _checks.choice("name", name, DATASETS)
    return Path(str(resources.files(__name__).joinpath(DATASETS[key].file)))


def load(name: str, **read_options: Any):
    """Dataset ``name`` as a RunTable (run tables) or a dict of float columns (``chinchilla_tableA9``).

    ``read_options`` go to :func:`tokenplan.runs.read_runs` (e.g. ``drop_highest=5`` for Epoch's filter).
    """
    key = _checks.choice("name", name, DATASETS)
    file = path(key)
    if DATASETS[key].kind == "table":
        with file.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        return {col: np.array([float(r[col]) for r in rows]) for col in rows[0]}
    from dataclasses import replace

    from tokenplan.runs import read_runs

    # The source names the dataset, not the install path, so outputs read the same on every machine.
    return replace(read_runs(file, **read_options), source=f"tokenplan.datasets:{key}")
