"""Reading pools (JSON, JSONL, CSV, Parquet, chatterbot YAML; alpaca/sharegpt/prompt-response) and writing
subsets back atomically."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from helpers import SELECT_DATA
from tokenplan.errors import InvalidInputError, UnknownNameError
from tokenplan.select.io import ReadStats, iter_records, write_subset

DATA = SELECT_DATA


def test_alpaca_json_array_is_streamed_with_input_joined_to_the_instruction():
    recs = list(iter_records(DATA / "tiny_alpaca.json", domain_field="domain", score_field="score"))
    raw = json.loads((DATA / "tiny_alpaca.json").read_text())
    assert len(recs) == len(raw) == 12
    assert [r.index for r in recs] == list(range(12))
    code = recs[8]
    assert code.prompt == "Reverse a string in Python.\n\ns = 'abc'"
    assert code.response == raw[8]["output"]
    assert code.domain == "coding" and code.score == 18.0
    assert code.text == code.prompt + "\n\n" + code.response
    assert recs[0].line == 2  # each object's first line


def test_json_array_split_across_read_chunks(tmp_path, monkeypatch):
    """Rows straddling the reader's chunk boundary are decoded whole."""
    import tokenplan.select.io as io

    rows = [{"instruction": f"q{i}", "output": "x" * (i * 37 % 200), "n": 10**i} for i in range(60)]
    path = tmp_path / "pool.json"
    path.write_text(json.dumps(rows, indent=2))
    real_open = open

    class Small:
        def __init__(self, fh):
            self.fh = fh

        def read(self, n):
            return self.fh.read(7)  # tiny chunks: every token is cut somewhere

        def __enter__(self):
            return self

        def __exit__(self, *a):
            self.fh.close()

    monkeypatch.setattr(io, "open", lambda p, **kw: Small(real_open(p, **kw)), raising=False)
    got = [r.raw for r in iter_records(path)]
    assert got == rows


def test_jsonl_malformed_lines_are_skipped_with_line_numbers_or_stop_with_strict():
    stats = ReadStats()
    recs = list(iter_records(DATA / "tiny.jsonl", stats=stats))
    assert len(recs) == 6
    assert stats.n_rows == 8 and stats.n_malformed == 2
    assert "line 4: malformed JSON" in stats.errors[0]
    assert "line 8: missing field 'output'" in stats.errors[1]
    # the malformed row still takes a source index, so indices match the file's rows
    assert [r.index for r in recs] == [0, 1, 2, 4, 5, 6]
    with pytest.raises(InvalidInputError, match="line 4"):
        list(iter_records(DATA / "tiny.jsonl", strict=True))


def test_sharegpt_conversations_and_messages():
    recs = list(iter_records(DATA / "sharegpt.jsonl"))
    assert recs[0].prompt == "Hi, who are you?" and recs[0].response == "A helpful assistant."
    # multi-turn: the last assistant turn is the answer; earlier turns form the prompt
    assert recs[1].response == "6"
    assert recs[1].prompt == "Be brief.\n\n2+2?\n\n4\n\nand 3+3?"
    stats = ReadStats()
    recs = list(iter_records(DATA / "messages.jsonl", stats=stats))
    assert recs[0].response == "Apple." and recs[0].domain == "food"
    # a row with no assistant turn is a prompt with no answer (dropped as empty in an answered pool), not
    # malformed: evaluation sets in chat format are all such rows (read prompt-only by the pipeline)
    assert (recs[1].prompt, recs[1].response) == ("Only a question", "")
    assert stats.n_malformed == 0 and stats.prompt_only_fields == ("messages", "")


def test_csv_with_fields_and_a_row_with_too_many_cells():
    stats = ReadStats()
    recs = list(
        iter_records(
            DATA / "qa.csv", fields=("question", "answer"), domain_field="topic", stats=stats
        )
    )
    assert [(r.prompt, r.response, r.domain) for r in recs] == [
        ("What is H2O?", "Water.", "chem"),
        ("What is NaCl?", "Salt.", "chem"),
        ("Who wrote Hamlet?", "Shakespeare.", "lit"),
    ]
    assert stats.n_malformed == 1 and "line 4: 4 cells for 3 columns" in stats.errors[0]


