"""help() on each law class names its paper and the equation or table its constants come from, so a
notebook user can check a number without opening the source."""

from __future__ import annotations

import inspect

import pytest

from tokenplan.laws import ChinchillaLaw, DataConstrainedLaw, KaplanLaw, PowerLawAllocation


@pytest.mark.parametrize(
    ("cls", "cites"),
    [
        (ChinchillaLaw, ["Hoffmann et al. 2022", "eq. 2"]),
        (PowerLawAllocation, ["Chinchilla Approaches 1 and 2"]),
        (DataConstrainedLaw, ["Muennighoff et al. 2023", "eqs. 5-6", "R_D* = 15.387756"]),
        (
            KaplanLaw,
            [
                "Kaplan et al. 2020",
                "eq. 1.1",
                "eq. 1.2",
                "eq. 1.3",
                "eq. 1.4",
                "eq. 1.5",
                "eq. 1.6",
                "Table 6",
            ],
        ),
    ],
)
def test_the_class_docstring_cites_its_source(cls, cites):
    doc = inspect.getdoc(cls)
    for cite in cites:
        assert cite in doc, f"{cls.__name__}'s docstring does not cite {cite!r}"
