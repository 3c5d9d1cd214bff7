"""What a refusal says, beyond "one line, exit 2" (test_bad_input.py): the position in a broken JSON file,
a law file's malformed range, and two outputs of one run given the same path. Each was found by a new
user's walk (stop 26) reading a message that stopped mid-phrase or named the wrong thing."""

from __future__ import annotations

import json

import pytest

from helpers import run_cli
from tokenplan._io import check_output
from tokenplan._json import json_problem
from tokenplan.errors import InvalidInputError
from tokenplan.laws import get_law, load_law, save_law


def _decode_error(text: str) -> json.JSONDecodeError:
    with pytest.raises(json.JSONDecodeError) as e:
        json.loads(text)
    return e.value


@pytest.mark.parametrize(
    ("text", "where", "expected"),
    [
        ('{"a": "open', "column", "Unterminated string starting at column 7"),
        ('{"a": }', "column", "Expecting value at column 7"),
        ("[1,\n 2,\n ]", "line", "Expecting value at line 3, column 2"),
        ('{"a": "open', "none", "Unterminated string starting"),
    ],
)
def test_json_problem_gives_the_position(text, where, expected):
    """json's own msg ends "... starting at" with no position (the column is in exc.colno)."""
    assert json_problem(_decode_error(text), where=where) == expected