@pytest.mark.parametrize("pool", ["sharegpt.jsonl", "chatter.yml"])
def test_a_csv_subset_of_a_turns_pool_reads_back_as_the_same_records(tmp_path, pool):
    """CSV holds 'conversations'/'messages' as JSON text; reading that CSV back found a string where it wanted
    a list of turns, so every row was malformed and a CSV subset could not be selected from again."""
    before = list(iter_records(DATA / pool))
    out = tmp_path / "subset.csv"
    assert write_subset(DATA / pool, out, {r.index: {"_rank": i} for i, r in enumerate(before)}) > 1
    stats = ReadStats()
    after = list(iter_records(out, stats=stats))
    assert stats.n_malformed == 0
    assert [(r.prompt, r.response, r.domain) for r in after] == [
        (r.prompt, r.response, r.domain) for r in before
    ]
    again = tmp_path / "again.csv"  # and a CSV subset of it keeps the same cell, not JSON of JSON
    write_subset(out, again, {0: {}})
    assert next(iter_records(again)).prompt == before[0].prompt
    bad = tmp_path / "bad.csv"
    bad.write_text("messages,domain\n\"[{'role': 'user'}]\",x\n", encoding="utf-8")
    stats = ReadStats()
    assert list(iter_records(bad, row_format="sharegpt", stats=stats)) == []
    assert "'conversations'/'messages' is text but not JSON" in stats.errors[0]


@pytest.mark.parametrize(("sep", "bom"), [(";", ""), ("\t", ""), ("|", ""), (";", "\ufeff")])
def test_a_semicolon_or_tab_separated_csv_is_read_and_its_subset_keeps_the_separator(
    tmp_path, sep, bom
):
    """Excel writes ';' where the decimal mark is a comma: the header was one column named 'prompt;response'
    and every row malformed ('3 cells for 1 columns', from the commas in the text)."""
    rows = [["prompt", "response", "topic"], ["Hi, who?", "Me, a bot.", "a"], ["2+2?", "4", "b"]]
    path = tmp_path / "pool.csv"
    path.write_text(bom + "".join(sep.join(r) + "\n" for r in rows), encoding="utf-8")
    stats = ReadStats()
    recs = list(iter_records(path, domain_field="topic", stats=stats))
    assert stats.n_malformed == 0
    assert [(r.prompt, r.response, r.domain) for r in recs] == [tuple(r) for r in rows[1:]]
    out = tmp_path / "subset.csv"
    write_subset(path, out, {1: {"_rank": 0}})
    assert out.read_text(encoding="utf-8").splitlines() == [
        sep.join([*rows[0], "_rank"]),
        sep.join([*rows[2], "0"]),
    ]
    comma = (
        tmp_path / "comma.csv"
    )  # a header with a comma is comma-separated, whatever the cells hold
    comma.write_text('prompt,response\n"a;b",c\n', encoding="utf-8")
    assert [(r.prompt, r.response) for r in iter_records(comma)] == [("a;b", "c")]


def test_a_tsv_pool_is_read_with_tabs_and_its_subset_written_by_its_suffix(tmp_path):
    """A .tsv pool was refused ('cannot tell the type of pool.tsv from its suffix'); renamed to .csv it was
    read, but as comma-separated when its header held a comma."""
    rows = [
        ["prompt", "response", "topic, coarse"],
        ["Hi, who?", "Me, a bot.", "a"],
        ["2+2?", "4", "b"],
    ]
    path = tmp_path / "pool.tsv"
    path.write_text("".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")
    stats = ReadStats()
    recs = list(iter_records(path, domain_field="topic, coarse", stats=stats))
    assert stats.n_malformed == 0
    assert [(r.prompt, r.response, r.domain) for r in recs] == [tuple(r) for r in rows[1:]]
    for name, sep in (("subset.tsv", "\t"), ("subset.csv", ","), ("subset", "\t")):
        write_subset(path, tmp_path / name, {1: {"_rank": 0}})
        lines = (tmp_path / name).read_text(encoding="utf-8").splitlines()
        assert [next(csv.reader([line], delimiter=sep)) for line in lines] == [
            [*rows[0], "_rank"],
            [*rows[2], "0"],
        ], name
    write_subset(DATA / "qa.csv", tmp_path / "qa.tsv", {0: {"_rank": 0}})  # a .tsv output: tabs
    assert (tmp_path / "qa.tsv").read_text(encoding="utf-8").startswith("question\tanswer\ttopic")


def test_chatterbot_yaml_one_domain_per_file():
    stats = ReadStats()
    recs = list(iter_records(DATA / "chatter.yml", stats=stats))
    assert [r.domain for r in recs] == ["chatter"] * 3
    # turns alternate user/assistant; a trailing user turn has no answer and is not the response
    assert recs[2].prompt == "How are you?" and recs[2].response == "Fine, thanks."
    assert stats.n_malformed == 1 and "conversation 3" in stats.errors[0]


def test_a_chatterbot_row_is_written_ending_on_its_answer(tmp_path):
    """A conversation of three turns was written with its last user turn, unanswered: an SFT row that ends
    on a prompt (5 of 40 rows of a chatterbot subset)."""
    n = write_subset(
        DATA / "chatter.yml", tmp_path / "s.jsonl", {i: {"_rank": i} for i in range(5)}
    )
    rows = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert n == len(rows) == 3
    assert [t["role"] for t in rows[2]["messages"]] == ["user", "assistant"]
    assert rows[2]["messages"][-1]["content"] == "Fine, thanks."


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("empty.json", "empty"),
        ("object.json", "expected a JSON array"),
        ("broken.json", "line 3: malformed JSON"),
        ("unclosed.json", "not closed"),
        ("columns.jsonl", "cannot tell the row format.*--fields"),
    ],
)
def test_bad_files_give_one_clear_error(name, match):
    with pytest.raises(InvalidInputError, match=match):
        list(iter_records(DATA / name))


