"""Ray backend on a local instance: Ray Data embedding actors and one task per cluster give the same answers
as the local code."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import SELECT_DATA

pytestmark = [pytest.mark.ray, pytest.mark.timeout(90)]


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()


def test_kcenter_per_cluster_one_ray_task_per_cluster_matches_threads(ray_local):
    from tokenplan.select.cluster import kmeans
    from tokenplan.select.methods import Pool, select

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    pool = Pool(embeddings=x, clusters=kmeans(x, 5, seed=0, backend="numpy"))
    local = select(pool, 40, method="kcenter-per-cluster", n_workers=2)
    remote = select(pool, 40, method="kcenter-per-cluster", ray_address="local")
    np.testing.assert_array_equal(local.indices, remote.indices)
    np.testing.assert_allclose(local.scores, remote.scores)


def test_ray_data_embedding_actors_match_local_embedding(ray_local):
    pytest.importorskip("sentence_transformers")
    from tokenplan.select.embed import get_embedder
    from tokenplan.select.ray_backend import embed_ray

    texts = [f"Question {i}: how do I fix error number {i * 7}?" for i in range(24)]
    got = embed_ray(texts, embedder="minilm", address="local", n_actors=1, batch_size=8)
    want = get_embedder("minilm").encode(texts)
    assert got.shape == (24, 384)
    np.testing.assert_allclose(got, want, atol=1e-5)  # rows come back in input order


def test_pipeline_on_ray_embeds_and_selects_per_cluster(ray_local, tmp_path):
    pytest.importorskip("sentence_transformers")

    from tokenplan.select.pipeline import Recipe, run

    pool = SELECT_DATA / "tiny_alpaca.json"
    kw = dict(input=str(pool), n_select=4, method="kcenter-per-cluster", n_clusters=2)
    on_ray = run(Recipe(**kw, ray_address="local", cache_dir="none"))
    local = run(Recipe(**kw, cache_dir=str(tmp_path)))
    # the default ensemble: its MiniLM part on Ray, its character n-grams here, the same picks
    assert on_ray.embedder == "minilm+tfidf-char (ray)"
    assert on_ray.selected.tolist() == local.selected.tolist()
    alone = run(Recipe(**kw, embedder="minilm", ray_address="local", cache_dir="none"))
    assert alone.embedder == "minilm (ray)"
