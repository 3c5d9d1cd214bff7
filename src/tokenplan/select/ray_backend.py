"""Running the heavy stages on Ray: embedding with Ray Data ``map_batches`` over embedding actors, and one
Ray task per K-Means cluster for ``kcenter-per-cluster``.

``address`` is passed to ``ray.init``: ``"local"`` starts a local instance (2 CPUs, no dashboard), ``"auto"``
joins a running cluster, ``"ray://host:port"`` a remote one. Ray is initialised only if it is not already.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tokenplan.errors import MissingDependencyError
from tokenplan.select.kcenter import kcenter_from_center

__all__ = ["embed_ray", "kcenter_clusters_ray"]


def _ray(address: str | None):
    try:
        import ray
    except ImportError:
        raise MissingDependencyError("ray", "ray") from None
    if not ray.is_initialized():
        if address in (None, "local"):
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address, log_to_driver=False)
    return ray


class _EmbedActor:
    """One embedder per actor, built once, applied to each batch of rows (``text`` -> ``embedding``)."""

    def __init__(self, spec: dict) -> None:
        from tokenplan.select.embed import get_embedder

        self.embedder = get_embedder(spec["name"], model=spec.get("model"))

    def __call__(self, batch: dict) -> dict:
        vecs = self.embedder.encode([str(t) for t in batch["text"]])
        return {"row": batch["row"], "embedding": vecs}


def embed_ray(
    texts: Sequence[str],
    *,
    embedder: str = "minilm",
    model: str | None = None,
    address: str | None = "local",
    n_actors: int = 1,
    batch_size: int = 256,
) -> np.ndarray:
    """Embed ``texts`` with Ray Data: ``map_batches`` over ``n_actors`` embedding actors; rows keep order.

    Only batched embedders (``minilm``, ``hf``) run on Ray; the TF-IDF fallback is fitted on the whole pool.
    """
    _ray(address)
    import ray.data

    ctx = ray.data.DataContext.get_current()
    bars = ctx.enable_progress_bars
    # the library never prints; the caller's setting is restored below
    ctx.enable_progress_bars = False
    try:
        ds = ray.data.from_items([{"row": i, "text": t} for i, t in enumerate(texts)])
        ds = ds.map_batches(
            _EmbedActor,
            fn_constructor_kwargs={"spec": {"name": embedder, "model": model}},
            batch_size=batch_size,
            concurrency=n_actors,
            batch_format="numpy",
        )
        out = None
        for batch in ds.iter_batches(batch_format="numpy", batch_size=4096):
            emb = np.asarray(batch["embedding"], dtype=np.float32)
            if out is None:
                out = np.empty((len(texts), emb.shape[1]), dtype=np.float32)
            out[np.asarray(batch["row"], dtype=np.int64)] = emb
    finally:
        ctx.enable_progress_bars = bars
    return out if out is not None else np.zeros((0, 1), np.float32)


def _cluster_task(x: np.ndarray, members: np.ndarray, centroid: np.ndarray, k: int):
    return kcenter_from_center(x[members], k, centroid)


def kcenter_clusters_ray(
    x: np.ndarray, centroids: np.ndarray, jobs: list[tuple[int, np.ndarray, int]], *, address: str
) -> list[tuple[np.ndarray, np.ndarray]]:
    """One Ray task per cluster: KCenterGreedy inside cluster c with its budget; results in job order."""
    ray = _ray(address)
    task = ray.remote(_cluster_task)
    x_ref = ray.put(np.asarray(x, dtype=np.float32))  # shared once through the object store
    refs = [task.remote(x_ref, members, centroids[c], k) for c, members, k in jobs]
    return ray.get(refs)
