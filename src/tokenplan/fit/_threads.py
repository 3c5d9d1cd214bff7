"""One BLAS thread around the fits' small optimisations (scipy's L-BFGS-B from a start, one row at a time).

Each step of such a fit calls BLAS on a few vectors or a 5 x 5 to 10 x 10 matrix; with OpenBLAS's default of
one thread per core, every call wakes the other threads and waits for them, which on 2 busy cores costs more
than the arithmetic: the Chinchilla fit's floor check (E held at ~0, one L-BFGS-B run) took 0.5-2.0 s with 2
threads and 0.04 s with one, the data-constrained fit on 182 runs 3.4-4.3 s against 0.4-0.8 s (docs/
benchmarks.md, "BLAS threads in the fit"). The batched solver's large matrices are left to BLAS's default.

threadpoolctl (a dependency) sets the limit only inside the ``with`` block and restores the previous value on
leaving it; while the block runs the limit is process-wide, as BLAS's thread count is. Without threadpoolctl
the block does nothing: slower, the same numbers.
"""

from __future__ import annotations

import contextlib
import functools

__all__ = ["one_blas_thread"]


@functools.cache
def _controller():
    """threadpoolctl's view of the loaded BLAS libraries (scipy's and numpy's), built once: listing them
    costs ~2 ms a call, limiting through a built controller ~0.01 ms."""
    import scipy.optimize  # noqa: F401  (loads scipy's own BLAS before the libraries are listed)

    try:
        from threadpoolctl import ThreadpoolController
    except ModuleNotFoundError:  # pragma: no cover - a dependency; only a broken install lacks it
        return None
    return ThreadpoolController()


def one_blas_thread() -> contextlib.AbstractContextManager:
    """A context in which BLAS runs on one thread (module docstring)."""
    controller = _controller()
    if controller is None:  # pragma: no cover
        return contextlib.nullcontext()
    return controller.limit(limits=1, user_api="blas")
