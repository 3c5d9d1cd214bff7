"""`tokenplan select` through the real entry point; shipped recipes; recipe validation."""

from __future__ import annotations

import json
import re
from importlib.resources import files
from pathlib import Path

import pytest

from helpers import SELECT_DATA, run_cli
from tokenplan.errors import InvalidInputError
from tokenplan.select.filters import FilterConfig
from tokenplan.select.pipeline import Recipe

DATA = SELECT_DATA
EXAMPLES = sorted(Path(str(files("tokenplan.select") / "examples")).glob("*.yaml"))


def test_examples_are_shipped():
    assert {p.name for p in EXAMPLES} >= {"lima.yaml", "coreset-0.5pct.yaml"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_shipped_recipe_loads(path):
    recipe = Recipe.from_yaml(path)
    assert recipe.input and recipe.method
    assert (recipe.n_select is None) != (recipe.fraction is None)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_a_shipped_recipe_that_leaves_the_default_embedder_says_why(path):
    """A recipe that reproduces a paper may embed otherwise than the default; its comment says so."""
    from tokenplan.select.embed import DEFAULT_EMBEDDER

    recipe = Recipe.from_yaml(path)
    if recipe.embedder != DEFAULT_EMBEDDER:
        comments = " ".join(
            line.split("#", 1)[1] for line in path.read_text().splitlines() if "#" in line
        )
        assert f"not the default {DEFAULT_EMBEDDER}" in comments, path.name


def test_recipe_reports_every_problem_at_once(tmp_path):
    with pytest.raises(InvalidInputError) as exc:
        Recipe(input="x.jsonl", n_select=-3, method="herding", embedder="bert", tau=0)
    msg = str(exc.value)
    for part in ("n_select=-3", "herding", "bert", "tau=0"):
        assert part in msg
    with pytest.raises(InvalidInputError, match="exactly one of n_select"):
        Recipe(input="x.jsonl", n_select=5, fraction=0.1)
    bad = tmp_path / "r.yaml"
    bad.write_text("input: a.jsonl\nn_select: 5\nmethd: random\n")
    with pytest.raises(InvalidInputError, match=r"unknown recipe key.*methd.*valid keys"):
        Recipe.from_yaml(bad)
    bad.write_text("input: [a\n")
    with pytest.raises(InvalidInputError, match="not valid YAML"):
        Recipe.from_yaml(bad)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty; give at least input: POOL and n_select: N"),
        ("  \n\n", "is empty"),
        ("# only a comment\n", "is empty"),
        (
            "input: a.jsonl\nn_select: 5\nmethod: [fac",
            "not valid YAML (line 3, column 13: expected",
        ),
        ("input: a.jsonl\nn_sel", "not valid YAML (line 2, column 6"),
        ("input: a.jsonl\n", "give exactly one of n_select"),  # cut after its first line
        ("n_select: 5\n", "input is required"),
        # YAML keeps a key's last value in silence: n_select 6 was run, the 5 above it unread
        ("input: a.jsonl\nn_select: 5\nn_select: 6\n", "gives the key 'n_select' twice (lines 2"),
    ],
    ids=[
        "empty",
        "blank",
        "comment",
        "cut-in-a-list",
        "cut-in-a-key",
        "cut-after-input",
        "no-input",
        "duplicate-key",
    ],
)
def test_a_bad_recipe_file_is_one_line_naming_the_file(tmp_path, text, message):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(text)
    r = run_cli("select", str(recipe))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and f"recipe {str(recipe)!r}" in lines[0] and message in lines[0]
    assert "RECIPE:" not in lines[0]  # the file is named once, not as the argument and again


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("domain_field: 5", "domain_field must be a column name (a string), not int."),
        ("score_field: [a]", "score_field must be a column name (a string), not list."),
        ("cache_dir: 5", "cache_dir must be a folder path or 'none' (a string), not int."),
        ("plot: [a.png]", "plot must be a file path (a string), not list."),
        ("model: 5", "model must be a model folder (a string), not int."),
        ("embeddings: 5", "embeddings must be a path to a .npy file (a string), not int; save an"),
        ("target: 5", "target must be a path (a string), not int; write rows in memory to a JSONL"),
        # '' (an unset variable in a templated recipe) was read as no output and nothing was written,
        # exit 0, as the flags' '' was before a0dabdb
        ('output: ""', "output is an empty path; give a file name, or leave the key out."),
        ('report: " "', "report is an empty path; give a file name, or leave the key out."),
        ("plot: ''", "plot is an empty path; give a file name, or leave the key out."),
    ],
)
def test_a_recipe_key_of_the_wrong_type_says_what_it_must_be(tmp_path, line, message):
    """Every path or name key of the wrong type was 'must be a path (a string) ...; write rows in memory
    to a JSONL file first.', the fix for rows given as `input` in Python: a column name is no path, and
    no rows are in memory in a YAML file."""
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"input: a.jsonl\nn_select: 5\n{line}\n")
    r = run_cli("select", str(recipe))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert r.stderr.startswith(f"tokenplan: error: recipe {str(recipe)!r}: {message}")


