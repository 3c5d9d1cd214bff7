"""`tokenplan data chatterbot` labels each conversation with its YAML file under `domain`, the column
`tokenplan select` reads without --domain-field (LIMA's domains, per-domain counts); it wrote `source`
('ai.yml'), which select did not read (`--method lima` stopped: 'give their column, domain_field'). Files
written before keep working: select reads `source` when a row has no `domain`."""

from __future__ import annotations

import json
import zipfile

import pytest

from helpers import run_cli
from tokenplan.select.io import ReadStats, iter_records
from tokenplan.sweep.data import prepare_chatterbot

ROWS = [
    ("Hi\nHello there, how are you doing today my friend", "greetings"),
    ("What is AI?\nArtificial intelligence is a branch of computer science", "ai"),
    ("Tell me a joke\nWhy did the chicken cross the road to get", "humor"),
]


def _wheel(tmp_path):
    wheel = tmp_path / "chatterbot_corpus-1.3.3-py2.py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(
            "chatterbot_corpus/data/english/greetings.yml",
            "conversations:\n- - Hello\n  - Hi there\n",
        )
        zf.writestr("chatterbot_corpus/data/english/ai.yml", "conversations:\n- - AI?\n  - Yes.\n")
    return wheel


def test_data_chatterbot_writes_a_domain_column(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "chatterbot_corpus" else real(n, *a)
    )
    out = tmp_path / "c.jsonl"
    prepare_chatterbot(out, cache_dir=tmp_path, archive=_wheel(tmp_path))
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert rows == [
        {"text": "AI?\nYes.", "domain": "ai"},
        {"text": "Hello\nHi there", "domain": "greetings"},
    ]


@pytest.mark.parametrize(("column", "suffix"), [("domain", ""), ("source", ".yml")])
def test_select_reads_the_domain_of_new_and_old_files(tmp_path, column, suffix):
    path = tmp_path / "pool.jsonl"
    path.write_text("".join(json.dumps({"text": t, column: d + suffix}) + "\n" for t, d in ROWS))
    stats = ReadStats()
    records = list(iter_records(path, stats=stats))
    assert [r.domain for r in records] == [d + suffix for _, d in ROWS]
    assert stats.other_text_columns == ()  # the label is not offered as a possible answer column
    r = run_cli("select", "-i", str(path), "--n", "2", "--method", "lima", "--embedder", "tfidf")
    assert r.returncode == 0, r.stderr
    assert "per domain (" in r.stdout and f"--fields text,{column}" not in r.stdout + r.stderr


def test_a_domain_column_wins_over_source(tmp_path):
    path = tmp_path / "pool.jsonl"
    path.write_text(json.dumps({"text": "a\nb", "domain": "x", "source": "y.yml"}) + "\n")
    assert [r.domain for r in iter_records(path)] == ["x"]


def test_the_report_counts_domains_covered_against_randoms_exact_mean(tmp_path):
    """12 rows, 3 domains of 6, 4 and 2 rows; n = 2: a uniform pair misses a domain of s rows with
    probability C(12 - s, 2) / C(12, 2), so it covers 3 - (15 + 28 + 45) / 66 = 1.67 domains on average."""
    path = tmp_path / "pool.jsonl"
    sizes = {"math": 6, "poems": 4, "code": 2}
    rows = [
        (f"{d} question {i} about {d} {'x' * i}", d) for d, k in sizes.items() for i in range(k)
    ]
    path.write_text(
        "".join(json.dumps({"prompt": t, "response": t, "domain": d}) + "\n" for t, d in rows)
    )
    r = run_cli("select", "-i", str(path), "--n", "2", "--embedder", "tfidf", "--json")
    assert r.returncode == 0, r.stderr
    cov = json.loads(r.stdout)["report"]["coverage"]
    assert cov["n_domains"] == 3 and cov["domains_covered"] == len(cov["per_domain"])
    assert cov["domains_random_mean"] == pytest.approx(3 - (15 + 28 + 45) / 66)
    r = run_cli("select", "-i", str(path), "--n", "2", "--embedder", "tfidf")
    assert "domains; a uniform random subset of 2 covers 1.7 on average)" in r.stdout
    assert "│ domains covered " in r.stdout