def test_bad_arguments(tmp_path, monkeypatch):
    with pytest.raises(
        InvalidInputError, match=r"does not exist\.$"
    ):  # absolute: no folder to name
        list(iter_records(tmp_path / "nope.jsonl"))
    monkeypatch.chdir(
        tmp_path
    )  # a relative path: the folder it was looked for in (a recipe's is not it)
    with pytest.raises(InvalidInputError) as exc:
        list(iter_records("data/nope.jsonl"))
    assert str(exc.value) == (
        "pool 'data/nope.jsonl' does not exist (a relative path is read from the current "
        f"folder, {tmp_path})."
    )
    assert exc.value.param == "input"
    (tmp_path / "pool.txt").write_text("x")
    with pytest.raises(InvalidInputError, match="suffix"):
        list(iter_records(tmp_path / "pool.txt"))
    with pytest.raises(UnknownNameError, match="alpaca"):
        list(iter_records(DATA / "tiny.jsonl", row_format="oasst"))
    with pytest.raises(InvalidInputError, match="domain field 'topic' is not a column") as err:
        list(iter_records(DATA / "tiny_alpaca.json", domain_field="topic"))
    assert err.value.param == "domain_field"
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(InvalidInputError, match="no rows"):
        list(iter_records(tmp_path / "empty.jsonl"))


@pytest.mark.parametrize("suffix", [".json", ".jsonl", ".csv", ".parquet"])
def test_write_subset_keeps_format_and_adds_provenance(tmp_path, suffix):
    src = DATA / "tiny_alpaca.json"
    before = src.read_bytes()
    if suffix == ".parquet":  # a Parquet input, written by us from the JSON fixture
        pa = pytest.importorskip("pyarrow")
        import pyarrow.parquet as pq

        parquet_in = tmp_path / "pool.parquet"
        pq.write_table(pa.Table.from_pylist(json.loads(before)), parquet_in)
        src = parquet_in
        assert [r.raw["output"] for r in iter_records(src)] == [
            r["output"] for r in json.loads(before)
        ]
    out = tmp_path / f"subset{suffix}"
    prov = {3: {"_source_index": 3, "_cluster": 1, "_score": 0.5}, 8: {"_source_index": 8}}
    assert write_subset(src, out, prov) == 2
    recs = list(iter_records(out))
    assert [r.raw["_source_index"] for r in recs] in ([3, 8], ["3", "8"])  # CSV is text
    assert recs[1].response == json.loads(before)[8]["output"]
    assert (DATA / "tiny_alpaca.json").read_bytes() == before  # the input is never modified
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_write_subset_refuses_to_overwrite(tmp_path):
    out = tmp_path / "subset.jsonl"
    out.write_text("precious\n")
    with pytest.raises(InvalidInputError, match="--overwrite"):
        write_subset(DATA / "tiny.jsonl", out, {0: {}})
    assert out.read_text() == "precious\n"
    write_subset(DATA / "tiny.jsonl", out, {0: {}}, overwrite=True)
    assert json.loads(out.read_text())["instruction"] == "Explain photosynthesis."
    with pytest.raises(InvalidInputError, match="is also an input file"):
        write_subset(DATA / "tiny.jsonl", DATA / "tiny.jsonl", {0: {}}, overwrite=True)