def _stderr(tmp_path, *args) -> str:
    r = run_cli(*args, cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "Traceback" not in r.stderr
    return r.stderr


def test_a_broken_jsonl_row_says_where(tmp_path):
    (tmp_path / "pool.jsonl").write_text(
        '{"instruction": "a", "output": "b"}\n{"instruction": "x\n'
    )
    err = _stderr(
        tmp_path, "select", "-i", "pool.jsonl", "--n", "1", "--embedder", "tfidf", "--strict"
    )
    assert "line 2: malformed JSON (Invalid control character at column 19)" in err, err
    (tmp_path / "runs.jsonl").write_text('{"n_params": 1e8, "n_tokens": 2e9, "loss": }\n')
    err = _stderr(tmp_path, "fit", "runs.jsonl")
    assert "line 1 is not valid JSON (Expecting value at column 44)" in err, err


def test_a_law_files_range_that_is_not_numbers_is_named(tmp_path):
    save_law(get_law("chinchilla"), tmp_path / "law.json")
    doc = json.loads((tmp_path / "law.json").read_text())
    doc["law"]["fitted_range"]["flops"] = "big"
    (tmp_path / "law.json").write_text(json.dumps(doc))
    with pytest.raises(InvalidInputError, match=r"flops must be \[low, high\].*got 'big'"):
        load_law(tmp_path / "law.json")


def test_an_output_twice_is_not_called_an_input(tmp_path):
    """Two outputs of one run at one path: it said "report 'x' is also an input file"."""
    with pytest.raises(InvalidInputError, match="is also the `output` path") as e:
        check_output(tmp_path / "a.png", param="plot", outputs={"output": tmp_path / "a.png"})
    assert e.value.param == "plot"
    (tmp_path / "pool.jsonl").write_text('{"instruction": "a b c", "output": "d e f"}\n' * 3)
    err = _stderr(
        tmp_path, *"select -i pool.jsonl --n 1 --embedder tfidf -o s.jsonl --report s.jsonl".split()
    )
    assert "report 's.jsonl' is also the --output path" in err and "input" not in err, err
    err = _stderr(tmp_path, *"fit --example chinchilla --save x.json --plot x.json".split())
    assert "plot 'x.json' is also the --save path" in err, err
    assert not (tmp_path / "x.json").exists() and not (tmp_path / "s.jsonl").exists()


def test_a_latin1_run_table_is_called_not_utf8_not_not_text(tmp_path):
    """A run table saved as Latin-1 (a spreadsheet's export with 'é' in a note) said 'not a text file; give a
    CSV, JSONL or Parquet file' for a CSV; select says of the same file 'not UTF-8 text (byte N, line L);
    save the file as UTF-8', and so does fit now."""
    (tmp_path / "runs.csv").write_bytes(
        "n_params,n_tokens,loss,note\n1e6,2e7,4.1,café\n".encode("latin-1")
    )
    err = _stderr(tmp_path, "fit", "runs.csv")
    assert "runs.csv: not UTF-8 text (byte 43, line 2); save the file as UTF-8" in err
    assert "not a text file" not in err


def test_a_law_path_that_is_a_folder_is_called_a_folder(tmp_path):
    """plan --law fit.json where fit.json is a folder said "law file 'fit.json' does not exist"."""
    (tmp_path / "fit.json").mkdir()
    err = _stderr(tmp_path, "plan", "--flops", "1e22", "--law", "fit.json")
    assert (
        "law file 'fit.json' is a folder, not a law file; give a law JSON saved by `tokenplan fit"
        in err
    )


def test_a_law_folder_without_a_suffix_is_called_a_folder_not_an_unknown_law(tmp_path):
    """predict --law fits (a folder beside the user, no .json, no slash) said "unknown law 'fits'"."""
    (tmp_path / "fits").mkdir()
    err = _stderr(tmp_path, "predict", "--law", "fits", "--params", "1B", "--tokens", "20B")
    assert err.startswith(
        "tokenplan: error: --law: law file 'fits' is a folder, not a law file; give"
    )
    assert "`tokenplan fit --save FILE`, or a preset name (chinchilla, " in err
    assert "unknown law" not in err


def test_an_output_refusal_names_its_flag_once(tmp_path):
    """'--save: save 'x' exists', '--plot: plot ...', '--out: out dir ...': the flag, then the same word
    again. The output checks quote the argument (`save`); the CLI gives its flag once, and a recipe's
    value names the recipe's key."""
    from helpers import TEST_DATA

    runs = str(TEST_DATA / "fit" / "results.csv")
    for name in ("law.json", "fig.png", "page.html", "pool.jsonl", "corpus.txt", "file"):
        (tmp_path / name).write_text('{"instruction": "a b c", "output": "d e f"}\n')
    cases = {
        ("fit", runs, "--save", "law.json"): "--save 'law.json' exists; pass --overwrite",
        ("fit", runs, "--plot", "fig.png"): "--plot 'fig.png' exists; pass --overwrite",
        ("fit", runs, "--report", "page.html"): "--report 'page.html' exists",
        ("fit", runs, "--save", runs): f"--save {runs!r} is also an input file",
        ("fit", runs, "--report", "p.txt"): "--report 'p.txt' must end in .html",
        ("select", "-i", "pool.jsonl", "--n", "1", "-o", "pool.jsonl"): "--output 'pool.jsonl' is",
        ("select", "-i", "pool.jsonl", "--n", "1", "-o", "o.docx"): "--output 'o.docx' must end",
        ("data", "sample", "--out", "corpus.txt"): "--out 'corpus.txt' exists",
        ("sweep", "--preset", "micro", "--out", "file/x", "--dry-run"): "--out 'file/x': 'file' is",
        ("fit", runs, "--holdout", "top0%"): "--holdout 'top0%': the share must lie",
    }
    for args, expected in cases.items():
        err = _stderr(tmp_path, *args)
        assert expected in err, (args, err)
        assert "`" not in err and not any(
            f"{flag}: {flag[2:]}" in err for flag in ("--save", "--plot", "--report", "--output")
        ), err
    (tmp_path / "r.yaml").write_text("input: pool.jsonl\noutput: law.json\nn_select: 1\n")
    err = _stderr(tmp_path, "select", "r.yaml")
    assert "recipe 'r.yaml': output 'law.json' exists" in err, err


def test_a_shape_error_names_the_flags_not_the_python_names(tmp_path):
    """'... or give kv_size explicitly': the flag is --kv-size (Python callers keep their names)."""
    err = _stderr(tmp_path, *"flops --layers 2 --d-model 100 --heads 3".split())
    assert "--heads 3 does not divide --d-model 100" in err and "--kv-size explicitly" in err, err
    assert "kv_size" not in err and "n_heads" not in err and "d_model" not in err
    from tokenplan.flops import ModelShape

    with pytest.raises(InvalidInputError, match="give `kv_size` explicitly") as e:
        ModelShape(n_layers=2, d_model=100, n_heads=3, vocab_size=10)
    assert e.value.param == "n_heads"
