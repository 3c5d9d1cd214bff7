"""Accelerators the planner knows: peak dense bf16 throughput and memory, with the source of each figure.

This is a data module. Figures are the vendors' *dense* (no structured sparsity) bf16 tensor-core peaks for
the SXM/OAM board versions; datasheets often print the 2:4-sparsity number first, which is twice these. Real
training reaches a fraction of the peak (model FLOPs utilisation, MFU; 0.3-0.5 is typical for large dense
transformers), which the planner applies on top. No prices are built in: they change monthly and differ by
provider; pass ``price_per_gpu_hour`` (``--price-per-gpu-hour``) to get a cost.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenplan import _checks
from tokenplan._record import record

__all__ = ["ACCELERATORS", "Accelerator", "get_accelerator"]

GB = 1e9


@dataclass(frozen=True)
class Accelerator:
    """One accelerator model."""

    name: str
    #: Peak dense bf16 tensor throughput in FLOP/s (no sparsity).
    peak_flops: float
    #: Device memory in bytes (decimal GB as the vendors print them).
    memory_bytes: float
    #: Where the figures come from.
    source: str

    def to_dict(self) -> dict[str, object]:
        return record(self, "name peak_flops memory_bytes source")


ACCELERATORS: dict[str, Accelerator] = {
    # NVIDIA A100 Tensor Core GPU datasheet: BF16 Tensor Core 312 TFLOPS (624 with sparsity); 80 GB HBM2e.
    "A100": Accelerator(
        "A100", 312e12, 80 * GB, "NVIDIA A100 datasheet (SXM4 80GB): 312 TFLOPS bf16"
    ),
    # NVIDIA H100 datasheet, SXM: BF16 Tensor Core 1,979 TFLOPS *with sparsity* -> 989 dense; 80 GB HBM3.
    "H100": Accelerator(
        "H100", 989e12, 80 * GB, "NVIDIA H100 datasheet (SXM5): 989 TFLOPS dense bf16"
    ),
    # NVIDIA H200 datasheet, SXM: same compute as H100 SXM (1,979 sparse -> 989 dense); 141 GB HBM3e.
    "H200": Accelerator(
        "H200", 989e12, 141 * GB, "NVIDIA H200 datasheet (SXM): 989 TFLOPS dense bf16"
    ),
    # NVIDIA HGX B200 datasheet: FP16/BF16 Tensor Core 4.5 PFLOPS per GPU with sparsity -> 2.25 PFLOPS
    # dense; 180 GB HBM3e per GPU (1.44 TB per 8-GPU board).
    "B200": Accelerator(
        "B200", 2.25e15, 180 * GB, "NVIDIA HGX B200 datasheet: 2.25 PFLOPS dense bf16"
    ),
    # AMD Instinct MI300X datasheet: peak BF16 1,307.4 TFLOPS dense (2,614.9 with sparsity); 192 GB HBM3.
    "MI300X": Accelerator(
        "MI300X", 1307.4e12, 192 * GB, "AMD Instinct MI300X datasheet: 1,307.4 TFLOPS dense bf16"
    ),
    # NVIDIA L40S datasheet: BF16 Tensor Core 362.05 TFLOPS (733 with sparsity); 48 GB GDDR6.
    "L40S": Accelerator("L40S", 362.05e12, 48 * GB, "NVIDIA L40S datasheet: 362 TFLOPS dense bf16"),
    # NVIDIA Ada Lovelace architecture whitepaper, GeForce RTX 4090: peak BF16 tensor TFLOPS with FP32
    # accumulate 165.2 (330.4 with sparsity); 24 GB GDDR6X.
    "RTX4090": Accelerator(
        "RTX4090",
        165.2e12,
        24 * GB,
        "NVIDIA Ada whitepaper, RTX 4090: 165.2 TFLOPS dense bf16 (fp32 accumulate)",
    ),
}

# Spellings people type for the same device.
_ALIASES = {
    "RTX 4090": "RTX4090",
    "RTX-4090": "RTX4090",
    "4090": "RTX4090",
    "MI300": "MI300X",
}


def get_accelerator(name: str) -> Accelerator:
    """An accelerator by name (case-insensitive; ``"RTX 4090"`` and ``"rtx4090"`` both work)."""
    text = str(name).strip()
    key = {k.lower(): v for k, v in _ALIASES.items()}.get(text.lower(), text)
    return ACCELERATORS[_checks.choice("GPU", key, ACCELERATORS, param="gpu")]