@pytest.mark.parametrize(
    ("rows", "fields"),
    [
        ([{"instruction": "Name a prime.", "input": ""}, {"instruction": "Add 2 and 2."}], None),
        ([{"prompt": "Name a prime."}, {"prompt": "Add 2 and 2."}], None),
        ([{"q": "Name a prime.", "a": "2"}, {"q": "Add 2 and 2.", "a": "4"}], ("q", "")),
    ],
)
def test_prompt_only_pools_are_detected_or_named(tmp_path, rows, fields):
    path = tmp_path / "prompts.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    stats = ReadStats()
    recs = list(iter_records(path, fields=fields, stats=stats))
    assert stats.prompt_only and stats.n_malformed == 0
    assert [r.prompt for r in recs] == ["Name a prime.", "Add 2 and 2."]
    assert [r.response for r in recs] == ["", ""]
    assert recs[0].text == "Name a prime."


def test_a_pool_with_answers_is_not_prompt_only():
    stats = ReadStats()
    list(iter_records(DATA / "tiny_alpaca.json", stats=stats))
    assert not stats.prompt_only


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_column_the_first_selected_row_lacks_is_still_written(tmp_path, suffix):
    """Alpaca JSONL often omits an empty ``input``; the CSV and Parquet writers took their columns from the
    first selected row and dropped the others' ``input`` (and any extra field) without a word."""
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    rows = [
        {"instruction": "Say hi.", "output": "Hi."},
        {"instruction": "Translate.", "input": "Bonjour", "output": "Hello", "meta": {"id": 7}},
        {"instruction": "Add.", "input": "2 + 2", "output": "4", "tags": ["math", "easy"]},
    ]
    src = tmp_path / "pool.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / f"subset{suffix}"
    assert write_subset(src, out, {i: {"_source_index": i} for i in range(3)}) == 3
    recs = list(iter_records(out))
    assert [r.prompt for r in recs] == ["Say hi.", "Translate.\n\nBonjour", "Add.\n\n2 + 2"]
    raw = [r.raw for r in recs]
    if suffix == ".csv":  # a list or a mapping as JSON text, not Python's repr
        assert json.loads(raw[1]["meta"]) == {"id": 7} and raw[0]["meta"] == ""
        assert json.loads(raw[2]["tags"]) == ["math", "easy"]
    else:
        assert raw[1]["meta"] == {"id": 7} and raw[0]["meta"] is None
        assert raw[2]["tags"] == ["math", "easy"]


@pytest.mark.parametrize(
    ("name", "text", "fields"),
    [
        (
            "pool.csv",
            "question,answer\nWhat is 2+2?,4\nHi,Hello\n",
            ("question", "answer"),
        ),
        (
            "pool.jsonl",
            '{"prompt": "What is 2+2?", "response": "4"}\n{"prompt": "Hi", "response": "Hello"}\n',
            None,
        ),
        (
            "pool.json",
            '[{"prompt": "What is 2+2?", "response": "4"}, {"prompt": "Hi", "response": "Hello"}]',
            None,
        ),
        ("pool.yml", "conversations:\n- - What is 2+2?\n  - '4'\n- - Hi\n  - Hello\n", None),
    ],
)
def test_a_byte_order_mark_is_not_part_of_the_first_row(tmp_path, name, text, fields):
    """Excel's 'CSV UTF-8' and Notepad write one: it became part of the first column's name ('missing field
    question' on every row), made the first JSON line malformed, or a JSON array 'not an array'."""
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    stats = ReadStats()
    recs = list(iter_records(path, fields=fields, stats=stats))
    assert stats.n_malformed == 0 and [r.prompt for r in recs] == ["What is 2+2?", "Hi"]
    out = tmp_path / f"subset{Path(name).suffix if not name.endswith('.yml') else '.jsonl'}"
    assert write_subset(path, out, {0: {"_source_index": 0}}) == 1  # the second pass reads it too


def test_an_output_without_a_suffix_is_written_in_the_inputs_format(tmp_path):
    """As documented ('the chosen rows in the input's format'); a CSV pool gave a JSONL file."""
    out = tmp_path / "subset"
    assert write_subset(DATA / "qa.csv", out, {0: {"_source_index": 0}}) == 1
    header = out.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("question,answer,") and "_source_index" in header
    yaml_out = tmp_path / "from_yaml"
    assert write_subset(DATA / "chatter.yml", yaml_out, {0: {}}) == 1  # YAML is read, never written
    assert "messages" in json.loads(yaml_out.read_text())


