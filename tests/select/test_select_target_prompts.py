"""Issue 11 through the CLI: seeds, --target, prompt-only pools, --budget-tokens, and bad input (one line
naming the flag, exit 2, nothing written)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import SELECT_DATA
from tokenplan.cli import main
from tokenplan.datasets import sft
from tokenplan.select.pipeline import Recipe, run

DATA = SELECT_DATA


def _cli(capsys, *args):
    with pytest.raises(SystemExit) as exc:
        main([*args])
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def _pool(tmp_path, rows, name="pool.jsonl"):
    path = tmp_path / name
    path.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8"
    )
    return path


def _rows(n=40):
    topics = ["cooking pasta sauce", "python list code", "football match goal", "tax money bank"]
    return [
        {
            "prompt": f"Question {i} about {topics[i % 4]}?",
            "response": f"Answer {i}: {topics[i % 4]} " * (1 + i % 5),
            "topic": topics[i % 4].split()[0],
        }
        for i in range(n)
    ]


BASE = ("--embedder", "tfidf", "--no-cache")


@pytest.mark.parametrize(
    "method", ["facility-cells", "facility-kcenter", "kcenter", "random", "kmeans-medoids"]
)
def test_same_seed_gives_byte_identical_output(capsys, tmp_path, method):
    pool = _pool(tmp_path, _rows())
    outs = []
    for seed, name in ((3, "a.jsonl"), (3, "b.jsonl"), (4, "c.jsonl")):
        code, _, err = _cli(
            capsys,
            "select",
            "-i",
            str(pool),
            "--n",
            "8",
            "--method",
            method,
            "--seed",
            str(seed),
            "-o",
            str(tmp_path / name),
            *BASE,
        )
        assert code == 0, err
        outs.append((tmp_path / name).read_bytes())
    assert outs[0] == outs[1]
    if method != "facility-kcenter":  # facility location draws nothing on a pool this small
        assert outs[0] != outs[2]


def test_target_selects_the_targets_topic(capsys, tmp_path):
    pool = _pool(tmp_path, _rows(80))
    target = _pool(
        tmp_path,
        [{"prompt": "How do I cook pasta sauce?"}, {"prompt": "Cooking pasta?"}],
        "t.jsonl",
    )
    code, out, err = _cli(
        capsys,
        "select",
        "-i",
        str(pool),
        "--target",
        str(target),
        "--n",
        "10",
        "--json",
        "--n-clusters",
        "4",
        *BASE,
    )
    assert code == 0, err
    rep = json.loads(out)["report"]
    topics = [_rows(80)[i]["topic"] for i in rep["selected"]]
    assert topics.count("cooking") >= 8, topics
    assert rep["method"] == "target:centroid"
    assert any("t.jsonl" in n for n in rep["notes"])


@pytest.mark.parametrize("example", ["whole row", "prompt only"])
def test_pool_rows_that_are_target_examples_are_left_out(capsys, tmp_path, example):
    """A target is often evaluation data: the pool rows that are its examples (same text, or the same
    prompt when the example has no answer) were selected first (5 of 20 on BELLE's math rows); they are
    now dropped before selection, counted as target_example, and the note says so."""
    rows = _rows(80)
    pool = _pool(tmp_path, rows)
    picked = [rows[0], rows[4], rows[8]]  # cooking
    if example == "prompt only":
        picked = [{"prompt": r["prompt"]} for r in picked]
    target = _pool(tmp_path, picked, "t.jsonl")
    args = ("--target", str(target), "--n", "10", "--json", "--n-clusters", "4", *BASE)
    code, out, err = _cli(capsys, "select", "-i", str(pool), *args)
    assert code == 0, err
    rep = json.loads(out)["report"]
    assert rep["drop_reasons"]["target_example"] == 3 and rep["n_candidates"] == 77
    assert not {0, 4, 8} & set(rep["selected"])
    assert any("3 pool row(s) that are those examples were left out" in n for n in rep["notes"])


def test_prompt_only_pool_gets_one_note_and_skips_answer_filters(capsys, tmp_path):
    rows = [{"prompt": r["prompt"]} for r in _rows()]
    pool = _pool(tmp_path, rows)
    code, out, err = _cli(
        capsys,
        "select",
        "-i",
        str(pool),
        "--n",
        "5",
        "--min-chars",
        "1000",
        "--drop-first-person",
        *BASE,
    )
    assert code == 0, err
    notes = [line for line in out.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "answer-based filters (length, first person, references)" in notes[0]
    # the same pool with an answer column named as absent: --fields PROMPT,
    qa = _pool(tmp_path, [{"q": r["prompt"], "a": r["response"]} for r in _rows()], "qa.jsonl")
    rep = run(
        Recipe(input=str(qa), fields=("q", ""), n_select=5, embedder="tfidf", cache_dir="none")
    )
    assert rep.n_candidates == 40 and rep.notes and rep.drop_reasons == {}


def test_a_prompt_only_pool_of_empty_prompts_is_not_told_it_lacks_answers(capsys, tmp_path):
    """Every prompt empty: the error said 'rows without an answer: for a prompt-only pool set --fields
    PROMPT,' to a pool read as prompt-only already."""
    pool = _pool(tmp_path, [{"question": " "}] * 3)
    code, _, err = _cli(capsys, "select", "-i", str(pool), "--n", "1", *BASE)
    assert code == 2 and "no candidates left" in err and "3 empty" in err
    assert "answer" not in err, err


def test_budget_tokens_fills_the_budget_in_pick_order(tmp_path):
    pool = _pool(tmp_path, _rows())
    rep = run(Recipe(input=str(pool), budget_tokens=120, embedder="tfidf", cache_dir="none"))
    assert 0 < rep.coverage.n_tokens <= 120
    more = run(Recipe(input=str(pool), budget_tokens=400, embedder="tfidf", cache_dir="none"))
    assert rep.n_selected < more.n_selected and more.coverage.n_tokens <= 400
    everything = run(
        Recipe(input=str(pool), budget_tokens=10**9, embedder="tfidf", cache_dir="none")
    )
    assert everything.n_selected == everything.n_candidates
    assert rep.guidance[0].source.startswith("Zhou et al. 2023")


def test_budget_tokens_baseline_spends_the_same_budget(capsys, tmp_path):
    """With a token budget the random baseline is random rows until the budget is spent (the method's rule),
    not as many rows as the method picked: those could spend more (338 tokens for a budget of 300 here)."""
    topics = ["cooking pasta sauce", "python list code", "football match goal", "tax money bank"]
    rows = [  # answers of 1 to 37 repeats: lengths spread wide
        {
            "prompt": f"Question {i} about {topics[i % 4]}?",
            "response": f"Answer {i}: {topics[i % 4]} " * (1 + (i % 7) ** 2),
        }
        for i in range(40)
    ]
    pool = _pool(tmp_path, rows)
    for budget in (300, 800, 2000):
        rep = run(Recipe(input=str(pool), budget_tokens=budget, embedder="tfidf", cache_dir="none"))
        assert (
            rep.baseline_matched_on == "tokens"
            and rep.baseline_label == "random, same token budget"
        )
        assert 0 < rep.random_baseline.n_tokens <= budget, (budget, rep.random_baseline)
    code, out, _ = _cli(capsys, "select", "-i", str(pool), "--budget-tokens", "300", *BASE)
    assert code == 0 and "random, same token budget" in out and "same size" not in out
    by_rows = run(Recipe(input=str(pool), n_select=5, embedder="tfidf", cache_dir="none"))
    assert by_rows.baseline_matched_on == "rows" and by_rows.random_baseline.n_selected == 5


def test_random_subset_under_a_token_budget_is_the_longest_random_prefix_that_fits():
    from tokenplan.select.pipeline import random_subset

    tokens = np.array([5, 5, 5, 5, 5, 5])
    rnd = random_subset(6, 1, seed=3, n_tokens=tokens, budget_tokens=12)
    assert len(rnd) == 2 and len(set(rnd.tolist())) == 2  # 5 + 5 fit 12, a third row would not
    order = np.random.default_rng(4).permutation(6)
    assert rnd.tolist() == order[:2].tolist()  # the prefix of the seed + 1 order
    tokens = np.full(6, 50)
    tokens[order[3]] = 7  # the first rows are each over the budget: the first one that fits
    assert random_subset(6, 1, seed=3, n_tokens=tokens, budget_tokens=10).tolist() == [order[3]]
    same_size = random_subset(6, 4, seed=3)
    assert len(same_size) == 4  # no budget: as many rows as the method picked


def test_shipped_example_pools_are_readable():
    assert sft.path("chatterbot").is_dir() and len(list(sft.path("chatterbot").glob("*.yml"))) == 21
    lines = sft.path("belle-eval").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1000 and {"question", "std_answer", "class"} <= set(json.loads(lines[0]))
    readme = (sft.path("chatterbot").parent / "README.md").read_text(encoding="utf-8")
    assert "BSD" in readme and "ODC-By" in readme and "alpaca" not in str(sft.POOLS).lower()


@pytest.mark.parametrize(
    ("extra", "flag"),
    [
        (("--domain-field", "nope", "--n", "3"), "--domain-field"),
        (("--target", "EMPTY_TARGET", "--n", "3"), "--target"),
        (("--target", "MISSING_TARGET", "--n", "3"), "--target"),
        (("--n", "41"), "--n"),
        (("--n", "0"), "--n"),
        (("--n", "3", "--min-chars", "100000"), "--min-chars"),
        (("--budget-tokens", "1"), "--budget-tokens"),
        (("--budget-tokens", "0"), "--budget-tokens"),
        (("--example", "alpaca", "--n", "3"), "--example"),
        (("--n", "3", "--method", "herding"), "--method"),
        (("--n", "3", "--format", "csvish"), "--format"),
        (("--n", "3", "--target", "EMPTY_TARGET", "--target-method", "mean"), "--target-method"),
        (("--n", "3", "--embed-backend", "tpu"), "--embed-backend"),
    ],
)
def test_bad_input_one_line_naming_the_flag_exit_2_nothing_written(capsys, tmp_path, extra, flag):
    pool = _pool(tmp_path, _rows())
    empty = tmp_path / "empty_target.jsonl"
    empty.write_text('{"unrelated": 1}\n', encoding="utf-8")
    extra = [
        {"EMPTY_TARGET": str(empty), "MISSING_TARGET": str(tmp_path / "nope.jsonl")}.get(a, a)
        for a in extra
    ]
    args = ["select", *([] if "--example" in extra else ["-i", str(pool)]), *extra]
    out_path = tmp_path / "out.jsonl"
    code, out, err = _cli(capsys, *args, "-o", str(out_path), *BASE)
    assert code == 2, out + err
    assert len(err.strip().splitlines()) == 1 and flag in err, err
    assert "invalid recipe" not in err, err  # flags alone: there is no recipe file
    assert "Traceback" not in err
    assert not out_path.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty_target.jsonl", "pool.jsonl"]


def test_random_baseline_and_methods_agree_on_the_pool_positions():
    """select_by_tokens keeps the method's pick order: its picks are a prefix of the method's own."""
    from tokenplan.select.methods import Pool, select, select_by_tokens

    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 6)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    tokens = np.full(50, 10)
    sel = select_by_tokens(Pool(embeddings=x), tokens, 95, method="facility-location")
    assert len(sel) == 9
    np.testing.assert_array_equal(
        sel.indices, select(Pool(embeddings=x), 9, method="facility-location").indices
    )


@pytest.mark.parametrize(
    "key", ["method", "target_method", "row_format", "embedder", "embed_backend"]
)
def test_an_unknown_name_in_a_recipe_names_its_key(key):
    """The recipe's error carries the field, so the CLI names the flag and a recipe its key."""
    from tokenplan.errors import InvalidInputError
    from tokenplan.select.pipeline import Recipe

    with pytest.raises(InvalidInputError, match="no-such-name") as err:
        Recipe(input="pool.jsonl", n_select=3, **{key: "no-such-name"})
    assert err.value.param == key


def test_the_half_percent_guidance_quotes_the_papers_baseline():
    """Chen et al. 2023's abstract: the 0.5% subset beat models trained on the *full task-related data*, not
    on all of P3 (a misquote the guidance carried until 2026-12-03)."""
    from tokenplan.select.guidance import quantity_guidance

    for target in (False, True):
        half = [g for g in quantity_guidance(50, 1000, target=target) if "0.5%" in g.text]
        assert len(half) == 1, half
        assert "+2% over the full task-related data" in half[0].text, half[0].text
        assert "all of P3" not in half[0].text