def test_a_recipe_error_names_the_flag_only_when_a_flag_gave_the_value(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("input: a.jsonl\nn_select: 0\n")
    r = run_cli("select", str(recipe))
    assert r.returncode == 2 and "--n" not in r.stderr and "n_select=0 must be > 0" in r.stderr
    r = run_cli("select", str(recipe), "--fraction", "1.5")  # the flag's value replaces n_select
    assert r.returncode == 2 and r.stderr.startswith(
        f"tokenplan: error: --fraction: recipe {str(recipe)!r} with the flags given: fraction=1.5"
    )
    r = run_cli("select", str(recipe), "--n", "-1")  # a count flag refuses it before the recipe
    assert r.returncode == 2 and "--n='-1' must be a whole number > 0" in r.stderr
    r = run_cli("select", str(tmp_path / "missing.yaml"))
    assert (
        r.returncode == 2 and "'" + str(tmp_path / "missing.yaml") + "' does not exist" in r.stderr
    )


def test_cli_end_to_end_json_output_and_provenance(tmp_path):
    out = tmp_path / "subset.json"
    before = (DATA / "tiny_alpaca.json").read_bytes()
    r = run_cli(
        "select",
        "-i",
        str(DATA / "tiny_alpaca.json"),
        "-o",
        str(out),
        "--n",
        "4",
        "--method",
        "task-center",
        "--domain-field",
        "domain",
        "--embedder",
        "tfidf",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--n-clusters",
        "3",
        "--plot",
        str(tmp_path / "map.png"),
        "--json",
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)  # exactly one JSON object
    rep = doc["report"]
    assert rep["n_rows"] == 12 and rep["drop_reasons"] == {"exact_duplicate": 1}
    assert rep["n_selected"] == 4 and len(rep["selected"]) == 4
    assert rep["coverage"]["n_selected"] == rep["random_baseline"]["n_selected"] == 4
    rows = json.loads(out.read_text())
    assert sorted(row["_source_index"] for row in rows) == sorted(rep["selected"])
    assert all({"_cluster", "_score", "_rank"} <= set(row) for row in rows)
    raw = json.loads(before)
    for row in rows:
        assert row["output"] == raw[row["_source_index"]]["output"]
    assert (DATA / "tiny_alpaca.json").read_bytes() == before
    assert (tmp_path / "map.png").read_bytes()[:4] == b"\x89PNG"
    # the same run again refuses to overwrite the subset (exit 2, one line, the file untouched)
    written = out.read_bytes()
    r = run_cli("select", "-i", str(DATA / "tiny_alpaca.json"), "-o", str(out), "--n", "2")
    assert r.returncode == 2 and "--overwrite" in r.stderr and "Traceback" not in r.stderr
    assert out.read_bytes() == written


def test_cli_recipe_with_flag_overrides_and_table_output(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        f"input: {DATA / 'tiny.jsonl'}\nn_select: 100\nmethod: kcenter\nembedder: tfidf\n"
        "cache_dir: none\nn_clusters: 2\n"
    )
    r = run_cli("select", str(recipe), "--fraction", "0.5")
    assert r.returncode == 0, r.stderr
    assert "kcenter: selected 3 of 5 candidates" in r.stdout
    assert "malformed" in r.stdout and "coverage radius" in r.stdout
    assert (
        "embedder tfidf, " in r.stdout and "tfidf-svd" not in r.stdout
    )  # the name, not the identity


TINY = ("select", "-i", str(DATA / "tiny.jsonl"))  # the bad-input cases' pool


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("select",), "--input"),
        (("select", "-i", str(DATA / "empty.json"), "--n", "2"), "empty"),
        (("select", "-i", str(DATA / "broken.json"), "--n", "2"), "line 3: malformed JSON"),
        ((*TINY, "--n", "2", "--strict"), "line 4"),
        (
            (*TINY, "--n", "99", "--embedder", "tfidf"),
            "n_select=99",
        ),
        ((*TINY, "--n", "2", "--method", "best"), "valid names"),
        ((*TINY, "--fields", "a"), "PROMPT,RESPONSE"),
        (
            (
                "select",
                "-i",
                str(DATA / "qa.csv"),
                "--fields",
                "question,answer",
                "--n",
                "2",
                "--method",
                "lima",
            ),
            "--domain-field",
        ),
        ((*TINY, "--fraction", "1.5"), "fraction=1.5"),
        # the malformed rows were left out of the count: '8 rows read; dropped: exact_duplicate 1' for 5
        (
            (*TINY, "--n", "100"),
            "--n: n_select=100 is more than the 5 candidates left after filters and dedup (8 rows "
            "read; dropped: malformed 2, exact_duplicate 1); select at most 5",
        ),
        (
            (*TINY, "--fraction", "0"),
            "--fraction: fraction=0.0 must lie in (0, 1]",
        ),
        # --min-score with no score column kept every row, silently
        (
            (*TINY, "--n", "2", "--min-score", "10"),
            "--min-score: min_score=10 needs score_field",
        ),
        (
            (*TINY, "--n", "2", "--min-score", "10", "--score-field", "rating"),
            "--score-field: "
            + str(DATA / "tiny.jsonl")
            + ": line 1: the score field 'rating' is not a column",
        ),
        # every row malformed: the first reason is named, not only a count
        (
            (*TINY, "--n", "2", "--min-score", "10", "--score-field", "domain"),
            "malformed (first: "
            + str(DATA / "tiny.jsonl")
            + ": line 1: score field 'domain'='biology' is not a number)",
        ),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(args, message, tmp_path):
    r = run_cli(*args, "--cache-dir", str(tmp_path), env={"TOKENPLAN_CACHE": str(tmp_path)})
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_progress_goes_to_stderr_one_line_per_stage_and_quiet_prints_nothing(tmp_path):
    args = ("select", "-i", str(DATA / "tiny_alpaca.json"), "--n", "3", "--embedder", "tfidf")
    args += ("--cache-dir", str(tmp_path / "c"), "--n-clusters", "2")
    r = run_cli(*args, "--json")  # stderr is a pipe here: plain lines, not bars
    assert r.returncode == 0, r.stderr
    json.loads(r.stdout)  # stdout holds the one JSON object and nothing else
    lines = r.stderr.strip().splitlines()
    stages = [line.split(":")[1].strip() for line in lines]
    assert stages == ["read", "tfidf", "embed", "kmeans", "choose", "report"]
    assert "read: 12 rows in" in lines[0] and "tfidf: in" in lines[1]  # the fit, inside embed
    assert "embed: 11 texts in" in lines[2]
    assert "kmeans: 20 iterations in" in lines[3] and lines[4].startswith(
        "select: choose: 3 picks in"
    )  # not "select: select:"
    r = run_cli(*args, "--quiet")
    assert r.returncode == 0 and r.stdout == "" and r.stderr == ""
    r = run_cli(*args, "--quiet", "--json")
    assert json.loads(r.stdout)["report"]["n_selected"] == 3 and r.stderr == ""