@pytest.mark.parametrize(
    ("row", "prompt", "response", "prompt_only"),
    [
        ({"question": "Why?", "answer": "Because.", "label": "x"}, "Why?", "Because.", False),
        ({"prompt": "Say hi", "completion": "hi"}, "Say hi", "hi", False),
        ({"query": "q", "response": "r"}, "q", "r", False),
        ({"problem": "1+1", "solution": "2"}, "1+1", "2", False),
        ({"input": "in", "output": "out"}, "in", "out", False),
        ({"prompt": "p", "response": "r", "question": "not this"}, "p", "r", False),
        # an answer column named <anything>_answer/_response/_output...: BELLE's question/std_answer
        ({"question": "Why?", "std_answer": "Because.", "class": "x"}, "Why?", "Because.", False),
        ({"prompt": "p", "model-output": "o"}, "p", "o", False),
        # a prompt column alone: a prompt-only pool (an evaluation set)
        ({"question": "What is 2+2?", "category": "math"}, "What is 2+2?", "", True),
        ({"text": "Write a poem."}, "Write a poem.", "", True),
    ],
)
def test_common_prompt_and_answer_columns_are_detected(
    tmp_path, row, prompt, response, prompt_only
):
    """question/answer, prompt/completion, query/response, problem/solution and input/output pools were
    refused with 'cannot tell the row format' (found by the audit helper on an evaluation-style pool)."""
    path = tmp_path / "pool.jsonl"
    path.write_text("\n".join(json.dumps(row) for _ in range(2)) + "\n", encoding="utf-8")
    stats = ReadStats()
    recs = list(iter_records(path, stats=stats))
    assert [(r.prompt, r.response) for r in recs] == [(prompt, response)] * 2
    assert stats.prompt_only is prompt_only and stats.n_malformed == 0


def test_detected_columns_are_read_on_every_row(tmp_path):
    """The pair found on the first row is the one read after it: a later row missing it is malformed."""
    path = tmp_path / "pool.jsonl"
    rows = [{"question": "a", "answer": "b"}, {"prompt": "c", "response": "d"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    stats = ReadStats()
    assert [(r.prompt, r.response) for r in iter_records(path, stats=stats)] == [("a", "b")]
    assert stats.n_malformed == 1 and "missing field 'question'" in stats.errors[0]


def test_dolly_rows_are_instruction_rows_with_their_answer(tmp_path):
    """databricks-dolly-15k's columns (instruction, context, response, category) were read as a
    prompt-only alpaca pool: 'instruction' chose alpaca, which looked for 'output' only."""
    path = tmp_path / "dolly.jsonl"
    rows = [
        {
            "instruction": "Summarise.",
            "context": "A long text.",
            "response": "Short.",
            "category": "s",
        },
        {"instruction": "Name a colour.", "context": "", "response": "Red.", "category": "open_qa"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    stats = ReadStats()
    recs = list(iter_records(path, stats=stats, domain_field="category"))
    assert [(r.prompt, r.response) for r in recs] == [
        ("Summarise.\n\nA long text.", "Short."),
        ("Name a colour.", "Red."),
    ]
    assert stats.prompt_only is False and stats.n_malformed == 0


def test_a_pool_read_as_prompt_only_names_its_other_text_columns(tmp_path):
    """A prompt column and answers under a name no rule knows ('reference'): the pool is read prompt-only
    (there is no telling), and the note names the column and the --fields that would read it."""
    from tokenplan.select.pipeline import Recipe, run

    path = tmp_path / "pool.jsonl"
    rows = [
        {"question": f"q{i} " * 3, "reference": f"a{i}", "topic": "t", "n": 1} for i in range(6)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    stats = ReadStats()
    list(iter_records(path, stats=stats, domain_field="topic"))
    assert stats.prompt_only and stats.other_text_columns == ("reference",)
    report = run(
        Recipe(
            input=str(path), n_select=2, embedder="tfidf", cache_dir="none", domain_field="topic"
        )
    )
    (note,) = [n for n in report.notes if n.startswith("prompt-only")]
    assert "'reference'" in note and "--fields question,reference" in note


def test_message_content_given_as_a_list_of_parts_is_read_as_its_text(tmp_path):
    """OpenAI's chat format (and Anthropic's) allows ``content`` as a list of parts, ``{"type": "text",
    "text": ...}``; such rows were skipped as malformed ("must be text, got list"), losing them."""
    rows = [
        {
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "What is 2+2?"}]},
                {
                    "role": "assistant",
                    "content": [{"type": "text", "text": "4."}, {"type": "text", "text": "Four."}],
                },
            ]
        },
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": "data:,x"}},
                        {"type": "text", "text": "Describe it."},
                    ],
                },
                {"role": "assistant", "content": "A dot."},
            ]
        },
    ]
    pool = tmp_path / "parts.jsonl"
    pool.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    stats = ReadStats()
    recs = list(iter_records(pool, stats=stats))
    assert stats.n_malformed == 0, stats.errors
    assert [(r.prompt, r.response) for r in recs] == [
        ("What is 2+2?", "4.\n\nFour."),
        ("Describe it.", "A dot."),
    ]
    # a part that is neither text nor a known kind is still an error naming the field
    pool.write_text(
        json.dumps(
            {"messages": [{"role": "user", "content": [1]}, {"role": "assistant", "content": "x"}]}
        )
        + "\n"
    )
    stats = ReadStats()
    assert list(iter_records(pool, stats=stats)) == []
    assert "content" in stats.errors[0]


