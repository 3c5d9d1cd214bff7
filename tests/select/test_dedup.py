"""Exact, near (MinHash LSH) and semantic dedup; the chatterbot corpus's exact copies."""

from __future__ import annotations

import collections

import numpy as np
import pytest
import yaml

from helpers import shared_file
from tokenplan.errors import InvalidInputError
from tokenplan.select.dedup import ExactDeduper, MinHashDeduper, normalise, semantic_duplicates
from tokenplan.select.pipeline import Recipe, run


def test_exact_dedup_normalises_case_space_and_unicode():
    d = ExactDeduper()
    assert normalise("  Hello\u00a0 WORLD\n") == "hello world"
    assert [
        d.is_duplicate(t) for t in ["Hello world", "hello   world", "ＨＥＬＬＯ world", "Hello"]
    ] == [
        False,
        True,
        True,  # NFKC folds full-width letters
        False,
    ]


def test_minhash_near_dedup_finds_a_one_word_edit_but_not_a_different_text():
    pytest.importorskip("datasketch")
    base = " ".join(f"word{i}" for i in range(80))
    edited = base.replace("word40", "changed")
    other = " ".join(f"other{i}" for i in range(80))
    d = MinHashDeduper(threshold=0.8, seed=1)
    assert [d.is_duplicate(t) for t in (base, edited, other)] == [False, True, False]
    with pytest.raises(InvalidInputError, match="near_threshold"):
        MinHashDeduper(threshold=1.5)


def _edited_pairs(n_words: int, edits: tuple[int, ...], n_pairs: int = 30) -> list[str]:
    """``n_pairs`` texts of distinct words, each followed by a copy with the words at ``edits`` replaced."""
    texts = []
    for i in range(n_pairs):
        words = [f"p{i}w{j}" for j in range(n_words)]
        texts += [
            " ".join(words),
            " ".join("edit" if j in edits else w for j, w in enumerate(words)),
        ]
    return texts


@pytest.mark.parametrize(
    ("n_words", "edits", "jaccard", "found"),
    [
        (42, (20,), 37 / 43, 30),  # one word in the middle: 3 of 40 shingles change
        (29, (14,), 24 / 30, 30),  # exactly at the threshold
        (90, (10, 30, 50, 70), 76 / 100, 0),  # four words: below it
    ],
)
def test_near_dedup_is_exact_at_the_threshold(n_words, edits, jaccard, found):
    """LSH alone found 24 of 30 one-word edits at Jaccard 0.86 (and at 0.8 fewer than half, while dropping
    some pairs at 0.76): its candidates are now checked with the exact Jaccard, from bands set for recall."""
    pytest.importorskip("datasketch")
    d = MinHashDeduper(threshold=0.8, seed=1)
    texts = _edited_pairs(n_words, edits)
    a, b = (d._shingles(t) for t in texts[:2])
    assert len(a & b) / len(a | b) == pytest.approx(jaccard)
    flags = [d.is_duplicate(t) for t in texts]
    assert not any(flags[0::2]) and sum(flags[1::2]) == found


def test_lsh_bands_reach_the_recall_asked_for():
    from tokenplan.select.dedup import lsh_bands

    assert lsh_bands(0.8, 128) == (25, 5) and lsh_bands(0.5, 128) == (64, 2)
    for t in (0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99):
        bands, rows = lsh_bands(t, 128)
        assert bands * rows <= 128 and 1 - (1 - t**rows) ** bands >= 0.999
        more = rows + 1  # one more row per band would miss more than 0.1% of the pairs at t
        assert 1 - (1 - t**more) ** (128 // more) < 0.999


def test_semantic_dedup_is_greedy_against_kept_rows_only():
    """a ~ b (cos 0.995), b ~ c (cos 0.995) but a, c further apart (cos 0.98): b is dropped as a copy of a;
    c is compared with kept rows only (a), so it is kept."""
    ang = np.deg2rad([0.0, 5.7, 11.4, 90.0])
    x = np.stack([np.cos(ang), np.sin(ang)], axis=1).astype(np.float32)
    assert np.isclose(x[0] @ x[1], 0.995, atol=1e-3) and np.isclose(x[0] @ x[2], 0.980, atol=1e-3)
    dup = semantic_duplicates(x, threshold=0.99)
    assert dup.tolist() == [False, True, False, False]
    # same answer in small blocks (cross-block comparisons) and within clusters
    assert semantic_duplicates(x, threshold=0.99, block=1).tolist() == dup.tolist()
    labels = np.array([0, 0, 0, 1])
    assert semantic_duplicates(x, threshold=0.99, labels=labels).tolist() == dup.tolist()
    # clusters separate rows: a copy in another cluster is not compared
    assert semantic_duplicates(x, threshold=0.99, labels=np.array([0, 1, 0, 1])).tolist() == [
        False,
        False,
        False,
        False,
    ]


def _chatterbot_conversations(root):
    convs = []
    for f in sorted(root.glob("*.yml")):
        for conv in yaml.safe_load(f.read_text())["conversations"]:
            if isinstance(conv, list) and len(conv) >= 2:
                convs.append(tuple(str(t) for t in conv))
    return convs


def test_chatterbot_exact_dedup_removes_every_copy():
    """chatterbot-corpus 1.3.3 (21 files): exact dedup keeps one copy per distinct conversation. The count is
    computed here independently from the YAML; the most-copied pair ("My printer is not printing.") occurs
    121 times and is kept once."""
    root = shared_file("sft/chatterbot_english")
    convs = _chatterbot_conversations(root)
    counts = collections.Counter(convs)
    ((top, n_top),) = counts.most_common(1)
    assert top[0] == "My printer is not printing." and n_top == 121
    report = run(
        Recipe(input=str(root), n_select=100, method="lima", embedder="tfidf", cache_dir="none")
    )
    assert report.n_malformed == 1  # trivia.yml has one bare string where a [q, a] pair belongs
    assert report.drop_reasons == {"exact_duplicate": len(convs) - len(counts)}
    assert report.n_candidates == len(counts)
    assert len(report.coverage.per_domain) == 21  # 21 categories, every one sampled