def test_an_unusable_cache_folder_is_a_warning_not_an_error(tmp_path):
    """A cache folder that exists but cannot hold the cache (here its pools/ is a file) is a warning and
    the run carries on; a --cache-dir that is a file, or under one, is refused (the test below)."""
    blocker = tmp_path / "cache"
    blocker.mkdir()
    (blocker / "pools").write_text("x")
    r = run_cli(
        "select",
        "-i",
        str(DATA / "tiny_alpaca.json"),
        "--n",
        "3",
        "--embedder",
        "tfidf",
        "--n-clusters",
        "2",
        "--cache-dir",
        str(blocker),
        "--json",
    )
    assert r.returncode == 0, r.stderr
    assert "warning: embedding cache folder" in r.stderr and "without the cache" in r.stderr
    assert json.loads(r.stdout)["report"]["warnings"][0].startswith("embedding cache folder")


def test_embeddings_with_the_wrong_row_count_is_one_line_exit_2(tmp_path):
    import numpy as np

    def select_with(embeddings):
        return run_cli(
            "select", "-i", str(DATA / "tiny_alpaca.json"), "--n", "2", "--embeddings", embeddings
        )

    np.save(tmp_path / "e.npy", np.ones((5, 8), np.float32))  # tiny_alpaca.json has 12 rows
    r = select_with(str(tmp_path / "e.npy"))
    assert r.returncode == 2 and "has 5 rows but the input has 12" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    obj = np.array([{"a": 1}] * 12, dtype=object)
    np.save(tmp_path / "pickled.npy", obj, allow_pickle=True)
    r = select_with(str(tmp_path / "pickled.npy"))
    assert r.returncode == 2 and "holds Python objects" in r.stderr  # never unpickled