def test_an_empty_turn_adds_no_blank_lines_to_the_prompt(tmp_path):
    """An assistant turn that only calls a tool has ``content: null``: it joined as an empty paragraph,
    'weather?\\n\\n\\n\\nsunny' (an empty system turn was already left out)."""
    turns = [
        {"role": "system", "content": ""},
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "1", "type": "function"}]},
        {"role": "tool", "content": "sunny"},
        {"role": "user", "content": " "},
        {"role": "assistant", "content": "It is sunny."},
    ]
    pool = tmp_path / "tools.jsonl"
    pool.write_text(json.dumps({"messages": turns}) + "\n", encoding="utf-8")
    [rec] = iter_records(pool)
    assert (rec.prompt, rec.response) == ("weather?\n\nsunny", "It is sunny.")


def test_a_csv_cell_longer_than_csvs_default_limit_is_read_and_written(tmp_path):
    """csv stops at 131,072 characters a cell ('field larger than field limit'): a long answer was a
    traceback. The limit is raised only while a row is parsed (it is process-wide) and put back after."""
    answer = "word " * 40_000  # 200,000 characters
    pool = tmp_path / "pool.csv"
    with open(pool, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerows([["prompt", "response"], ["short", "a"], ["long", answer], ["last", "b"]])
    before = csv.field_size_limit()
    recs = list(iter_records(pool))
    assert [(r.prompt, len(r.response)) for r in recs] == [
        ("short", 1),
        ("long", 200_000),
        ("last", 1),
    ]
    assert csv.field_size_limit() == before
    out = tmp_path / "subset.csv"
    assert write_subset(pool, out, {1: {"_source_index": 1}}) == 1
    [row] = [r for r in iter_records(out)]
    assert row.response == answer and csv.field_size_limit() == before


def test_a_csv_quote_left_open_is_an_error_or_a_skipped_row_never_rows_joined(tmp_path):
    """csv read leniently: a quote never closed made the rest of the file one answer ('d\\ne,f\\ng,h'),
    and a stray quote closed lines later joined the rows between into one, both without a word."""
    pool = tmp_path / "pool.csv"
    pool.write_text('prompt,response\na,b\nc,"d\ne,f\ng,h\n', encoding="utf-8")
    with pytest.raises(
        InvalidInputError, match=r"line 3: a quote opened in this row is never closed"
    ):
        list(iter_records(pool))
    pool.write_text('prompt,response\na,b\nc,"d\ne,f\ng,"h\ni,j\n', encoding="utf-8")
    stats = ReadStats()
    recs = list(iter_records(pool, stats=stats))
    assert [(r.index, r.prompt, r.response) for r in recs] == [(0, "a", "b"), (2, "i", "j")]
    assert stats.n_malformed == 1 and "line 3: not readable as CSV" in stats.errors[0]
    assert "(lines 3-5 skipped as one row)" in stats.errors[0]
    # the subset is written from the same rows: source index 2 is still 'i,j'
    out = tmp_path / "subset.jsonl"
    write_subset(pool, out, {2: {"_source_index": 2}})
    assert json.loads(out.read_text()) == {"prompt": "i", "response": "j", "_source_index": 2}
    with pytest.raises(InvalidInputError, match="lines 3-5"):
        list(iter_records(pool, strict=True))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_utf16_pool_is_named_as_such(tmp_path, encoding):
    """PowerShell's > and Excel's 'Unicode Text' write UTF-16 with a byte-order mark: it was 'not UTF-8
    text (byte 0)', which names neither the encoding nor where the file came from."""
    pool = tmp_path / "pool.jsonl"
    text = json.dumps({"prompt": "a", "response": "b"}) + "\n"
    pool.write_bytes(
        ("\ufeff" if encoding == "utf-16-be" else "").encode(encoding) + text.encode(encoding)
    )
    with pytest.raises(
        InvalidInputError, match=r"pool.jsonl: UTF-16 text \(Excel's 'Unicode Text'"
    ):
        list(iter_records(pool))


@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".csv"])
def test_a_non_utf8_byte_is_placed_in_the_file_not_in_the_readers_chunk(tmp_path, suffix):
    """The error gave the decoding error's own offset, which counts from the start of the chunk the text
    reader was decoding (8 KB), not of the file: a Latin-1 byte 20 KB into a pool said "byte 3,6xx", and a
    file cut inside its last character said "byte 0"."""
    rows = [{"prompt": f"question {i}", "response": "an answer " * 10} for i in range(200)]
    rows.append({"prompt": "caf\xe9", "response": "x"})
    if suffix == ".csv":
        text = "prompt,response\n" + "".join(f"{r['prompt']},{r['response']}\n" for r in rows)
    elif suffix == ".json":
        text = json.dumps(rows, indent=1, ensure_ascii=False)
    else:
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    data = text.encode("latin-1")
    at, line = data.index(b"\xe9"), data.count(b"\n", 0, data.index(b"\xe9")) + 1
    assert at > 16384  # past the reader's first chunks
    pool = tmp_path / f"pool{suffix}"
    pool.write_bytes(data)
    with pytest.raises(InvalidInputError, match=rf"not UTF-8 text \(byte {at:,}, line {line}\)"):
        list(iter_records(pool))
    # cut inside a two-byte character: where, and that it looks truncated
    good = text.encode("utf-8")
    pool.write_bytes(good[: good.index("\xe9".encode()) + 1])
    cut = good.index("\xe9".encode())
    with pytest.raises(
        InvalidInputError,
        match=rf"ends inside a UTF-8 character \(byte {cut:,}, line {line}\); the file looks cut short",
    ):
        list(iter_records(pool))


