"""Character n-gram TF-IDF (``tfidf-char``) and the warning for pools MiniLM reads poorly."""

import io
import json

import numpy as np
import pytest

from tokenplan.select.embed import TfidfSvdEmbedder, get_embedder, non_latin_share
from tokenplan.select.pipeline import _warn_script

FRUIT = ["我喜欢吃苹果和香蕉。", "苹果和香蕉都很好吃。", "我每天吃一个苹果。"]
WEATHER = ["今天的天气很好，阳光明媚。", "明天的天气会下雨。", "天气预报说今天很冷。"]


def _sims(emb: np.ndarray) -> tuple[float, float]:
    """Mean cosine within the two topics and across them."""
    s = emb @ emb.T
    within = (s[:3, :3].sum() - 3 + s[3:, 3:].sum() - 3) / 12
    return float(within), float(s[:3, 3:].mean())


def test_char_ngrams_read_text_without_spaces():
    texts = FRUIT + WEATHER
    char = get_embedder("tfidf-char").encode(texts)
    word = get_embedder("tfidf").encode(texts)
    within, across = _sims(char)
    assert within > across + 0.2  # shared characters (苹果, 天气) put each topic together
    # word n-grams see one "word" per clause: no two sentences share a term, no topic shows
    w_within, w_across = _sims(word)
    assert w_within < w_across + 0.05
    assert np.allclose(np.linalg.norm(char, axis=1), 1.0, atol=1e-5)


def test_char_embedder_has_its_own_identity():
    assert get_embedder("tfidf-char").name != get_embedder("tfidf").name  # cache keys differ
    assert get_embedder("tfidf-char").name.endswith(":char14")
    with pytest.raises(Exception, match="analyzer"):
        TfidfSvdEmbedder(analyzer="bytes")


@pytest.mark.parametrize(
    ("texts", "lo", "hi"),
    [
        (["Tell me a joke.", "Ça va? Él está aquí, naïve."], 0.0, 0.0),
        (FRUIT, 1.0, 1.0),
        (["Привет, как дела?"], 1.0, 1.0),
        (["用 Python 写一个程序"], 0.3, 0.5),  # 6 CJK letters, 6 Latin ones
        (["1234 ..."], 0.0, 0.0),
    ],
)
def test_non_latin_share(texts, lo, hi):
    assert lo <= non_latin_share(texts) <= hi


def _spool(texts) -> io.StringIO:
    return io.StringIO("".join(json.dumps(t) + "\n" for t in texts))


def test_warns_on_a_mostly_non_latin_pool_only():
    warnings: list[str] = []
    _warn_script(_spool(FRUIT + WEATHER + ["hello"]), warnings)
    assert len(warnings) == 1 and "--embedder tfidf-char" in warnings[0]
    assert "--method stratified-uniform" in warnings[0]  # the method that held up on such pools
    assert warnings[0].startswith("9")  # 9x% of the letters
    quiet: list[str] = []
    _warn_script(_spool(["Tell me a joke.", "What is AI?", "苹果"]), quiet)
    assert quiet == []