@pytest.mark.parametrize(
    ("line", "field", "value"),
    [
        ("n_select: 1e0", "n_select", 1),  # YAML 1.1 reads 1e0 as a string
        ("fraction: '0.5'", "fraction", 0.5),
        ("budget_tokens: 2e3", "budget_tokens", 2000),
        ("n_select: 5\nn_clusters: 1e0", "n_clusters", 1),
        ("n_select: 5\nfilters: {min_chars: 1e1}", "filters.min_chars", 10),
        (
            "n_select: 5\nfilters: {min_score: '-1e1'}\nscore_field: score",
            "filters.min_score",
            -10.0,
        ),
    ],
)
def test_a_number_read_as_text_in_a_recipe_is_that_number(tmp_path, line, field, value):
    """These passed the checks (float('1e3') works) and then failed in the pipeline with a TypeError; then
    they were refused, where a sweep spec read them. Now both read them as the number they spell."""
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"input: {DATA / 'tiny.jsonl'}\nembedder: tfidf\n{line}\n")
    r = run_cli("select", str(recipe), "--no-cache", "--json")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)["recipe"]
    for key in field.split("."):
        got = got[key]
    assert got == value and type(got) is type(value)


def test_a_recipe_stores_its_numbers_as_numbers():
    recipe = Recipe(input="x.jsonl", n_select=10.0, method="lima", tau=2, seed="5")
    assert (recipe.n_select, recipe.tau, recipe.seed) == (10, 2.0, 5)
    assert type(recipe.n_select) is int and type(recipe.seed) is int
    assert (
        FilterConfig(min_chars=20.0).min_chars == 20
        and type(FilterConfig(min_chars=20.0).min_chars) is int
    )


def test_a_broken_yaml_pool_is_named_as_broken_not_as_empty(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("categories:\n- x\nconversations:\n- - hi\n  - [unclosed\n")
    r = run_cli("select", "-i", str(bad), "--n", "1", "--no-cache")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "empty" not in lines[0]
    assert f"no rows read: {bad}: malformed YAML (line 6, column 1: expected" in lines[0]
    listed = tmp_path / "list.yml"
    listed.write_text("- a\n- b\n")
    r = run_cli("select", "-i", str(listed), "--n", "1", "--no-cache")
    assert r.returncode == 2 and "expected a mapping with a 'conversations' list" in r.stderr


def test_a_broken_file_in_a_yaml_folder_is_listed_on_one_line(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "good.yml").write_text((DATA / "chatter.yml").read_text())
    (folder / "bad.yml").write_text("conversations:\n- - hi\n  - [unclosed\n")
    r = run_cli(
        "select", "-i", str(folder), "--n", "2", "--embedder", "tfidf", "--no-cache", "--json"
    )
    assert r.returncode == 0, r.stderr
    examples = json.loads(r.stdout)["report"]["malformed_examples"]
    assert not any("\n" in e for e in examples)  # the YAML error's own lines (and a caret) are gone
    assert examples[0].startswith(f"{folder / 'bad.yml'}: malformed YAML (line 4, column 1: ")


def _select_qa_for(target: str, *, cwd=None):
    """`select` on the qa.csv pool (question, answer) for the task in ``target``."""
    pool = ["-i", str(DATA / "qa.csv"), "--fields", "question,answer", "--n", "2"]
    opts = ["--target", target, "--embedder", "tfidf", "--no-cache"]
    return run_cli("select", *pool, *opts, cwd=cwd)


def test_a_target_with_no_usable_rows_says_why(tmp_path):
    target = tmp_path / "task.jsonl"
    target.write_text('{"prompt": "Tell me a joke."}\n')
    r = _select_qa_for(str(target))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert f"{target}: line 1: the prompt column 'question' is not a column of the file" in r.stderr


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ("questoin,answer", "the prompt column 'questoin'"),
        ("question,anser", "the response column 'anser'"),
    ],
)
def test_a_mistyped_fields_column_is_one_line_naming_it_and_the_columns(tmp_path, fields, said):
    """It was 'no candidates left of the 4 rows read: 4 malformed (first: ...: missing field ...); check
    row_format/fields', after reading the whole pool."""
    out = tmp_path / "subset.jsonl"
    r = run_cli(
        "select", "-i", str(DATA / "qa.csv"), "--fields", fields, "--n", "2", "-o", str(out)
    )
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stderr.startswith("tokenplan: error: --fields: ")
    assert f"{said} is not a column of the file (columns: answer, question, topic)" in r.stderr
    assert not out.exists()