def test_text_after_a_json_arrays_end_is_an_error_not_rows_left_unread(tmp_path):
    """Two arrays appended to one file ('[...]\\n[...]') read as the first alone: '1 rows read', the
    second array's rows gone without a word."""
    pool = tmp_path / "pool.json"
    first, second = [{"prompt": "a", "response": "b"}], [{"prompt": "c", "response": "d"}] * 2
    pool.write_text(json.dumps(first) + "\n" + json.dumps(second) + "\n", encoding="utf-8")
    with pytest.raises(
        InvalidInputError, match=r"pool.json: line 2: text after the array's closing"
    ):
        list(iter_records(pool))
    pool.write_text(json.dumps(first) + "\n \n", encoding="utf-8")  # white space after it is fine
    assert [r.prompt for r in iter_records(pool)] == ["a"]


def test_sharegpt_turns_of_chatgpt_bing_and_bard_are_answers(tmp_path):
    """ShareGPT dumps name the answering model in some turns ('chatgpt', 'bing', 'bard' beside 'gpt'): a
    conversation answered only by 'chatgpt' was 'no assistant turn' (dropped as malformed), and a last
    'bing' answer after a 'gpt' one was left out of the row, its question joined to the prompt."""
    rows = [
        {
            "conversations": [
                {"from": "human", "value": "hi"},
                {"from": "chatgpt", "value": "hello"},
            ]
        },
        {
            "conversations": [
                {"from": "human", "value": "q1"},
                {"from": "gpt", "value": "a1"},
                {"from": "human", "value": "q2"},
                {"from": "bing", "value": "a2"},
            ]
        },
        {"conversations": [{"from": "human", "value": "x"}, {"from": "bard", "value": "y"}]},
    ]
    pool = tmp_path / "sharegpt.jsonl"
    pool.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    stats = ReadStats()
    recs = list(iter_records(pool, stats=stats))
    assert [(r.prompt, r.response) for r in recs] == [
        ("hi", "hello"),
        ("q1\n\na1\n\nq2", "a2"),
        ("x", "y"),
    ]


@pytest.mark.parametrize("provenance", [[], [0, 1], None], ids=["empty-list", "list", "none"])
def test_write_subset_names_provenance_that_is_not_a_mapping(provenance, tmp_path):
    """write_subset(input, out, []) wrote an empty file and returned 0; [0, 1] raised TypeError from
    dict.update(0), None "argument of type 'NoneType' is not iterable"."""
    from tokenplan.select.io import write_subset

    pool = tmp_path / "pool.jsonl"
    pool.write_text('{"prompt": "a", "response": "b"}\n{"prompt": "c", "response": "d"}\n')
    with pytest.raises(
        InvalidInputError, match="must map each row's source index to its fields"
    ) as info:
        write_subset(pool, tmp_path / "out.jsonl", provenance)
    assert info.value.param == "provenance" and not (tmp_path / "out.jsonl").exists()
    assert write_subset(pool, tmp_path / "out.jsonl", {1: {"_score": 0.5}}) == 1


