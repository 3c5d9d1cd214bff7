"""The bad-input table: every command, fed bad files, bad flags and bad recipes.

Each case is ``Case(id, args, files)``: the command line (run from a scratch folder holding the good inputs
of :data:`GOOD_FILES`), and files that replace or add to those inputs before the run. Every case must end
with exit code 2, one line on stderr, no traceback, the inputs byte-identical and no new file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

TEST_DATA = Path(__file__).resolve().parents[1] / "data"


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    files: dict[str, bytes] = field(default_factory=dict)
    # ``chmod`` folders read-only before the run (unwritable outputs); skipped when running as root
    readonly: tuple[str, ...] = ()


def _unwritable(case_id: str, args: tuple[str, ...]) -> Case:
    """A case whose output goes into ``ro/``, a folder made read-only before the run."""
    return Case(case_id, args, {"ro/.keep": b""}, readonly=("ro",))


def _pool_rows() -> list[dict]:
    topics = [
        ("photosynthesis", "Plants turn light, water and carbon dioxide into sugar and oxygen."),
        ("the water cycle", "Water evaporates, condenses into clouds and falls again as rain."),
        ("prime numbers", "A prime has exactly two divisors: one and itself, like 2, 3, 5 and 7."),
        ("binary search", "Halve the sorted range each step until the target is found or absent."),
        ("inflation", "Prices rise on average, so each unit of money buys a little less."),
        ("vaccines", "They train the immune system with a harmless copy of a pathogen."),
        ("gravity", "Masses attract each other; on Earth things fall at about 9.8 m/s^2."),
        ("sonnets", "Fourteen lines, often in iambic pentameter, with a turn near the end."),
        ("volcanoes", "Molten rock rises through the crust and erupts as lava and ash."),
        ("recursion", "A function that calls itself on a smaller input until a base case."),
        ("tides", "The Moon's pull raises the sea twice a day as the Earth turns."),
        ("compilers", "They translate source code into machine code in several passes."),
    ]
    return [
        {"instruction": f"Explain {t} briefly.", "input": "", "output": a, "domain": t.split()[-1]}
        for t, a in topics
    ]


POOL_ROWS = _pool_rows()
POOL_JSONL = "".join(json.dumps(r) + "\n" for r in POOL_ROWS).encode()
POOL_JSON = json.dumps(POOL_ROWS, indent=1).encode()
POOL_CSV = (
    "prompt,response\n" + "".join(f'"{r["instruction"]}","{r["output"]}"\n' for r in POOL_ROWS)
).encode()
POOL_TSV = (
    "prompt\tresponse\n" + "".join(f"{r['instruction']}\t{r['output']}\n" for r in POOL_ROWS)
).encode()
LAW = {
    "kind": "ChinchillaLaw",
    "name": "mylaw",
    "E": 1.69,
    "A": 406.4,
    "B": 410.7,
    "alpha": 0.34,
    "beta": 0.28,
}
RECIPE = b"input: pool.jsonl\nn_select: 3\nmethod: kcenter\nembedder: tfidf\ncache_dir: none\n"
SPEC = (
    b"kind: isoflop\nbudgets: [3.0e+11]\nsizes: auto\nn_sizes: 2\nlaw: chinchilla-a1\n"
    b"tokenizer: byte\nseq_len: 32\nbatch_size: 4\nlrs: [3.0e-3]\nseeds: [0]\nn_evals: 2\n"
)

GOOD_FILES: dict[str, bytes] = {
    "runs.csv": (TEST_DATA / "fit" / "results.csv").read_bytes(),
    "curves.csv": (TEST_DATA / "fit" / "curves.csv").read_bytes(),
    "pool.jsonl": POOL_JSONL,
    "pool.json": POOL_JSON,
    "pool.csv": POOL_CSV,
    "law.json": json.dumps(LAW).encode(),
    "recipe.yaml": RECIPE,
    "spec.yaml": SPEC,
    "corpus.txt": b"To be, or not to be, that is the question.\n" * 200,
    "exists.png": b"not really a png, but the user's file\n",
    "exists.json": b'{"mine": true}\n',
    "exists.jsonl": b'{"mine": true}\n',
    "exists.txt": b"the user's notes\n",
}

# Ways a number typed on the command line can be wrong.
NOT_A_NUMBER = ("abc", "", "1e", "--", "1..2", "0x10", "one")
NON_FINITE = ("nan", "inf", "-inf", "NaN", "1e400", "-1e400")
NON_POSITIVE = ("0", "-1", "-1e-9", "-0.0")
HUGE = ("1e300",)


def _flag_cases(prefix: str, base: tuple[str, ...], flag: str, values, *, tail=()) -> list[Case]:
    return [Case(f"{prefix}{flag}={v!r}", (*base, flag, v, *tail)) for v in values]


def _numeric(prefix, base, flag, *, zero_ok=False, huge=True, tail=()) -> list[Case]:
    bad = [*NOT_A_NUMBER, *NON_FINITE, *(v for v in NON_POSITIVE if not (zero_ok and "-" not in v))]
    if huge:
        bad += list(HUGE)
    return _flag_cases(prefix, base, flag, bad, tail=tail)


def _integer(prefix, base, flag, *, zero_ok=False, tail=()) -> list[Case]:
    bad = ["abc", "", "1.5", "nan", "inf", "-1", "1e400", "--"]
    if not zero_ok:
        bad.append("0")
    return _flag_cases(prefix, base, flag, bad, tail=tail)


# --- bad files -----------------------------------------------------------------------------------------


def _generic_bad_files(good: bytes) -> dict[str, bytes]:
    """Corruptions that any structured file must refuse."""
    return {
        "empty": b"",
        "blank": b"  \n\n \n",
        "non-utf8": b"\xff\xfe\x00bad\x80\x81\n" + good[:40],
        "latin1": good[:30] + "café".encode("latin-1") + good[30:60],
        "nul-bytes": b"\x00" * 64,
        "truncated": good[: max(1, len(good) // 2)],
        "binary": bytes(range(256)) * 4,
        "png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 32,
    }


def _file_cases(prefix: str, args_for, good: bytes, name: str, *, extra=None) -> list[Case]:
    variants = _generic_bad_files(good)
    if name.endswith((".csv", ".tsv")):  # cut inside a row: the last row is short
        lines = good.splitlines(keepends=True)
        cut = lines[len(lines) // 2]
        sep = b"\t" if name.endswith(".tsv") else b","
        variants["truncated-midrow"] = b"".join(lines[: len(lines) // 2]) + cut[: cut.index(sep)]
    variants.update(extra or {})
    cases = []
    for label, content in variants.items():
        if label == "truncated" and name.endswith((".jsonl", ".csv", ".tsv")):
            continue  # a table cut at a row's end is a valid, shorter table: see "truncated-midrow"
        cases.append(Case(f"{prefix}{label}", tuple(args_for(name)), {name: content}))
    return cases


def _law_variants() -> dict[str, bytes]:
    def law(**changes) -> bytes:
        d = {**LAW, **changes}
        return json.dumps({k: v for k, v in d.items() if v is not ...}).encode()

    out = {
        "A=0": law(A=0),
        "A<0": law(A=-406.4),
        "B=0": law(B=0),
        "E<0": law(E=-1.0),
        "alpha=0": law(alpha=0),
        "beta<0": law(beta=-0.28),
        "alpha-string": law(alpha="0.34"),
        "A-null": law(A=None),
        "A-list": law(A=[1, 2]),
        "A-bool": law(A=True),
        "A-huge": law(A=1e308),
        "no-kind": law(kind=...),
        "unknown-kind": law(kind="MagicLaw"),
        "kind-number": law(kind=3),
        "unknown-field": law(colour="blue"),
        "missing-A": law(A=...),
        "list": b"[1, 2, 3]",
        "string": b'"chinchilla"',
        "number": b"42",
        "null": b"null",
        "nan-literal": json.dumps({**LAW, "alpha": float("nan")}).encode(),
        "inf-literal": json.dumps({**LAW, "A": float("inf")}).encode(),
        "name-number": law(name=12),
        "fitted-range-bad": law(fitted_range={"flops": "x"}),
        "fitted-range-list": law(fitted_range=[1, 2]),
    }
    return out


def file_cases() -> list[Case]:
    cases: list[Case] = []
    runs = GOOD_FILES["runs.csv"]
    header = runs.split(b"\n", 1)[0]
    csv_extra = {
        "ragged-long": header + b"\nr00,ok,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21\n",
        "ragged-short": runs + b"r99,ok,12\n",
        "header-only": header + b"\n",
        "no-loss-column": b"n_params,n_tokens\n1e6,2e7\n2e6,4e7\n4e6,8e7\n",
        "text-in-numbers": header.replace(b"\r", b"")
        + b"\n"
        + b"\n".join(
            b"r%d,ok,abc,1,1,1,xyz,1e14,1e14,lossy,,1,0,0,0.1,1,1,0,isoflop,1" % i for i in range(6)
        )
        + b"\n",
        "all-nan": b"n_params,n_tokens,loss\n" + b"nan,nan,nan\n" * 6,
        "negative-sizes": b"n_params,n_tokens,loss\n" + b"-1e6,2e7,3.0\n" * 6,
        "zero-sizes": b"n_params,n_tokens,loss\n" + b"0,0,3.0\n" * 6,
        "inf-sizes": b"n_params,n_tokens,loss\n" + b"inf,1e9,3.0\n" * 6,
        "huge-sizes": b"n_params,n_tokens,loss\n" + b"1e300,1e300,3.0\n" * 6,
        "one-row": b"n_params,n_tokens,loss\n1e6,2e7,3.0\n",
        "unclosed-quote": b'n_params,n_tokens,loss\n"1e6,2e7,3.0\n',
        "duplicate-header": b"loss,loss,n_params,n_tokens\n3,3,1e6,2e7\n",
    }
    cases += _file_cases("fit-runs-", lambda n: ("fit", n), runs, "runs.csv", extra=csv_extra)
    tsv = {"header-only": header.replace(b",", b"\t") + b"\n", "ragged-short": runs + b"r99\tok\n"}
    cases += _file_cases(
        "fit-runs-tsv-", lambda n: ("fit", n), runs.replace(b",", b"\t"), "runs.tsv", extra=tsv
    )
    jsonl_extra = {
        "json-list": b"[1, 2, 3]\n",
        "jsonl-strings": b'"a"\n"b"\n',
        "jsonl-broken": b'{"n_params": 1e6, "n_tokens":\n',
        "jsonl-nested": b'{"n_params": {"x": 1}, "n_tokens": [1], "loss": "x"}\n' * 5,
    }
    cases += _file_cases(
        "fit-runs-jsonl-",
        lambda n: ("fit", n),
        b'{"n_params": 1e6, "n_tokens": 2e7, "loss": 3}\n',
        "runs.jsonl",
        extra=jsonl_extra,
    )
    cases += _file_cases(
        "fit-runs-json-",
        lambda n: ("fit", n),
        b'[{"n_params": 1e6, "n_tokens": 2e7, "loss": 3}]',
        "runs.json",
        extra={"object": b'{"a": 1}', "number": b"3"},
    )
    cases += _file_cases(
        "fit-runs-parquet-", lambda n: ("fit", n), b"PAR1" + b"\x00" * 40, "runs.parquet"
    )
    cases += _file_cases(
        "fit-curves-",
        lambda n: ("fit", "runs.csv", "--approach", "1", "--curves", n),
        GOOD_FILES["curves.csv"],
        "curves.csv",
        extra={
            "ragged": b"run_id,step,n_tokens,flops,loss,n_params\nr00,1,2\n",
            # (a row written twice is no error in a curves file: a resumed run's log, read once with a
            # warning; tests/fit/test_runs_reader.py)
        },
    )
    law_variants = {**_generic_bad_files(GOOD_FILES["law.json"]), **_law_variants()}
    for cmd in (("plan", "--flops", "1e21"), ("table",), ("repeat", "--unique-tokens", "25B")):
        for label, content in law_variants.items():
            cases.append(
                Case(f"{cmd[0]}-law-{label}", (*cmd, "--law", "law.json"), {"law.json": content})
            )
    for cmd in (("plan", "--flops", "1e21"), ("table",), ("repeat", "--unique-tokens", "25B")):
        cases.append(Case(f"{cmd[0]}-law-missing", (*cmd, "--law", "missing.json")))
        cases.append(Case(f"{cmd[0]}-law-dir", (*cmd, "--law", "adir"), {"adir/x": b""}))
        cases.append(Case(f"{cmd[0]}-law-unknown", (*cmd, "--law", "chinchila")))
        cases.append(Case(f"{cmd[0]}-law-empty-name", (*cmd, "--law", "")))
    cases += _select_file_cases()
    cases += _sweep_file_cases()
    return cases


def _select_file_cases() -> list[Case]:
    cases: list[Case] = []

    def sel(name):
        return ("select", "-i", name, "--n", "2", "--embedder", "tfidf", "--no-cache")

    pool_extra_jsonl = {
        "all-rows-broken": b'{"instruction": "x", "output":\n' * 4,
        "json-list": b"[1, 2, 3]\n",
        "rows-are-strings": b'"a"\n"b"\n"c"\n',
        "rows-are-numbers": b"1\n2\n3\n",
        "wrong-types": b'{"instruction": 3, "output": [1]}\n' * 4,
        "no-known-fields": b'{"colour": "blue"}\n' * 4,
        "null-rows": b"null\nnull\n",
    }
    cases += _file_cases("select-jsonl-", sel, POOL_JSONL, "pool.jsonl", extra=pool_extra_jsonl)
    pool_extra_json = {
        "object": b'{"a": 1}',
        "number": b"3",
        "string": b'"pool"',
        "unclosed": POOL_JSON[:-1],
        "list-of-lists": b"[[1, 2], [3, 4]]",
        "list-of-null": b"[null, null]",
    }
    cases += _file_cases("select-json-", sel, POOL_JSON, "pool.json", extra=pool_extra_json)
    pool_extra_csv = {
        "header-only": b"prompt,response\n",
        "ragged-all": b"prompt,response\n" + b"a,b,c,d\n" * 4,
        "no-columns": b"colour,size\nred,3\nblue,4\n",
        "unclosed-quote": b'prompt,response\n"Explain tides.,"The moon.\n',
    }
    pool_extra_tsv = {k: v.replace(b",", b"\t") for k, v in pool_extra_csv.items()}
    cases += [
        Case(c.id, (*c.args, "--strict"), c.files) if c.id.endswith("midrow") else c
        for c in _file_cases("select-csv-", sel, POOL_CSV, "pool.csv", extra=pool_extra_csv)
    ]  # without --strict a short row is skipped and counted, by design
    cases += [
        Case(c.id, (*c.args, "--strict"), c.files) if c.id.endswith("midrow") else c
        for c in _file_cases("select-tsv-", sel, POOL_TSV, "pool.tsv", extra=pool_extra_tsv)
    ]
    cases += _file_cases(
        "select-yml-",
        sel,
        b"conversations:\n- - Hi\n  - Hello\n",
        "pool.yml",
        extra={
            "not-mapping": b"- a\n- b\n",
            "bad-yaml": b"a: [1, 2\n",
            "conversations-number": b"conversations: 3\n",
        },
    )
    cases += _file_cases("select-parquet-", sel, b"PAR1" + b"\x00" * 64, "pool.parquet")
    cases += [
        Case("select-input-missing", sel("missing.jsonl")),
        Case("select-input-unknown-ext", sel("pool.docx"), {"pool.docx": b"hello"}),
        Case("select-input-empty-dir", sel("emptydir"), {"emptydir/.keep": b""}),
        Case(
            "select-strict-ragged-csv",
            (*sel("pool.csv"), "--strict"),
            {"pool.csv": POOL_CSV + b"a,b,c\n"},
        ),
        Case(
            "select-strict-broken-jsonl",
            (*sel("pool.jsonl"), "--strict"),
            {"pool.jsonl": POOL_JSONL + b'{"instruction": "x"\n'},
        ),
    ]
    # precomputed embeddings
    emb_base = ("select", "-i", "pool.jsonl", "--n", "2", "--embeddings", "emb.npy", "--no-cache")
    npy_header = (
        b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (12, 4), }"
    )
    for label, content in {
        **_generic_bad_files(npy_header + b" " * 40 + b"\n" + b"\x00" * 192),
        "pickle": b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00]\x94(K\x01K\x02e.",
        "wrong-rows": _npy((3, 4)),
        "one-dim": _npy((12,)),
        "nan-values": _npy((12, 4), fill=float("nan")),
        "object-dtype": _npy_object(),
    }.items():
        cases.append(Case(f"select-embeddings-{label}", emb_base, {"emb.npy": content}))
    cases.append(Case("select-embeddings-missing", emb_base))
    # recipes
    recipe_variants = {
        **_generic_bad_files(RECIPE),
        "overwrite-string-false": RECIPE + b"overwrite: 'false'\noutput: exists.jsonl\n",
        "overwrite-string-no": RECIPE + b"overwrite: 'no'\noutput: exists.jsonl\n",
        "overwrite-int": RECIPE + b"overwrite: 0\noutput: exists.jsonl\n",
        "clean-string": RECIPE + b"clean: 'false'\n",
        "clean-int": RECIPE + b"clean: 1\n",
        "strict-string": RECIPE + b"strict: 'true'\n",
        "strict-null": RECIPE + b"strict: null\n",
        "dedup-exact-string": RECIPE + b"dedup_exact: 'no'\n",
        "n-select-string": RECIPE.replace(b"n_select: 3", b"n_select: 'three'"),
        "n-select-float": RECIPE.replace(b"n_select: 3", b"n_select: 2.5"),
        "n-select-bool": RECIPE.replace(b"n_select: 3", b"n_select: true"),
        "n-select-list": RECIPE.replace(b"n_select: 3", b"n_select: [3]"),
        "n-select-negative": RECIPE.replace(b"n_select: 3", b"n_select: -3"),
        "n-select-nan": RECIPE.replace(b"n_select: 3", b"n_select: .nan"),
        "fraction-inf": RECIPE.replace(b"n_select: 3", b"fraction: .inf"),
        "fraction-string": RECIPE.replace(b"n_select: 3", b"fraction: half"),
        "seed-negative": RECIPE + b"seed: -1\n",
        "seed-string": RECIPE + b"seed: abc\n",
        "seed-float": RECIPE + b"seed: 1.5\n",
        "tau-nan": RECIPE + b"tau: .nan\n",
        "tau-string": RECIPE + b"tau: warm\n",
        "method-number": RECIPE.replace(b"method: kcenter", b"method: 3"),
        "method-unknown": RECIPE.replace(b"method: kcenter", b"method: herding"),
        "embedder-list": RECIPE.replace(b"embedder: tfidf", b"embedder: [tfidf]"),
        "input-number": RECIPE.replace(b"input: pool.jsonl", b"input: 42"),
        "input-list": RECIPE.replace(b"input: pool.jsonl", b"input: [pool.jsonl]"),
        "output-number": RECIPE + b"output: 42\n",
        "filters-string": RECIPE + b"filters: lima2\n",
        "filters-list": RECIPE + b"filters: [lima]\n",
        "key-not-a-name": RECIPE + b"1: 2\n",
        "filters-key-not-a-name": RECIPE + b"filters: {1: 2}\n",
        "filters-key-null": RECIPE + b"filters: {? : 2}\n",
        "filters-min-chars-string": RECIPE + b"filters: {min_chars: many}\n",
        "filters-unknown-key": RECIPE + b"filters: {colour: red}\n",
        "filters-first-person-string": RECIPE + b"filters: {first_person: 'false'}\n",
        "unknown-key": RECIPE + b"colour: red\n",
        "key-number": RECIPE + b"3: x\n",
        "list": b"- input: pool.jsonl\n",
        "scalar": b"just text\n",
        "bad-yaml": b"input: [pool.jsonl\n",
        "tabs": b"input:\tpool.jsonl\n\tn_select: 3\n",
        "batch-size-zero": RECIPE + b"batch_size: 0\n",
        "n-clusters-string": RECIPE + b"n_clusters: many\n",
        "dedup-near-2": RECIPE + b"dedup_near: 2\n",
        "dedup-near-string": RECIPE + b"dedup_near: high\n",
        "fields-number": RECIPE + b"fields: 3\n",
        "fields-three": RECIPE + b"fields: a,b,c\n",
        "plot-over-input": RECIPE + b"plot: pool.jsonl\n",
        "output-over-input": RECIPE + b"output: pool.jsonl\noverwrite: true\n",
        "output-over-recipe": RECIPE + b"output: recipe.yaml\noverwrite: true\n",
        "yaml-python-tag": b"input: !!python/object/apply:os.system ['touch pwned']\n",
    }
    for label, content in recipe_variants.items():
        cases.append(
            Case(f"select-recipe-{label}", ("select", "recipe.yaml"), {"recipe.yaml": content})
        )
    cases.append(Case("select-recipe-missing", ("select", "nothere.yaml")))
    return cases


def _npy(shape, fill=0.25) -> bytes:
    import io

    import numpy as np

    buf = io.BytesIO()
    np.save(buf, np.full(shape, fill, dtype=np.float32))
    return buf.getvalue()


def _npy_object() -> bytes:
    import io

    import numpy as np

    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}] * 12, dtype=object), allow_pickle=True)
    return buf.getvalue()


def _sweep_file_cases() -> list[Case]:
    cases: list[Case] = []
    spec_variants = {
        **_generic_bad_files(SPEC),
        "list": b"- kind: isoflop\n",
        "scalar": b"isoflop\n",
        "bad-yaml": b"kind: [isoflop\n",
        "kind-unknown": SPEC.replace(b"kind: isoflop", b"kind: magic"),
        "kind-number": SPEC.replace(b"kind: isoflop", b"kind: 3"),
        "budgets-string": SPEC.replace(b"budgets: [3.0e+11]", b"budgets: lots"),
        "budgets-negative": SPEC.replace(b"budgets: [3.0e+11]", b"budgets: [-3.0e+11]"),
        "budgets-nan": SPEC.replace(b"budgets: [3.0e+11]", b"budgets: [.nan]"),
        "budgets-inf": SPEC.replace(b"budgets: [3.0e+11]", b"budgets: [.inf]"),
        "budgets-empty": SPEC.replace(b"budgets: [3.0e+11]", b"budgets: []"),
        "n-sizes-string": SPEC.replace(b"n_sizes: 2", b"n_sizes: two"),
        "n-sizes-zero": SPEC.replace(b"n_sizes: 2", b"n_sizes: 0"),
        "n-sizes-float": SPEC.replace(b"n_sizes: 2", b"n_sizes: 2.5"),
        "seq-len-negative": SPEC.replace(b"seq_len: 32", b"seq_len: -32"),
        "batch-size-bool": SPEC.replace(b"batch_size: 4", b"batch_size: true"),
        "lrs-nan": SPEC.replace(b"lrs: [3.0e-3]", b"lrs: [.nan]"),
        "lrs-negative": SPEC.replace(b"lrs: [3.0e-3]", b"lrs: [-1.0]"),
        "seeds-negative": SPEC.replace(b"seeds: [0]", b"seeds: [-1]"),
        "seeds-string": SPEC.replace(b"seeds: [0]", b"seeds: [abc]"),
        "tokenizer-unknown": SPEC.replace(b"tokenizer: byte", b"tokenizer: magic"),
        "law-unknown": SPEC.replace(b"law: chinchilla-a1", b"law: nolaw"),
        "unknown-key": SPEC + b"colour: red\n",
        "key-not-a-name": SPEC + b"1: 2\n",
        "key-null": SPEC + b"? \n",
        "tied-string": SPEC + b"tied_embeddings: 'false'\n",
        "n-evals-zero": SPEC.replace(b"n_evals: 2", b"n_evals: 0"),
        "yaml-python-tag": b"kind: !!python/object/apply:os.system ['touch pwned']\n",
    }
    for label, content in spec_variants.items():
        cases.append(
            Case(
                f"sweep-spec-{label}",
                ("sweep", "spec.yaml", "--out", "sw", "--dry-run"),
                {"spec.yaml": content},
            )
        )
    cases.append(Case("sweep-spec-missing", ("sweep", "nothere.yaml", "--out", "sw", "--dry-run")))
    for label, content in {
        "empty": b"",
        "non-utf8": b"\xff\xfe\x00bad\x80\x81\n" * 50,
        "binary": bytes(range(256)) * 4,
        "jsonl-broken": b'{"text": "abc"\n',
        "jsonl-no-text": b'{"body": "abc"}\n' * 3,
    }.items():
        name = "corpus.jsonl" if label.startswith("jsonl") else "corpus.txt"
        cases.append(
            Case(
                f"sweep-data-{label}",
                (
                    "sweep",
                    "--preset",
                    "micro",
                    "--data",
                    name,
                    "--out",
                    "sw",
                    "--executor",
                    "serial",
                    "--quiet",
                ),
                {name: content},
            )
        )
    cases.append(
        Case(
            "sweep-data-missing",
            ("sweep", "--preset", "micro", "--data", "nope.txt", "--out", "sw", "--dry-run"),
        )
    )
    for label, content in _generic_bad_files(b"\x1f\x8b\x08\x00" + b"\x00" * 64).items():
        cases.append(
            Case(
                f"data-archive-{label}",
                ("data", "shakespeare", "--archive", "arch.tar.gz", "--out", "new.txt"),
                {"arch.tar.gz": content},
            )
        )
        cases.append(
            Case(
                f"data-archive-chatterbot-{label}",
                ("data", "chatterbot", "--archive", "arch.whl", "--out", "new.jsonl"),
                {"arch.whl": content},
            )
        )
    return cases


# --- bad flags -------------------------------------------------------------------------------------------


def flag_cases() -> list[Case]:
    cases: list[Case] = []
    plan = ("plan",)
    for flag in ("--flops", "--params", "--tokens"):
        cases += _numeric("plan-", plan, flag)
    cases += _numeric("plan-", plan, "--gpu-hours", tail=("--gpu", "H100"))
    cases += _numeric("plan-", plan, "--peak-flops", tail=("--gpu-hours", "1000"))
    cases += _numeric("plan-", ("plan", "--flops", "1e21"), "--unique-tokens")
    cases += _numeric("plan-", ("plan", "--params", "7B"), "--inference-tokens", zero_ok=True)
    cases += _numeric("plan-", ("plan", "--flops", "1e21"), "--mfu")
    cases += _flag_cases("plan-", ("plan", "--flops", "1e21"), "--mfu", ["1.5", "2"])
    cases += _numeric("plan-", ("plan", "--flops", "1e21"), "--price-per-gpu-hour")
    cases += _numeric("plan-", plan, "--target-loss")
    cases += _flag_cases("plan-", plan, "--target-loss", ["1.0", "0.5"])  # below E: unreachable
    cases += _integer("plan-", ("plan", "--flops", "1e21"), "--gpus")
    cases += _integer("plan-", ("plan", "--flops", "1e21"), "--seq-len")
    cases += [
        Case("plan-no-budget", ("plan",)),
        Case("plan-two-budgets", ("plan", "--flops", "1e21", "--params", "7B")),
        Case("plan-gpu-unknown", ("plan", "--gpu-hours", "100", "--gpu", "TPU9")),
        Case("plan-gpu-hours-no-gpu", ("plan", "--gpu-hours", "100", "--gpu", "")),
        Case("plan-unknown-flag", ("plan", "--flopz", "1e21")),
        Case("plan-flag-no-value", ("plan", "--flops")),
        Case("plan-extra-arg", ("plan", "--flops", "1e21", "extra")),
        Case("plan-law-gpt5", ("plan", "--flops", "1e21", "--law", "gpt5")),
    ]
    cases += _flag_cases(
        "table-",
        ("table",),
        "--params",
        ["", ",", "abc", "1B,abc", "nan", "1B,inf", "-1", "0", "1B,0", "1e400", "1e300", "1B,,-2"],
    )
    rep = ("repeat",)
    cases += _numeric("repeat-", rep, "--unique-tokens")
    cases += _numeric("repeat-", ("repeat", "--unique-tokens", "25B"), "--params")
    cases += _flag_cases(
        "repeat-",
        ("repeat", "--unique-tokens", "25B"),
        "--epochs",
        ["", "abc", "1,nan", "0", "-1", "1,inf", "1e400", "1e300", ",,"],
    )
    cases += [
        Case("repeat-no-unique", ("repeat",)),
        Case("repeat-plot-exists", ("repeat", "--unique-tokens", "25B", "--plot", "exists.png")),
        Case(
            "repeat-plot-over-law",
            ("repeat", "--unique-tokens", "25B", "--law", "law.json", "--plot", "law.json"),
        ),
        Case("repeat-plot-dir", ("repeat", "--unique-tokens", "25B", "--plot", ".")),
        Case(
            "repeat-plot-under-file",
            ("repeat", "--unique-tokens", "25B", "--plot", "exists.txt/r.png"),
        ),
        _unwritable(
            "repeat-plot-unwritable", ("repeat", "--unique-tokens", "25B", "--plot", "ro/x.png")
        ),
    ]
    fit = ("fit", "runs.csv")
    cases += _numeric("fit-", fit, "--delta", huge=False)
    cases += _numeric("fit-", fit, "--overestimate-weight", huge=False)
    cases += _numeric("fit-", fit, "--ci")
    cases += _flag_cases("fit-", fit, "--ci", ["100", "150"])
    cases += _numeric(
        "fit-", ("fit", "runs.csv", "--approach", "2"), "--bins-per-decade", huge=False
    )
    cases += _integer("fit-", fit, "--bootstrap", zero_ok=True)
    cases += _flag_cases("fit-", fit, "--bootstrap", ["99999999999999999999999", "1000000000"])
    cases += _integer("fit-", fit, "--drop-highest", zero_ok=True)
    cases += _flag_cases("fit-", fit, "--drop-highest", ["22", "23", "1000"])
    cases += _flag_cases(
        "fit-",
        ("fit", "runs.csv", "--bootstrap", "2"),
        "--seed",
        ["-1", "-99", "abc", "1.5", "nan", "1e400", "99999999999999999999999"],
    )
    cases += _flag_cases(
        "fit-", fit, "--budgets", ["", "abc", "1e21,nan", "0", "-1e21", "inf", "1e400", "1e300"]
    )
    cases += _flag_cases(
        "fit-", fit, "--columns", ["loss", "loss=", "=val", "colour=loss", "loss=nocolumn", "a=b=c"]
    )
    cases += [
        Case("fit-approach-unknown", ("fit", "runs.csv", "--approach", "4")),
        Case("fit-law-unknown", ("fit", "runs.csv", "--law", "kaplan")),
        Case("fit-missing-file", ("fit", "missing.csv")),
        Case("fit-dir", ("fit", ".")),
        Case("fit-unknown-ext", ("fit", "runs.xlsx"), {"runs.xlsx": b"PK\x03\x04"}),
        Case("fit-dc-no-unique", ("fit", "runs.csv", "--law", "data-constrained")),
        Case("fit-save-exists", ("fit", "runs.csv", "--save", "exists.json")),
        Case("fit-save-input", ("fit", "runs.csv", "--save", "runs.csv")),
        Case("fit-save-input-overwrite", ("fit", "runs.csv", "--save", "runs.csv", "--overwrite")),
        Case("fit-save-input-dotslash", ("fit", "runs.csv", "--save", "./runs.csv", "--overwrite")),
        Case(
            "fit-save-curves",
            (
                "fit",
                "runs.csv",
                "--approach",
                "1",
                "--curves",
                "curves.csv",
                "--save",
                "curves.csv",
                "--overwrite",
            ),
        ),
        Case("fit-save-dir", ("fit", "runs.csv", "--save", ".")),
        _unwritable("fit-save-unwritable", ("fit", "runs.csv", "--save", "ro/law.json")),
        Case("fit-plot-exists", ("fit", "runs.csv", "--plot", "exists.png")),
        Case("fit-plot-input", ("fit", "runs.csv", "--plot", "runs.csv", "--overwrite")),
        Case(
            "fit-plot-same-as-save", ("fit", "runs.csv", "--plot", "out.json", "--save", "out.json")
        ),
        _unwritable("fit-plot-unwritable", ("fit", "runs.csv", "--plot", "ro/fit.png")),
        Case("fit-plot-dir", ("fit", "runs.csv", "--plot", ".")),
        Case("fit-save-under-file", ("fit", "runs.csv", "--save", "exists.txt/law.json")),
        Case("fit-plot-under-file", ("fit", "runs.csv", "--plot", "exists.txt/fit.png")),
        Case("fit-plot-bad-suffix", ("fit", "runs.csv", "--plot", "fit.docx")),
    ]
    sel = ("select", "-i", "pool.jsonl", "--embedder", "tfidf", "--no-cache")
    seln = (*sel, "--n", "2")
    cases += _integer("select-", sel, "--n")
    cases += _flag_cases("select-", sel, "--n", ["13", "1000"])  # more than the pool
    cases += _numeric("select-", sel, "--fraction", huge=False)
    cases += _flag_cases("select-", sel, "--fraction", ["1.5", "2", "1e300"])
    cases += _flag_cases(
        "select-", seln, "--seed", ["-1", "abc", "1.5", "nan", "99999999999999999999999"]
    )
    cases += _numeric("select-", seln, "--tau", huge=False)
    cases += _flag_cases("select-", seln, "--near-dedup", ["0", "1", "2", "-0.5", "nan", "abc"])
    cases += _flag_cases("select-", seln, "--semantic-dedup", ["0", "1", "2", "-0.5", "nan", "abc"])
    cases += _integer("select-", seln, "--batch-size")
    cases += _integer("select-", seln, "--n-clusters")
    cases += _flag_cases(
        "select-",
        (*seln, "--method", "kcenter-per-cluster"),
        "--workers",
        ["0", "-1", "abc", "1.5"],
    )
    cases += _flag_cases("select-", seln, "--min-chars", ["-1", "abc", "1.5"])
    cases += _flag_cases("select-", seln, "--max-chars", ["-1", "0", "abc"])
    cases += _flag_cases("select-", seln, "--min-score", ["nan", "abc", "inf"])
    cases += _flag_cases("select-", seln, "--method", ["herding", "", "KCENTER2", "3"])
    cases += _flag_cases("select-", seln, "--format", ["xml", "", "alpacaa"])
    cases += _flag_cases("select-", seln, "--fields", ["a", "a,b,c", ",", "prompt,"])
    cases += _flag_cases(
        "select-",
        ("select", "-i", "pool.jsonl", "--n", "2", "--no-cache"),
        "--embedder",
        ["bert", "", "TFIDF2"],
    )
    cases += _flag_cases("select-", seln, "--filters", ["lima2", ""])
    cases += [
        Case("select-no-input", ("select", "--n", "2")),
        Case("select-output-under-file", (*seln, "-o", "exists.txt/out.jsonl")),
        Case("select-plot-under-file", (*seln, "--plot", "exists.txt/map.png")),
        Case("select-n-and-fraction", (*sel, "--n", "2", "--fraction", "0.5")),
        Case("select-output-exists", (*seln, "-o", "exists.jsonl")),
        Case("select-output-input", (*seln, "-o", "pool.jsonl")),
        Case("select-output-input-overwrite", (*seln, "-o", "pool.jsonl", "--overwrite")),
        Case("select-output-input-dotslash", (*seln, "-o", "./pool.jsonl", "--overwrite")),
        Case("select-output-dir", (*seln, "-o", ".")),
        _unwritable("select-output-unwritable", (*seln, "-o", "ro/out.jsonl")),
        Case("select-output-bad-ext", (*seln, "-o", "out.docx")),
        Case("select-plot-input", (*seln, "--plot", "pool.jsonl")),
        Case("select-plot-input-overwrite", (*seln, "--plot", "pool.jsonl", "--overwrite")),
        Case("select-plot-exists", (*seln, "--plot", "exists.png")),
        Case("select-plot-same-as-output", (*seln, "-o", "o.jsonl", "--plot", "o.jsonl")),
        _unwritable("select-plot-unwritable", (*seln, "--plot", "ro/map.png")),
        Case("select-plot-dir", (*seln, "--plot", ".")),
        Case(
            "select-plot-recipe", ("select", "recipe.yaml", "--plot", "recipe.yaml", "--overwrite")
        ),
        Case("select-output-recipe", ("select", "recipe.yaml", "-o", "recipe.yaml", "--overwrite")),
        Case(
            "select-output-embeddings",
            (
                "select",
                "-i",
                "pool.jsonl",
                "--n",
                "2",
                "--embeddings",
                "emb.npy",
                "-o",
                "emb.npy",
                "--overwrite",
                "--no-cache",
            ),
            {"emb.npy": _npy((12, 4))},
        ),
        Case(
            "select-model-missing",
            (
                "select",
                "-i",
                "pool.jsonl",
                "--n",
                "2",
                "--embedder",
                "hf",
                "--model",
                "nomodel",
                "--no-cache",
            ),
        ),
        Case(  # not *seln: its --no-cache would leave the cache folder unread
            "select-cache-dir-is-file",
            (
                "select",
                "-i",
                "pool.jsonl",
                "--n",
                "2",
                "--embedder",
                "tfidf",
                "--cache-dir",
                "exists.txt",
            ),
        ),
        Case(  # '-' made a folder named '-'
            "select-cache-dir-dash",
            ("select", "-i", "pool.jsonl", "--n", "2", "--embedder", "tfidf", "--cache-dir", "-"),
        ),
        Case("select-ray-client-address", (*seln, "--ray-address", "ray://127.0.0.1:1")),
        Case("select-ray-address-garbage", (*seln, "--ray-address", "nonsense")),
    ]
    sw = ("sweep", "--preset", "micro", "--out", "sw", "--dry-run")
    # '-' trained a sweep into a folder named '-'
    cases.append(Case("sweep-out-dash", ("sweep", "--preset", "micro", "--out", "-", "--dry-run")))
    cases.append(Case("sweep-out-dash-run", ("sweep", "--preset", "micro", "--out", "-", "-q")))
    cases += _flag_cases("sweep-", sw, "--budgets", ["abc", "nan", "0", "-1e12", "inf", "1e400"])
    cases += _flag_cases("sweep-", sw, "--n-sizes", ["0", "-1", "abc", "1.5"])
    cases += _flag_cases("sweep-", sw, "--size-center", ["0", "-1", "nan", "inf", "abc"])
    cases += _flag_cases("sweep-", sw, "--size-spread", ["0", "-1", "nan", "inf", "0.5"])
    cases += _flag_cases("sweep-", sw, "--lrs", ["0", "-1e-3", "nan", "inf", "abc"])
    cases += _flag_cases("sweep-", sw, "--seeds", ["-1", "abc", "1.5", ""])
    cases += _flag_cases("sweep-", sw, "--seq-len", ["0", "-1", "abc"])
    cases += _flag_cases("sweep-", sw, "--batch-size", ["0", "-1", "abc"])
    cases += _flag_cases("sweep-", sw, "--n-evals", ["0", "-1", "abc"])
    cases += _flag_cases("sweep-", sw, "--num-cpus", ["0", "-1", "nan", "inf"])
    cases += _flag_cases("sweep-", sw, "--num-gpus", ["-1", "nan", "inf"])
    cases += _flag_cases("sweep-", sw, "--workers", ["0", "-1", "abc"])
    cases += _flag_cases("sweep-", sw, "--checkpoint-every", ["nan", "-1", "inf", "abc"])
    cases += _flag_cases("sweep-", sw, "--sizes", ["L0-d0-h0", "big", "L2-d64-h3", ","])
    cases += _flag_cases("sweep-", sw, "--preset", ["nope", ""])
    cases += _flag_cases("sweep-", sw, "--device", ["tpu", "cuda:x"])
    rep_sw = ("sweep", "--preset", "repeat-demo", "--out", "sw", "--dry-run")
    cases += _flag_cases("sweep-repeat-", rep_sw, "--epochs", ["0", "-1", "nan", "abc"])
    cases += _flag_cases("sweep-repeat-", rep_sw, "--n-tokens", ["0", "-1", "nan", "inf", "abc"])
    cases += _flag_cases("sweep-repeat-", rep_sw, "--dropout", ["-0.1", "1.5", "nan", "abc"])
    cases += _flag_cases("sweep-repeat-", rep_sw, "--late-start", ["-0.1", "1.5", "nan", "abc"])
    cases += _flag_cases("sweep-repeat-", rep_sw, "--dropout-schedules", ["sometimes", ""])
    cases += _flag_cases("sweep-repeat-", rep_sw, "--model", ["L0-d0-h0", "gpt5", ""])
    cases += [
        Case(
            "sweep-out-is-file", ("sweep", "--preset", "micro", "--out", "exists.txt", "--dry-run")
        ),
        Case(
            "sweep-out-foreign-results",
            ("sweep", "--preset", "micro", "--out", "theirs", "--executor", "serial", "--quiet"),
            {"theirs/results.csv": b"run_id,loss\nmine,1.0\n"},
        ),
        _unwritable(
            "sweep-out-unwritable",
            ("sweep", "--preset", "micro", "--out", "ro/sw", "--executor", "serial", "--quiet"),
        ),
        Case(
            "sweep-ray-client",
            (
                "sweep",
                "--preset",
                "micro",
                "--out",
                "sw",
                "--executor",
                "ray",
                "--ray-address",
                "ray://127.0.0.1:1",
                "--quiet",
            ),
        ),
    ]
    cases += [
        Case("data-unknown", ("data", "wikipedia")),
        Case(
            "data-out-exists",
            ("data", "shakespeare", "--out", "exists.txt", "--archive", "corpus.txt"),
        ),
        Case("data-out-dir", ("data", "shakespeare", "--out", ".", "--archive", "corpus.txt")),
        Case(
            "data-out-is-archive",
            ("data", "shakespeare", "--out", "corpus.txt", "--archive", "corpus.txt", "--force"),
        ),
        Case(
            "data-archive-missing",
            ("data", "shakespeare", "--archive", "no.tar.gz", "--out", "n.txt"),
        ),
        Case("data-sample-out", ("data", "sample", "--out", "exists.txt")),
        Case(
            "data-cache-dir-file",
            (
                "data",
                "shakespeare",
                "--cache-dir",
                "exists.txt",
                "--out",
                "n.txt",
                "--archive",
                "corpus.txt",
            ),
        ),
    ]
    flops = ("flops",)
    cases += _flag_cases(
        "flops-",
        ("flops", "--shape", "gpt2-small"),
        "--tokens",
        [*NOT_A_NUMBER, *NON_FINITE, "-1", "0", "1e300"],
    )
    for flag in ("--layers", "--d-model", "--heads"):
        base = {
            "--layers": ("--d-model", "64", "--heads", "4"),
            "--d-model": ("--layers", "2", "--heads", "4"),
            "--heads": ("--layers", "2", "--d-model", "64"),
        }[flag]
        cases += _integer("flops-", (*flops, *base), flag)
    for flag in ("--kv-size", "--ffw-size", "--vocab", "--seq-len"):
        cases += _integer("flops-", ("flops", "--shape", "gpt2-small"), flag)
    cases += [
        Case("flops-shape-unknown", ("flops", "--shape", "gpt9")),
        Case("flops-position-unknown", ("flops", "--shape", "gpt2-small", "--position", "alibi")),
        Case("laws-extra-arg", ("laws", "extra")),
        Case("laws-bad-flag", ("laws", "--bogus")),
        Case("unknown-command", ("nope",)),
    ]
    return cases


def _saved_law(**changes) -> bytes:
    """A law file as `tokenplan fit --save` writes it, with ``changes`` (``...`` removes a key)."""
    doc = {"format": "tokenplan-law/2", "law": dict(LAW), "fit": {}, **changes}
    return json.dumps({k: v for k, v in doc.items() if v is not ...}).encode()


def predict_cases() -> list[Case]:
    """`tokenplan predict` (points, laws, intervals) and the backtest/holdout/interval/report flags."""
    pr = ("predict", "--params", "1B", "--tokens", "20B")
    cases = _numeric("predict-", ("predict", "--tokens", "20B"), "--params")
    cases += _numeric("predict-", ("predict", "--params", "1B"), "--tokens")
    cases += _numeric("predict-", pr, "--unique-tokens")
    cases += _flag_cases("predict-", pr, "--interval", ["0", "1", "1.5", "-0.2", "nan", "abc", ""])
    cases += _flag_cases("predict-lists-", pr, "--params", ["1B,,2B", ","])
    cases += [
        Case("predict-no-points", ("predict",)),
        Case("predict-only-params", ("predict", "--params", "1B")),
        Case("predict-points-and-params", (*pr, "--points", "runs.csv")),
        Case("predict-points-missing", ("predict", "--points", "nothere.csv")),
        Case("predict-points-dir", ("predict", "--points", "adir"), {"adir/x": b""}),
        Case("predict-law-unknown", (*pr, "--law", "chinchila")),
        Case("predict-law-allocation-only", (*pr, "--law", "chinchilla-a1")),
        # 6ND = 6e-600 underflows float64: was a ZeroDivisionError traceback, exit 1
        Case("predict-counts-under-one", ("predict", "--params", "1e-300", "--tokens", "1e-300")),
    ]
    points = {
        "zero-params": b"n_params,n_tokens\n0,2e10\n",
        "negative-tokens": b"n_params,n_tokens\n1e9,-2e10\n",
        "nan-params": b"n_params,n_tokens\nnan,2e10\n",
        "inf-tokens": b"n_params,n_tokens\n1e9,inf\n",
        "zero-flops": b"n_params,flops\n1e9,0\n",
        "text": b"n_params,n_tokens\nbig,2e10\n",
        "no-tokens-column": b"n_params\n1e9\n",
        "no-columns": b"colour,size\nred,3\n",
        "header-only": b"n_params,n_tokens\n",
        "ragged": b"n_params,n_tokens\n1e9,2e10,3\n",
        "unique-negative": b"n_params,n_tokens,unique_tokens\n1e9,2e10,-1\n",
        "6nd-underflows": b"n_params,n_tokens\n1e-300,1e-300\n",
        **_generic_bad_files(b"n_params,n_tokens\n1e9,2e10\n2e9,4e10\n"),
    }
    for label, content in points.items():
        if label == "truncated":
            continue  # a table cut at a row's end is a valid, shorter table
        cases.append(
            Case(
                f"predict-points-{label}", ("predict", "--points", "pts.csv"), {"pts.csv": content}
            )
        )
    laws = {
        **{f"bare-{k}": v for k, v in _law_variants().items() if k != "A-huge"},
        "other-version": _saved_law(format="tokenplan-law/1"),
        "no-format": _saved_law(format=...),
        "future-version": _saved_law(format="tokenplan-law/99"),
        "format-number": _saved_law(format=2),
        "missing-law": _saved_law(law=...),
        "law-missing-A": _saved_law(law={k: v for k, v in LAW.items() if k != "A"}),
        "law-missing-kind": _saved_law(law={k: v for k, v in LAW.items() if k != "kind"}),
        "law-null": _saved_law(law=None),
        "fit-list": _saved_law(fit=[1, 2]),
        "uncertainty-string": _saved_law(law={**LAW, "uncertainty": "lots"}),
        "uncertainty-nan-draws": _saved_law(
            law={**LAW, "uncertainty": {"names": ["E"], "draws": [[None]], "residuals": []}}
        ),
        "uncertainty-no-residuals": _saved_law(
            law={**LAW, "uncertainty": {"names": ["E"], "draws": [[1.8]]}}
        ),
        "uncertainty-decades-mismatch": _saved_law(
            law={
                **LAW,
                "uncertainty": {
                    "names": [],
                    "draws": [],
                    "residuals": [0.01],
                    "residual_decades": [0.1, 0.2],
                },
            }
        ),
        "preset-stamp": _saved_law(law={**LAW, "preset_of": ["ChinchillaLaw"]}),
        **{f"file-{k}": v for k, v in _generic_bad_files(_saved_law()).items()},
    }
    for label, content in laws.items():
        cases.append(
            Case(f"predict-law-{label}", (*pr, "--law", "fit.json"), {"fit.json": content})
        )
    fit = ("fit", "runs.csv")
    cases += _flag_cases(
        "fit-",
        fit,
        "--holdout",
        [
            "params>=1e30",  # holds out nothing
            "params>=1e5",  # leaves fewer runs than the form has parameters
            "flops>=1",
            "params>=0",
            "params>=-1",
            "params>=nan",
            "params>=inf",
            "params>=",
            "colour>=3",
            "params<=1e9",
            "top0%",
            "top100%",
            "top150%",
            "topx%",
            "",  # an unset shell variable: an error, not the default
            "   ",
        ],
    )
    cases += _flag_cases(
        "fit-backtest-", (*fit, "--backtest"), "--holdout", ["params>=1e30", "top100%"]
    )
    cases += _flag_cases("fit-", fit, "--form", ["nope", "", "Chinchilla2"])
    cases += _flag_cases("fit-kaplan-", (*fit, "--form", "kaplan"), "--holdout", ["params>=1e5"])
    cases += [
        Case("fit-form-dc-no-unique", (*fit, "--form", "data-constrained")),
        Case("fit-dir-runs", ("fit", "adir"), {"adir/x": b""}),
    ]
    for cmd in (("plan", "--flops", "1e21"), ("table",)):
        cases += _flag_cases(f"{cmd[0]}-", cmd, "--interval", ["0", "1", "2", "-1", "nan", "abc"])
    # --report on every command that has it: wrong suffix, an input, an existing file, a bad folder
    reports = {
        "plan": ("plan", "--flops", "1e21"),
        "fit": ("fit", "runs.csv"),
        "select": ("select", "-i", "pool.jsonl", "--n", "2", "--embedder", "tfidf", "--no-cache"),
        "sweep": ("sweep", "--preset", "micro", "--out", "sw", "--dry-run"),
    }
    for name, base in reports.items():
        cases += [
            Case(f"{name}-report-suffix", (*base, "--report", "page.txt")),
            Case(f"{name}-report-exists", (*base, "--report", "page.html"), {"page.html": b"mine"}),
            Case(f"{name}-report-dir", (*base, "--report", "adir"), {"adir/x.html": b""}),
            Case(f"{name}-report-under-file", (*base, "--report", "exists.txt/p.html")),
            _unwritable(f"{name}-report-unwritable", (*base, "--report", "ro/p.html")),
        ]
    cases += [
        Case(
            "plan-report-over-law",
            ("plan", "--flops", "1e21", "--law", "law.json", "--report", "law.json", "--overwrite"),
        ),
        Case("fit-report-input", ("fit", "runs.csv", "--report", "runs.csv", "--overwrite")),
        Case(
            "fit-report-same-as-save", ("fit", "runs.csv", "--report", "f.html", "--save", "f.html")
        ),
        Case("select-report-input", (*reports["select"], "--report", "pool.jsonl", "--overwrite")),
        Case("select-report-output", (*reports["select"], "-o", "o.jsonl", "--report", "o.jsonl")),
        Case(
            "sweep-report-spec",
            (
                "sweep",
                "spec.yaml",
                "--out",
                "sw",
                "--dry-run",
                "--report",
                "spec.yaml",
                "--overwrite",
            ),
        ),
    ]
    return cases


def hand_found_cases() -> list[Case]:
    """Bad inputs tried by hand after the table was written (each was a traceback, a silent acceptance or
    an unclear line before its fix, or checks a path the table did not reach)."""
    rep_sw = ("sweep", "--preset", "repeat-demo", "--out", "sw", "--dry-run")
    return [
        Case("hand-sweep-epochs-beyond-tokens", (*rep_sw, "--epochs", "1e9")),
        Case(
            "hand-sweep-dry-run-bad-report",
            ("sweep", "--preset", "micro", "--out", "sw", "--dry-run", "--report", "s.txt"),
        ),
        Case(
            "hand-data-cache-unusable",
            ("data", "shakespeare", "--out", "n.txt", "--cache-dir", "exists.txt/c"),
        ),
        Case(
            "hand-select-budget-zero",
            (
                "select",
                "-i",
                "pool.jsonl",
                "--embedder",
                "tfidf",
                "--budget-tokens",
                "0",
                "--no-cache",
            ),
        ),
        Case(
            "hand-select-budget-huge",
            (
                "select",
                "-i",
                "pool.jsonl",
                "--embedder",
                "tfidf",
                "--budget-tokens",
                "1e400",
                "--no-cache",
            ),
        ),
        Case("hand-table-params-space", ("table", "--params", "1B 2B")),
        Case("hand-plan-law-is-csv", ("plan", "--flops", "1e21", "--law", "runs.csv")),
        Case("hand-plan-seq-len-float", ("plan", "--flops", "1e21", "--seq-len", "1e3")),
        Case(
            "hand-plan-mfu-zero",
            ("plan", "--flops", "1e21", "--gpus", "8", "--gpu", "H100", "--mfu", "0"),
        ),
        Case("hand-flops-position-rope", ("flops", "--shape", "gpt2-small", "--position", "rope")),
        Case("hand-repeat-report-flag", ("repeat", "--unique-tokens", "25B", "--report", "r.html")),
        Case(
            "hand-fit-curves-are-results",
            ("fit", "runs.csv", "--approach", "1", "--curves", "runs.csv"),
        ),
        Case(
            "hand-sweep-n-sizes-float",
            ("sweep", "--preset", "micro", "--out", "sw", "--dry-run", "--n-sizes", "1e9"),
        ),
        Case(
            "hand-sweep-budgets-over-1e30",
            ("sweep", "--preset", "micro", "--out", "sw", "--dry-run", "--budgets", "1e31"),
        ),
        Case(
            "hand-predict-law-old-format",
            ("predict", "--law", "fit.json", "--params", "1B", "--tokens", "1B"),
            {"fit.json": _saved_law(format="tokenplan-law/1")},
        ),
        Case("hand-laws-json-bogus", ("laws", "--json", "--bogus")),
        _select_target("hand-select-target-missing", "nothere.jsonl"),
        Case("hand-fit-holdout-nan", ("fit", "runs.csv", "--holdout", "tokens>=nan")),
        _select_target("hand-select-target-is-the-pool", "pool.jsonl"),
    ]


def _select_target(case_id: str, target: str) -> Case:
    """select on the good pool with ``--target TARGET`` (TF-IDF, no cache)."""
    args = ("select", "-i", "pool.jsonl", "--n", "2", "--embedder", "tfidf", "--no-cache")
    return Case(case_id, (*args, "--target", target))


ALL_CASES: list[Case] = file_cases() + flag_cases() + predict_cases() + hand_found_cases()