def test_a_plot_that_is_not_a_png_is_refused_before_any_work(tmp_path):
    r = run_cli(
        "select", "-i", str(DATA / "tiny.jsonl"), "--n", "2", "--plot", str(tmp_path / "map.html")
    )
    assert r.returncode == 2 and "--plot" in r.stderr and "must end in .png" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "map.html").exists()


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_an_output_folder_nobody_can_write_is_refused_before_any_work(tmp_path):
    """os.access says yes to root in /proc; the write then failed after all the work, naming a
    temporary file ('/proc/.x.jsonl.2846....tokenplan-tmp' No such file or directory) and no flag."""
    r = run_cli(
        "select",
        "-i",
        str(DATA / "tiny.jsonl"),
        "--n",
        "2",
        "--embedder",
        "tfidf",
        "--no-cache",
        "-o",
        "/proc/tokenplan-auditsel.jsonl",
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tokenplan: error: --output '")
    assert "folder '/proc' is not writable" in lines[0] and "tokenplan-tmp" not in lines[0]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--embedder", "tfidf", "--model", "/no/model"), "embedder 'tfidf' does not use it"),
        (("--embedder", "tfidf", "--embeddings", "x.npy"), "replaces the embedder"),
        (("--embedder", "tfidf-char", "--embed-backend", "onnx"), "runs neither"),
        (
            (
                "--target-method",
                "nearest",
            ),
            "needs target (--target FILE",
        ),
        (
            (
                "--tau",
                "5",
            ),
            "method 'facility-cells' does not use it",
        ),
    ],
)
def test_an_option_the_run_would_ignore_is_a_conflict(flags, message):
    """Each ran to the end (exit 0) with the option silently unused."""
    r = run_cli("select", "-i", str(DATA / "tiny.jsonl"), "--n", "2", "--no-cache", *flags)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert Recipe(input="x", n_select=2, method="lima", tau=5).tau == 5.0  # where it applies


def test_a_missing_pool_names_where_it_came_from(tmp_path):
    """A shipped recipe run as it is ('input: pool.csv') said only "input file 'pool.csv' does not exist.";
    --input gave the same line without its flag."""
    shipped = next(p for p in EXAMPLES if p.name == "no-torch.yaml")
    r = run_cli("select", str(shipped), cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert f"recipe {str(shipped)!r}: pool 'pool.csv' does not exist" in r.stderr
    assert f"a relative path is read from the current folder, {tmp_path})" in r.stderr
    r = run_cli("select", "-i", str(tmp_path / "nothere.jsonl"), "--n", "2")
    assert r.returncode == 2
    assert r.stderr.startswith(
        f"tokenplan: error: --input: pool '{tmp_path / 'nothere.jsonl'}' does not exist"
    )


def test_a_run_time_error_names_the_recipe_when_the_recipe_gave_the_value(tmp_path):
    """n_select from the recipe was reported as '--n: n_select=99 ...', a flag the user never typed."""
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"input: {DATA / 'tiny.jsonl'}\nn_select: 99\nembedder: tfidf\n")
    r = run_cli("select", str(recipe), "--no-cache")
    assert r.returncode == 2 and "--n" not in r.stderr
    assert r.stderr.startswith(
        f"tokenplan: error: recipe {str(recipe)!r}: n_select=99 is more than"
    )
    r = run_cli("select", str(recipe), "--no-cache", "--n", "98")  # the flag's value: the flag
    assert r.returncode == 2 and r.stderr.startswith("tokenplan: error: --n: n_select=98")


@pytest.mark.parametrize(
    ("lines", "names"),
    [
        ("filters: {min_chars: 100000}", "loosen filters.min_chars (--min-chars)"),
        ("method: lima", "give their column, domain_field (--domain-field NAME)"),
        ("model: some/folder", "drop model (--model), or use embedder hf"),
    ],
)
def test_a_hint_about_a_recipe_value_names_its_recipe_key(tmp_path, lines, names):
    """The fix named only the flag ('loosen --min-chars') for a value the recipe file set; the method-lima
    error named neither the recipe nor the method."""
    pool = tmp_path / "pool.jsonl"  # no domain column
    pool.write_text("".join(f'{{"prompt": "q{i}", "response": "a {i}"}}\n' for i in range(6)))
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"input: {pool}\nn_select: 2\nembedder: tfidf\n{lines}\n")
    r = run_cli("select", str(recipe), "--no-cache")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stderr.startswith(f"tokenplan: error: recipe {str(recipe)!r}") and names in r.stderr