@pytest.mark.parametrize("path", [None, 3], ids=["none", "int"])
def test_iter_records_given_no_path_names_it(path):
    """iter_records(None) raised TypeError from Path() ('expected str, bytes or os.PathLike object')."""
    with pytest.raises(InvalidInputError, match="the pool must be a file path, not ") as info:
        list(iter_records(path))
    assert info.value.param == "input"


@pytest.mark.parametrize(
    ("row", "prompt", "flag"),
    [
        (
            {"instruction": "Name a fruit.", "input": "Be brief.", "output": ""},
            "Name a fruit.\n\nBe brief.",
            "--fields instruction,",
        ),
        (
            {
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Q?"},
                ]
            },
            "Be brief.\n\nQ?",
            "--fields messages,",
        ),
        ({"question": "Q?", "answer": ""}, "Q?", "--fields question,"),
    ],
)
def test_a_pool_with_no_answer_in_any_row_is_read_prompt_only(tmp_path, row, prompt, flag):
    """Evaluation sets often keep an empty answer column (alpaca's output, a question's answer) or hold chat
    prompts with no assistant turn: every row was dropped ('no candidates left ... 40 empty', or 40
    malformed 'no assistant turn'). A pool where no row has an answer is read again for its prompts alone,
    in its own format (alpaca's input and every chat turn kept), and the note says so and how."""
    from tokenplan.select.pipeline import Recipe, run

    path = tmp_path / "pool.jsonl"
    rows = []
    for i in range(12):
        r = json.loads(
            json.dumps(row).replace("Q?", f"Q{i} {'x' * i}?").replace("fruit", f"fruit {i}")
        )
        rows.append(r)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    rep = run(
        Recipe(input=str(path), output=str(tmp_path / "out.jsonl"), n_select=3, embedder="tfidf")
    )
    assert rep.n_candidates == 12 and rep.prompt_only
    assert any(
        f"no row has an answer, so it was read for its prompts alone (as {flag} does)" in n
        for n in rep.notes
    )
    out = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(out) == 3 and set(rows[0]) <= set(out[0])  # written in the input's own format
    first = next(iter_records(path, fields=(flag.split()[1].rstrip(","), "")))
    assert first.prompt == prompt.replace("Q?", "Q0 ?").replace("fruit", "fruit 0")


def test_an_answered_pool_with_some_empty_answers_is_not_read_prompt_only(tmp_path):
    """Only a pool with no answer at all is prompt-only: rows with an empty answer among answered ones are
    dropped as empty, as before."""
    from tokenplan.select.pipeline import Recipe, run

    path = tmp_path / "pool.jsonl"
    rows = [
        {"prompt": f"q{i} {'y' * i}", "response": f"a{i} {'z' * i}" if i % 2 else ""}
        for i in range(12)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    rep = run(Recipe(input=str(path), n_select=2, embedder="tfidf"))
    assert rep.n_candidates == 6 and not rep.prompt_only and rep.drop_reasons == {"empty": 6}


def test_a_prompt_column_of_chat_turns_is_read_as_their_text(tmp_path):
    """OpenAI evals' samples hold the prompt as chat turns in ``input`` (with the expected answer in
    ``ideal``): every row was malformed ('field input must be text, got list')."""
    path = tmp_path / "evals.jsonl"
    turns = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "2+2?"}]
    path.write_text(json.dumps({"input": turns, "ideal": "4"}) + "\n")
    stats = ReadStats()
    (rec,) = iter_records(path, stats=stats)
    assert rec.prompt == "Answer briefly.\n\n2+2?" and stats.n_malformed == 0


def test_a_target_in_another_format_is_read_as_given_beside_a_pool_read_prompt_only(tmp_path):
    """The pool (alpaca rows, every output empty) is read again as --fields instruction, would; the
    target (chat prompts) is still read by its own format, not with the pool's new fields."""
    from tokenplan.select.pipeline import Recipe, run

    pool, target = tmp_path / "pool.jsonl", tmp_path / "target.jsonl"
    pool.write_text(
        "".join(
            json.dumps({"instruction": f"q{i} {'x' * i}", "output": ""}) + "\n" for i in range(12)
        )
    )
    target.write_text(json.dumps({"messages": [{"role": "user", "content": "q3 xxx"}]}) + "\n")
    rep = run(Recipe(input=str(pool), target=str(target), n_select=3, embedder="tfidf"))
    assert rep.prompt_only and rep.n_selected == 3
    assert rep.drop_reasons == {"target_example": 1}  # q3 is the target's own example
