"""The accelerator table (tokenplan.hardware): vendors' dense bf16 peaks."""

from __future__ import annotations

import pytest

from tokenplan import UnknownNameError
from tokenplan.hardware import ACCELERATORS, get_accelerator


def test_every_requested_accelerator_is_present_with_a_source():
    assert set(ACCELERATORS) == {"A100", "H100", "H200", "B200", "MI300X", "L40S", "RTX4090"}
    for acc in ACCELERATORS.values():
        assert 1e14 < acc.peak_flops < 1e16
        assert acc.memory_bytes >= 24e9
        assert acc.source


@pytest.mark.parametrize(
    ("name", "tflops"),
    [
        ("A100", 312),
        ("H100", 989),
        ("H200", 989),
        ("B200", 2250),
        ("MI300X", 1307.4),
        ("L40S", 362.05),
    ],
)
def test_dense_bf16_peaks(name, tflops):
    """Datasheet dense (not 2:4 sparse) bf16 tensor peaks, e.g. H100 SXM 989 TFLOPS (1,979 sparse)."""
    assert get_accelerator(name).peak_flops == pytest.approx(tflops * 1e12)


def test_names_are_forgiving_and_unknown_lists_valid():
    assert get_accelerator("h100").name == "H100"
    assert get_accelerator("RTX 4090").name == "RTX4090"
    assert get_accelerator("rtx4090").peak_flops == pytest.approx(165.2e12)
    with pytest.raises(UnknownNameError, match="MI300X"):
        get_accelerator("V100")