@pytest.mark.parametrize("name", ["subset.txt", "subset.yml"])
def test_an_output_select_cannot_write_is_named_with_the_formats_it_can(tmp_path, name):
    r = run_cli("select", "-i", str(DATA / "tiny.jsonl"), "--n", "2", "-o", str(tmp_path / name))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert r.stderr.startswith("tokenplan: error: --output '")
    assert "must end in .jsonl, .json, .csv, .tsv or .parquet" in r.stderr  # .tsv was left out


def test_a_missing_target_names_the_folder_a_relative_path_was_read_from(tmp_path):
    """It said only "target file 'task.jsonl' does not exist."; the pool's path had the folder hint."""
    r = _select_qa_for("task.jsonl", cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert (
        f"target file 'task.jsonl' does not exist (a relative path is read from the current folder, "
        f"{tmp_path})" in r.stderr
    )


@pytest.mark.parametrize("pool", ["tiny_alpaca.json", "chatter.yml", "."])
def test_a_pool_in_the_recipes_place_is_read_as_the_pool(tmp_path, pool):
    """`select pool.json --n 2` (as `fit runs.csv`) is `select -i pool.json`: a file that is not YAML, a
    chatterbot corpus file (YAML with a `conversations` list) or a folder. It was read as a recipe and
    refused ("must be a mapping of option: value"), and a folder was refused by click."""
    if pool == ".":
        folder = tmp_path / "corpus"
        folder.mkdir()
        (folder / "chatter.yml").write_bytes((DATA / "chatter.yml").read_bytes())
        path = folder
    else:
        path = DATA / pool
    args = ("--n", "2", "--embedder", "tfidf", "--no-cache", "--json", "-q")
    r = run_cli("select", str(path), *args)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["recipe"]["input"] == str(path)
    assert json.loads(r.stdout)["report"]["n_selected"] == 2
    # given twice, the pool is one line naming --input, exit 2
    r = run_cli("select", str(path), "-i", str(DATA / "tiny.jsonl"), *args)
    assert r.returncode == 2 and "give the pool once" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        # named 'pool' as select's other lines name it (was "input file 'pool.jsonl'", a word for a
        # flag the user never typed)
        (None, "pool 'pool.jsonl' does not exist (a relative path is read from the current"),
        (
            b'{"prompt": "caf\xe9"}\n',
            "pool.jsonl: not UTF-8 text (byte 15, line 1); save the file as UTF-8.",
        ),
        (b"", "pool.jsonl: no rows found; the file is empty or blank."),
    ],
)
def test_an_error_about_a_pool_given_in_the_recipes_place_names_the_file_not_input(
    tmp_path, content, message
):
    """`select pool.jsonl` said "--input: input file 'pool.jsonl' does not exist", naming a flag the user
    never typed; `fit RUNS` names the file alone. With --input the flag stays."""
    if content is not None:
        (tmp_path / "pool.jsonl").write_bytes(content)
    r = run_cli("select", "pool.jsonl", "--n", "2", "--embedder", "tfidf", cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stderr.startswith(f"tokenplan: error: {message}"), r.stderr
    assert "--input" not in r.stderr and "Traceback" not in r.stderr
    if content is None:
        r = run_cli("select", "-i", "pool.jsonl", "--n", "2", cwd=tmp_path)
        assert r.stderr.startswith(f"tokenplan: error: --input: {message}"), r.stderr


def test_cache_dir_that_is_a_file_is_refused_as_data_refuses_it(tmp_path):
    """`select --cache-dir FILE` warned and carried on without the cache, where `data --cache-dir FILE`
    refused: both now refuse in the same one line naming --cache-dir, and nothing is selected."""
    afile = tmp_path / "afile"
    afile.write_text("mine\n")
    pool = str(DATA / "tiny_alpaca.json")
    sel = run_cli(
        "select", "-i", pool, "--n", "3", "--embedder", "tfidf", "--cache-dir", str(afile)
    )
    data = run_cli(
        "data", "shakespeare", "--cache-dir", str(afile), "--out", str(tmp_path / "s.txt")
    )
    for r in (sel, data):
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert r.stderr.startswith("tokenplan: error: --cache-dir '") and "is a file" in r.stderr
    assert sel.stderr == data.stderr and sel.stdout == "" and afile.read_text() == "mine\n"
    with pytest.raises(InvalidInputError, match=r"`cache_dir` .* is a file") as exc:
        from tokenplan.select.pipeline import run

        run(Recipe(input=pool, n_select=3, embedder="tfidf", cache_dir=str(afile / "sub")))
    assert exc.value.param == "cache_dir"


def test_cache_dir_dash_is_refused_not_made_a_folder_named_dash(tmp_path):
    """`select --cache-dir -` made a folder literally named '-' in the current folder (and `data` would
    have); '-' is refused in one line as it is for an output file; ./- still names that folder."""
    pool = str(DATA / "tiny_alpaca.json")
    sel = run_cli(
        "select", "-i", pool, "--n", "3", "--embedder", "tfidf", "--cache-dir", "-", cwd=tmp_path
    )
    data = run_cli("data", "shakespeare", "--cache-dir", "-", "--out", "s.txt", cwd=tmp_path)
    for r in (sel, data):
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert r.stderr.startswith("tokenplan: error: --cache-dir '-' would be a folder")
    assert list(tmp_path.iterdir()) == []
    args = ("-i", pool, "--n", "3", "--embedder", "tfidf", "--cache-dir", "./-", "-q")
    assert run_cli("select", *args, cwd=tmp_path).returncode == 0
    assert (tmp_path / "-").is_dir()


def test_no_candidates_says_in_words_what_dropped_the_rows(tmp_path):
    """Every row filtered out: the error printed the drop reasons as a Python dict
    ("dropped {'too_short': 2, 'too_long': 1}"); it now says them in words with the thresholds."""
    rows = [{"instruction": "q", "output": "tiny"}, {"instruction": "r", "output": "x"}]
    rows += [{"instruction": "s", "output": "far too long an answer"}]
    pool = tmp_path / "p.jsonl"
    pool.write_text("".join(json.dumps(r) + "\n" for r in rows))
    args = ("select", str(pool), "--n", "1", "--embedder", "tfidf", "--no-cache")
    r = run_cli(*args, "--min-chars", "5", "--max-chars", "10")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "{" not in r.stderr and "_" not in r.stderr.split(";")[0], r.stderr
    assert (
        "no candidates left of the 3 rows read: 2 too short (under 5 characters), "
        "1 too long (over 10 characters); loosen filters.min_chars (--min-chars), "
        "filters.max_chars (--max-chars)." in r.stderr
    )


def test_an_empty_folder_or_blank_file_is_one_line_that_says_what_to_give(tmp_path):
    """An empty folder said "input directory 'x' holds no .yml/.yaml files" (a flag the user did not type,
    and no fix); a file of blank lines said "the input is empty". Both now name the path and what it holds."""
    (tmp_path / "corpus").mkdir()
    (tmp_path / "blank.jsonl").write_text("\n  \n\n")
    (tmp_path / "header.csv").write_text("prompt,response\n")
    (tmp_path / "none.json").write_text("[\n]\n")
    for pool, message in (
        ("corpus", "corpus: a folder is read as a chatterbot corpus (one .yml file per category)"),
        ("blank.jsonl", "blank.jsonl: no rows found; the file is empty or blank."),
        # both said 'the file is empty or blank'
        (
            "header.csv",
            "header.csv: no rows found; the file has a header row and no rows under it.",
        ),
        ("none.json", "none.json: no rows found; the file is an empty JSON array ([])."),
    ):
        r = run_cli("select", pool, "--n", "2", "--embedder", "tfidf", cwd=tmp_path)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert r.stderr.startswith(f"tokenplan: error: {message}"), r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "blank.jsonl",
        "corpus",
        "header.csv",
        "none.json",
    ]


def test_a_broken_pool_file_names_input_as_a_missing_or_non_utf8_one_does(tmp_path):
    """A JSON array cut short, or a malformed row under --strict, was 'tokenplan: error: pool.json: line 13:
    malformed JSON ...' with no flag, where a missing or non-UTF-8 pool says '--input: ...'. Given in the
    recipe's place, the pool is named alone (the user typed no --input)."""
    rows = [
        {"instruction": f"question {i}", "input": "", "output": f"answer {i}"} for i in range(6)
    ]
    text = json.dumps(rows, indent=1)
    (tmp_path / "cut.json").write_text(text[: len(text) // 2], encoding="utf-8")
    lines = "".join(json.dumps(r) + "\n" for r in rows)
    (tmp_path / "cut.jsonl").write_text(lines[:-20], encoding="utf-8")
    out = tmp_path / "subset.jsonl"
    for args, said in (
        (("-i", "cut.json"), "--input: cut.json: line "),
        (("-i", "cut.jsonl", "--strict"), "--input: cut.jsonl: line 6: malformed JSON"),
        (("cut.json",), "cut.json: line "),
    ):
        r = run_cli(
            "select", *args, "--n", "2", "--embedder", "tfidf", "-o", str(out), cwd=tmp_path
        )
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert r.stderr.startswith(f"tokenplan: error: {said}"), r.stderr
        assert not out.exists()


def test_a_compressed_pool_is_one_line_saying_how_to_decompress_it(tmp_path):
    """It said "cannot tell the type of 'pool.jsonl.gz' from its suffix; use one of .csv, .json, ...",
    which a .jsonl.gz pool seems to satisfy."""
    import gzip

    pool = tmp_path / "pool.jsonl.gz"
    pool.write_bytes(gzip.compress((DATA / "tiny.jsonl").read_bytes()))
    out = tmp_path / "subset.jsonl"
    r = run_cli("select", str(pool), "--n", "2", "-o", str(out))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert (
        "is compressed (.gz) and select reads plain files; decompress it first (gunzip -k "
        in r.stderr
    )
    assert f"give {str(tmp_path / 'pool.jsonl')!r}" in r.stderr and not out.exists()


def test_a_json_array_named_jsonl_says_to_name_it_json(tmp_path):
    """It read each line as a row: 'no candidates left of the 14 rows read: 14 malformed (...); check
    row_format/fields (--format/--fields)', a fix that does not apply."""
    pool = tmp_path / "pool.jsonl"
    rows = [{"instruction": f"q{i}", "input": "", "output": f"a{i}"} for i in range(3)]
    pool.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    r = run_cli("select", str(pool), "--n", "2", "-o", str(tmp_path / "subset.jsonl"))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert (
        "holds a JSON array ('[' before the first row), not one object per line; name it .json"
        in r.stderr
    )
    assert not (tmp_path / "subset.jsonl").exists()


def test_a_token_budget_smaller_than_the_first_pick_says_what_would_do(tmp_path):
    """It said '--budget-tokens: budget_tokens=5 is smaller than the first pick (N tokens).' and stopped
    there: no budget that works, no other way to size the subset."""
    r = run_cli(
        "select", "-i", str(DATA / "tiny_alpaca.json"), "--budget-tokens", "1", "--embedder", "tfidf",
        "--no-cache", "-o", str(tmp_path / "subset.jsonl"),
    )  # fmt: skip
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stderr.startswith("tokenplan: error: --budget-tokens: budget_tokens=1 is smaller than")
    assert re.search(
        r"first pick \(([\d,]+) tokens\); give at least \1, or a row count \(n_select, --n\)\.",
        r.stderr,
    )
    assert not (tmp_path / "subset.jsonl").exists()


def test_without_output_a_note_says_nothing_was_written(tmp_path):
    """`select --example chatterbot --n 5` printed its report and wrote nothing, without a word: a new user
    looked for the subset. A note on stderr says so and names -o (stdout, which docs and --json read, is
    unchanged); -o writes and needs no note; --json (a script reading the selection) and --quiet don't."""
    args = ("select", "--example", "chatterbot", "--n", "5", "--embedder", "tfidf")
    r = run_cli(*args)
    assert r.returncode == 0 and "note: no --output" not in r.stdout
    assert (
        "note: no --output, so the 5 selected rows were not written; add -o FILE (.jsonl, .json, "
        ".csv, .tsv or .parquet) to save them." in r.stderr
    )
    out = tmp_path / "subset.jsonl"
    r = run_cli(*args, "-o", str(out))
    assert r.returncode == 0 and out.exists() and "no --output" not in r.stderr
    r = run_cli(*args, "--quiet")
    assert r.returncode == 0 and r.stdout == "" and r.stderr == ""
    r = run_cli(*args, "--json")
    assert r.returncode == 0 and "no --output" not in r.stderr
    # one row is one row ('the 1 selected rows were not written' before)
    r = run_cli("select", "--example", "chatterbot", "--n", "1", "--embedder", "tfidf")
    assert r.returncode == 0 and "so the 1 selected row was not written;" in r.stderr, r.stderr
