"""Reading an SFT pool and writing a subset back in the same format.

Files: JSON (an array), JSONL, Parquet, CSV, and chatterbot-style YAML (a file, or a directory of them, one
domain per file). Row formats: ``alpaca`` (instruction / input / output), ``sharegpt`` (``conversations`` of
``{from, value}`` or ``messages`` of ``{role, content}``) and ``prompt-response`` (any two columns named with
``fields``). Everything is read as a stream of :class:`Record`, so a pool of millions of rows is never held in
memory; the subset is written by reading the input a second time and keeping the chosen rows.

A row that cannot be parsed (bad JSON, a missing field) is *malformed*: it is skipped and counted with its line
number in :class:`ReadStats`, or, with ``strict=True``, reading stops with an :class:`InvalidInputError`.
"""

from __future__ import annotations

import csv
import functools
import itertools
import json
import os
import shlex
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokenplan._io import atomic_path, check_output, csv_separator, utf8_problem
from tokenplan._json import json_default, json_lines, json_problem
from tokenplan.errors import InvalidInputError, MissingDependencyError

__all__ = [
    "FILE_TYPES",
    "ROW_FORMATS",
    "ReadStats",
    "Record",
    "detect_file_type",
    "is_chatterbot",
    "iter_records",
    "write_subset",
]

FILE_TYPES = ("json", "jsonl", "parquet", "csv", "yaml")
# UTF-8, with the byte-order mark some editors write (Excel's "CSV UTF-8", Notepad) skipped: read as
# plain UTF-8 it became part of the first column's name or made the first JSON line malformed
_ENCODING = "utf-8-sig"
ROW_FORMATS = ("auto", "alpaca", "sharegpt", "prompt-response")
_SUFFIX = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "csv",  # tab-separated: read and written as CSV with tabs
    ".yml": "yaml",
    ".yaml": "yaml",
}
#: compressed files are not read: the command that decompresses each, keeping the original
_COMPRESSED = {".gz": "gunzip -k", ".bz2": "bunzip2 -k", ".xz": "unxz -k", ".zst": "unzstd"}
_MAX_KEPT_ERRORS = 20
_USER_ROLES = {"user", "human", "prompt", "question"}
# ShareGPT dumps name the answering model: "gpt" mostly, and "chatgpt", "bing" or "bard" in some turns
_ASSISTANT_ROLES = {
    "assistant",
    "gpt",
    "chatgpt",
    "bing",
    "bard",
    "bot",
    "model",
    "response",
    "answer",
}


@dataclass(frozen=True)
class Record:
    """One sample of the pool.

    Attributes:
        index: 0-based position of the row in the input (the ``source index`` written back as provenance).
        prompt: the instruction (alpaca: instruction + input; sharegpt: every turn but the last answer).
        response: the answer being judged (alpaca: output; sharegpt: the last assistant turn).
        domain: value of the domain field (or the file name for a chatterbot directory); None if absent.
        score: value of the score field as a float; None if absent.
        raw: the row as read, written back unchanged (plus provenance fields) when the row is selected.
        line: 1-based line number in the file (row number for Parquet), for messages.
    """

    index: int
    prompt: str
    response: str
    domain: str | None = None
    score: float | None = None
    raw: Any = None
    line: int = 0

    @property
    def text(self) -> str:
        """The training input as the model sees it: instruction then answer (the 0.5% paper's text)."""
        return join_text(self.prompt, self.response)


def join_text(prompt: str, response: str) -> str:
    """Prompt, a blank line, answer; either alone when the other is empty (prompt-only pools)."""
    return f"{prompt}\n\n{response}" if prompt and response else (prompt or response)


class _Bad:
    """A row a reader could not parse: it still takes a source index, and is reported as malformed."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


@dataclass
class ReadStats:
    """What happened while reading: rows read, rows skipped as malformed (with the first few reasons)."""

    n_rows: int = 0
    n_malformed: int = 0
    errors: list[str] = field(default_factory=list)
    prompt_only: bool = False
    """True when the pool has prompts and no answers (every ``Record.response`` is then empty)."""
    prompt_column: str = ""
    """The prompt column detection chose (prompt-response rows); empty otherwise."""
    other_text_columns: tuple[str, ...] = ()
    """For a pool read as prompt-only by detection: its other columns holding text in the first row (not
    the prompt, domain or score column), one of which may be the answers under a name not recognised."""
    prompt_only_fields: tuple[str, str] | None = None
    """``fields`` that read this pool's prompts alone (``("instruction", "")`` for alpaca rows,
    ``("messages", "")`` for chat rows, ``(PROMPT, "")`` for prompt-response rows): what the pipeline reads
    it with when no row has an answer."""

    def malformed(self, where: str, message: str, *, strict: bool) -> None:
        text = f"{where}: {message}"
        if strict:
            raise InvalidInputError(f"{text} (drop --strict to skip malformed rows)")
        self.n_malformed += 1
        if len(self.errors) < _MAX_KEPT_ERRORS:
            self.errors.append(text)


def detect_file_type(path: str | os.PathLike) -> str:
    """The file type from the suffix (``.json``, ``.jsonl``, ``.parquet``, ``.csv`` or ``.tsv``, ``.yml``)."""
    p = Path(path)
    if p.is_dir():
        if any(p.glob("*.yml")) or any(p.glob("*.yaml")):
            return "yaml"
        files = ", ".join(sorted(s for s, kind in _SUFFIX.items() if kind != "yaml"))
        raise InvalidInputError(
            f"{p}: a folder is read as a chatterbot corpus (one .yml file per category) and this one "
            f"holds no .yml/.yaml files; give a file ({files}) or such a folder."
        )
    kind = _SUFFIX.get(p.suffix.lower())
    if kind is None and p.suffix.lower() in _COMPRESSED:
        raise InvalidInputError(
            f"{str(p)!r} is compressed ({p.suffix}) and select reads plain files; decompress it first "
            f"({_COMPRESSED[p.suffix.lower()]} {shlex.quote(str(p))}) and give {str(p.with_suffix(''))!r}."
        )
    if kind is None:
        raise InvalidInputError(
            f"cannot tell the type of {str(p)!r} from its suffix; use one of "
            f"{', '.join(sorted(_SUFFIX))}."
        )
    return kind


# ----------------------------------------------------------------------------------------- raw rows


class _JSONArrayStream:
    """A JSON array read in 1 MiB chunks: the unread text ``buf[pos:]`` and the line ``pos`` is on."""

    def __init__(self, fh: Any, path: Path) -> None:
        self.fh, self.path = fh, path
        self.buf, self.pos, self.line, self.eof = "", 0, 1, False
        self.decoder = json.JSONDecoder()

    def fill(self) -> bool:
        """Read the next chunk behind the unread text; False at the end of the file."""
        chunk = self.fh.read(1 << 20)
        if not chunk:
            self.eof = True
            return False
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next character after white space ('' at the end of the file), counting lines."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.line += self.buf[self.pos] == "\n"
                self.pos += 1
            if self.pos < len(self.buf) or not self.fill():
                return self.buf[self.pos] if self.pos < len(self.buf) else ""

    def fail(self, message: str) -> InvalidInputError:
        return InvalidInputError(f"{self.path}: line {self.line}: {message}")

    def value(self) -> tuple[int, Any]:
        """(line, object) of the JSON value at ``pos``, refilling while it runs past the chunk's end."""
        while True:
            try:
                obj, end = self.decoder.raw_decode(self.buf, self.pos)
                # a number or literal cut at the chunk edge decodes "successfully": refill and retry
                if end == len(self.buf) and not self.eof and self.fill():
                    continue
                break
            except json.JSONDecodeError as exc:
                if not self.eof and self.fill():
                    continue
                raise InvalidInputError(
                    f"{self.path}: line {self.line + self.buf.count(chr(10), self.pos, exc.pos)}: "
                    f"malformed JSON ({json_problem(exc, where='none')}); a JSON array cannot be read "
                    "past a broken row — fix "
                    "it, or use JSONL where bad lines are skipped."
                ) from None
        start_line = self.line
        self.line += self.buf.count("\n", self.pos, end)
        self.pos = end
        return start_line, obj


def _iter_json_array(path: Path, stats: ReadStats, strict: bool) -> Iterator[tuple[int, Any]]:
    """Stream the objects of a JSON array without loading the file (``raw_decode`` over chunks)."""
    with open(path, encoding=_ENCODING) as fh:
        stream = _JSONArrayStream(fh, path)
        first = stream.peek()
        if not first:
            raise InvalidInputError(f"{path}: the file is empty; expected a JSON array of rows.")
        if first != "[":
            raise stream.fail("expected a JSON array ('['); for one object per line use .jsonl.")
        stream.pos += 1
        n = 0
        while (c := stream.peek()) != "]":
            if not c:
                raise stream.fail("the JSON array is not closed (']').")
            if n:
                if c != ",":
                    raise stream.fail("expected ',' between rows.")
                stream.pos += 1
                stream.peek()
            yield stream.value()
            n += 1
        stream.pos += 1  # past the ']': anything after it was silently left unread
        if stream.peek():
            raise stream.fail(
                "text after the array's closing ']' (two JSON arrays one after the other?); join the "
                "rows into one array, or write one object per line as .jsonl."
            )


def _iter_jsonl(path: Path, stats: ReadStats, strict: bool) -> Iterator[tuple[int, Any]]:
    with open(path, encoding=_ENCODING) as fh:
        head = fh.read(4096).lstrip()
        # an array of rows (indented: every line was a malformed row); not a line that is a list
        if (
            head.startswith("[\n")
            or head.startswith("[\r")
            or head.replace(" ", "").startswith("[{")
        ):
            raise InvalidInputError(
                f"{path}: holds a JSON array ('[' before the first row), not one object per line; name "
                "it .json (a JSON array is read as such)."
            )
        fh.seek(0)
        for lineno, obj in json_lines(fh):
            if isinstance(obj, json.JSONDecodeError):
                obj = _Bad(f"malformed JSON ({json_problem(obj)})")
            yield lineno, obj


def _csv_separator(path: Path) -> str:
    """The separator of the CSV file's header line (:func:`tokenplan._io.csv_separator`)."""
    with open(path, encoding=_ENCODING, newline="") as fh:
        return csv_separator(fh.readline(), suffix=path.suffix)


def _iter_csv(path: Path, stats: ReadStats, strict: bool) -> Iterator[tuple[int, Any]]:
    with open(path, encoding=_ENCODING, newline="") as fh:
        # from the suffix or the header line, then read from the start
        separator = csv_separator(fh.readline(), suffix=path.suffix)
        fh.seek(0)
        # strict: a quote closed before its cell ends is an error, not silently joined to the next lines
        reader = csv.DictReader(fh, delimiter=separator, strict=True)
        header = _csv_step(reader, lambda: reader.fieldnames)
        if isinstance(header, csv.Error):
            raise InvalidInputError(
                f"{path}: line 1: the header is not readable as CSV ({header})."
            )
        if not header:
            what = "TSV" if path.suffix.lower() == ".tsv" else "CSV"
            raise InvalidInputError(f"{path}: the {what} file is empty; expected a header row.")
        lines = reader.reader  # its line count (DictReader's is not updated by a row that fails)
        start = lines.line_num + 1
        while (row := _csv_step(reader, lambda: next(reader, None))) is not None:
            yield (
                (start, _csv_error(path, row, start, lines.line_num))
                if isinstance(row, csv.Error)
                else (lines.line_num, _csv_row(row, reader.fieldnames))
            )
            start = lines.line_num + 1


def _csv_row(row: dict, columns: list[str]) -> Any:
    """``row``, or a :class:`_Bad` when it has more or fewer cells than the header has columns."""
    if None in row:  # more cells than header columns
        return _Bad(f"{len(columns) + len(row[None])} cells for {len(columns)} columns")
    if None in row.values():  # fewer cells: a ragged or truncated row
        return _Bad(
            f"{len(columns) - list(row.values()).count(None)} cells for {len(columns)} columns"
        )
    return row


def _csv_error(path: Path, exc: csv.Error, start: int, end: int) -> _Bad:
    """The malformed row of lines ``start``..``end``; raise when a quote is never closed (csv read the rest
    of the file as one cell: lenient, it was one row with every later row inside it)."""
    lines = f"lines {start}-{end}" if end > start else f"line {start}"
    if "unexpected end of data" in str(exc):
        raise InvalidInputError(
            f"{path}: line {start}: a quote opened in this row is never closed, which makes {lines} (the "
            'rest of the file) one cell; close it, or write a quote inside a cell as two ("").'
        )
    return _Bad(
        f"not readable as CSV ({exc}): a quoted cell has text after its closing quote ({lines} "
        'skipped as one row); write a quote inside a cell as two ("")'
    )


#: the longest CSV cell read (characters); csv's own limit, 131,072, stopped a long answer with a traceback
CSV_CELL_LIMIT = 2**31 - 1


def _csv_step(reader: csv.DictReader, step: Callable[[], Any]) -> Any:
    """``step()`` (the header or the next row of ``reader``) with csv's cell limit, a process-wide setting,
    raised to :data:`CSV_CELL_LIMIT` for the call and put back after it; a csv error is returned."""
    limit = csv.field_size_limit(CSV_CELL_LIMIT)
    try:
        return step()
    except csv.Error as exc:
        return exc
    finally:
        csv.field_size_limit(limit)


def _iter_parquet(path: Path, stats: ReadStats, strict: bool) -> Iterator[tuple[int, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependencyError("pyarrow", "select") from None
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise InvalidInputError(f"{path}: not a readable Parquet file ({exc}).") from None
    row = 0
    for batch in pf.iter_batches(batch_size=4096):
        for obj in batch.to_pylist():
            row += 1
            yield row, obj


def is_chatterbot(doc: Any) -> bool:
    """Whether a parsed YAML document is a chatterbot corpus file: a mapping with a ``conversations`` list."""
    return isinstance(doc, dict) and isinstance(doc.get("conversations"), list)


def _iter_yaml(path: Path, stats: ReadStats, strict: bool) -> Iterator[tuple[int, Any]]:
    """Chatterbot corpus files: ``conversations: [[q, a, ...], ...]``; the domain is the file's name."""
    import yaml

    files = sorted([*path.glob("*.yml"), *path.glob("*.yaml")]) if path.is_dir() else [path]
    for f in files:
        try:
            doc = yaml.safe_load(f.read_text(encoding=_ENCODING))
        except yaml.YAMLError as exc:
            mark, problem = getattr(exc, "problem_mark", None), getattr(exc, "problem", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
            detail = problem or " ".join(str(exc).split())  # one line: the report lists it
            stats.malformed(f"{f}", f"malformed YAML ({where}{detail})", strict=strict)
            continue
        if not is_chatterbot(doc):
            stats.malformed(f"{f}", "expected a mapping with a 'conversations' list", strict=strict)
            continue
        for i, conv in enumerate(doc["conversations"], start=1):
            if not isinstance(conv, list) or len(conv) < 2:
                yield i, _Bad(f"{f.name}: conversation {i} needs a list of at least two turns")
                continue
            # turns alternate user, assistant; a last user turn has no reply, so no place in an SFT row
            turns = [
                {"role": "user" if j % 2 == 0 else "assistant", "content": str(t)}
                for j, t in enumerate(conv[: len(conv) // 2 * 2])
            ]
            yield i, {"messages": turns, "domain": f.stem}


_READERS = {
    "json": _iter_json_array,
    "jsonl": _iter_jsonl,
    "csv": _iter_csv,
    "parquet": _iter_parquet,
    "yaml": _iter_yaml,
}


# ----------------------------------------------------------------------------------------- row formats


#: column pairs read as (prompt, answer) when a pool's first row has both, the first pair found winning;
#: the names the common instruction and evaluation sets use (prompt/completion: OpenAI's fine-tuning files)
PROMPT_RESPONSE_COLUMNS = (
    ("prompt", "response"),
    ("prompt", "completion"),
    ("question", "answer"),
    ("query", "response"),
    ("problem", "solution"),
    ("input", "output"),
)
#: a column of these names with no answer column beside it is read as a prompt-only pool
# The domain column read without --domain-field when a row has no `domain`: `tokenplan data chatterbot`
# named its label `source` until 2026-12-05 (now `domain`); its older files keep their domains.
LEGACY_DOMAIN = "source"
PROMPT_COLUMNS = ("prompt", "question", "query", "problem", "input", "text")
#: beside a prompt column, a column named ``<anything>_<one of these>`` holds the answers (BELLE's
#: ``std_answer``, ``reference_answer``, ``gold_response``, ``model_output``...), tried after the pairs above
ANSWER_SUFFIXES = ("answer", "response", "completion", "output", "solution")


def _answer_like(row: Mapping, prompt: str) -> str | None:
    """The first column other than ``prompt`` whose name ends in ``_`` or ``-`` and an answer word."""
    ends = tuple(sep + word for word in ANSWER_SUFFIXES for sep in ("_", "-"))
    return next((c for c in row if c != prompt and str(c).lower().endswith(ends)), None)


def _other_text(stats: ReadStats, row: Mapping, fields, skip: set) -> None:
    """For a pool detection read as prompt-only: its prompt column, and the other columns of ``row`` (not
    the prompt nor ``skip``) holding non-empty text, one of which may be answers under an unknown name."""
    stats.prompt_column = fields[0] if fields else "instruction"
    skip = skip | {stats.prompt_column}
    stats.other_text_columns = tuple(
        str(c) for c, v in row.items() if c not in skip and isinstance(v, str) and v.strip()
    )


def _alpaca_answer(row: Mapping) -> str | None:
    """An instruction row's answer column: alpaca's ``output``, or ``response`` as Dolly names it (whose
    ``context`` is alpaca's ``input``); None when it has neither (a prompt-only pool)."""
    return next((c for c in ("output", "response") if c in row), None)


#: ``--fields COLUMN,`` (prompts alone) on rows of these formats reads them in their own format, prompt-only:
#: alpaca's instruction with its input, or a chat's every turn
_PROMPT_ONLY_FORMATS = dict(instruction="alpaca", messages="sharegpt", conversations="sharegpt")


def _detect_row_format(
    row: Mapping, fields: tuple[str, str] | None
) -> tuple[str, bool, tuple[str, str] | None]:
    """The row format, whether the pool is prompt-only (a prompt column and no answer column), and the
    prompt-response columns found (None: the format's own, or ``fields``)."""
    if fields is not None:
        if not fields[1] and fields[0] in _PROMPT_ONLY_FORMATS and fields[0] in row:
            return _PROMPT_ONLY_FORMATS[fields[0]], True, None  # its own format, prompt-only
        return "prompt-response", not fields[1], fields
    if "instruction" in row:
        return "alpaca", _alpaca_answer(row) is None, None
    if "conversations" in row or "messages" in row:
        return "sharegpt", False, None
    for pair in PROMPT_RESPONSE_COLUMNS:
        if pair[0] in row and pair[1] in row:
            return "prompt-response", False, pair
    for column in PROMPT_COLUMNS:
        if column in row:
            answer = _answer_like(row, column)
            return "prompt-response", answer is None, (column, answer or "")
    raise InvalidInputError(
        f"cannot tell the row format from the columns {sorted(row)}; expected alpaca "
        "(instruction, input, output), sharegpt (conversations or messages) or a prompt and answer "
        "column (prompt/response, question/answer, ...); name them with --fields PROMPT,RESPONSE "
        "(--fields PROMPT, for prompts alone)."
    )


def _prompt_only_fields(row: Mapping, fmt: str, fields: tuple[str, str] | None) -> tuple[str, str]:
    """The ``fields`` that read a pool of ``fmt`` rows (first row ``row``) for its prompts alone."""
    if fmt == "alpaca":
        return ("instruction", "")
    if fmt == "sharegpt":
        return ("messages" if "messages" in row else "conversations", "")
    return ((fields or ("prompt", "response"))[0], "")


def _first_row(
    row: Mapping, fmt: str | None, fields: tuple[str, str] | None
) -> tuple[str, bool, tuple[str, str] | None]:
    """The row format (detected, unless given), whether the pool is prompt-only, and the prompt-response
    columns, from its first row."""
    if fmt is None:
        return _detect_row_format(row, fields)
    if fmt == "alpaca":
        return fmt, _alpaca_answer(row) is None, fields
    if fmt == "prompt-response":
        prompt_only = not (fields or ("prompt", "response"))[1] or (
            fields is None and "response" not in row
        )
        return fmt, prompt_only, fields
    return fmt, False, fields


def _text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    raise ValueError(f"field {name!r} must be text, got {type(value).__name__}")


def _turn_text(content: Any) -> str:
    """A turn's text: a string, or OpenAI's (and Anthropic's) list of parts, whose ``{"type": "text",
    "text": ...}`` parts are joined by a blank line and whose other parts (images, audio) are left out."""
    if not isinstance(content, list):
        return _text(content, "content")
    texts = []
    for part in content:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, Mapping) and "type" in part:
            if part["type"] == "text":
                texts.append(_text(part.get("text"), "content"))
        else:
            raise ValueError(
                "field 'content' is a list whose parts are not text or {type, ...} parts"
            )
    return "\n\n".join(t for t in texts if t)


def _parse_turns(row: Mapping, *, prompt_only: bool = False) -> tuple[str, str]:
    """(prompt, answer) of a chat row: the last assistant turn is the answer and the turns before it the
    prompt; a row with no assistant turn (a prompt awaiting its answer, as evaluation sets hold) is every
    turn as the prompt and no answer, as is every row with ``prompt_only``."""
    turns = row.get("conversations", row.get("messages"))
    if isinstance(turns, str):  # a CSV cell: select writes the turns to CSV as JSON text
        try:
            turns = json.loads(turns)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"'conversations'/'messages' is text but not JSON ({json_problem(exc, where='line')})"
            ) from None
    if not isinstance(turns, list) or not turns:
        raise ValueError("'conversations'/'messages' must be a non-empty list of turns")
    parsed = _turns(turns)
    last_answer = max((i for i, (r, _) in enumerate(parsed) if r in _ASSISTANT_ROLES), default=None)
    end = len(parsed) if last_answer is None else last_answer
    prompt = "\n\n".join(c for _, c in parsed[:end] if c.strip())
    if last_answer is None or prompt_only:
        return prompt, ""
    return prompt, parsed[last_answer][1]


def _turns(turns: list) -> list[tuple[str, str]]:
    """(role, text) of each turn of a chat: role/content (OpenAI) or from/value (ShareGPT)."""
    parsed = []
    for t in turns:
        if not isinstance(t, Mapping):
            raise ValueError("every turn must be an object with role/content or from/value")
        role = str(t.get("role", t.get("from", ""))).lower()
        parsed.append((role, _turn_text(t.get("content", t.get("value")))))
    return parsed


def _prompt_text(value: Any, name: str) -> str:
    """A prompt cell's text: text, a number, or a list of chat turns (OpenAI evals' ``input``), whose
    texts are joined by a blank line."""
    if isinstance(value, list) and value and all(isinstance(t, Mapping) for t in value):
        return "\n\n".join(c for _, c in _turns(value) if c.strip())
    return _text(value, name)


def _to_record(
    index: int,
    line: int,
    row: Any,
    fmt: str,
    fields: tuple[str, str] | None,
    domain_field: str | None,
    score_field: str | None,
    prompt_only: bool = False,
) -> Record:
    if not isinstance(row, Mapping):
        raise ValueError(f"expected an object, got {type(row).__name__}")
    if fmt == "alpaca":
        answer = _alpaca_answer(row)
        for name in ("instruction",) if prompt_only else ("instruction", answer or "output"):
            if name not in row:
                raise ValueError(f"missing field {name!r}")
        instruction = _text(row["instruction"], "instruction")
        context = "input" if "input" in row else "context"
        extra = _text(row.get(context), context)
        prompt = f"{instruction}\n\n{extra}" if extra else instruction
        response = "" if prompt_only else _text(row[answer], answer)
    elif fmt == "sharegpt":
        prompt, response = _parse_turns(row, prompt_only=prompt_only)
    else:
        p_name, r_name = fields or ("prompt", "response")
        for name in (p_name,) if prompt_only else (p_name, r_name):
            if name not in row:
                raise ValueError(f"missing field {name!r}")
        prompt = _prompt_text(row[p_name], p_name)
        response = "" if prompt_only else _text(row[r_name], r_name)
    domain = None
    if domain_field is not None:
        if domain_field not in row or row[domain_field] in (None, ""):
            raise ValueError(f"missing domain field {domain_field!r}")
        domain = str(row[domain_field])
    elif "domain" in row and isinstance(row["domain"], str):
        domain = row["domain"]
    elif isinstance(row.get(LEGACY_DOMAIN), str):  # `data chatterbot`'s files before 2026-12-05
        domain = row[LEGACY_DOMAIN]
    score = None
    if score_field is not None and row.get(score_field) not in (None, ""):
        try:
            score = float(row[score_field])
        except (TypeError, ValueError):
            raise ValueError(
                f"score field {score_field!r}={row[score_field]!r} is not a number"
            ) from None
    return Record(index, prompt, response, domain, score, row, line)


def _decoded(path: Path, rows: Iterator[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
    """``rows``, with a file that is not UTF-8 reported as one error naming it (not a UnicodeDecodeError)."""
    try:
        yield from rows
    except UnicodeDecodeError as exc:
        what, fix = utf8_problem(path, exc)
        raise InvalidInputError(f"{path}: {what}; {fix}.", param="input") from None


def iter_records(
    path: str | os.PathLike,
    *,
    row_format: str = "auto",
    fields: tuple[str, str] | None = None,
    domain_field: str | None = None,
    score_field: str | None = None,
    strict: bool = False,
    stats: ReadStats | None = None,
) -> Iterator[Record]:
    """Stream the rows of ``path`` as :class:`Record` objects.

    ``index`` counts every row in the file, malformed ones included, so that it is a stable source index.
    Malformed rows are counted in ``stats`` (pass your own :class:`ReadStats` to see them) or raise with
    ``strict=True``.
    """
    p = _check_read_options(path, row_format, fields)
    stats = stats if stats is not None else ReadStats()
    kind = detect_file_type(p)
    fmt = None if row_format == "auto" else row_format
    index, first = -1, True
    for line, row in _decoded(p, _READERS[kind](p, stats, strict)):
        index += 1
        stats.n_rows += 1
        where = f"{p}: {'row' if kind == 'parquet' else 'line'} {line}"
        if kind == "yaml":
            where = f"{p}: item {line}"
        if isinstance(row, _Bad):
            stats.malformed(where, row.message, strict=strict)
            continue
        if first:
            if not isinstance(row, Mapping):
                stats.malformed(
                    where, f"expected an object, got {type(row).__name__}", strict=strict
                )
                continue
            first = False
            detected = fmt is None and fields is None
            _check_columns(where, row, fields, domain_field, score_field)
            found, stats.prompt_only, fields = _first_row(row, fmt, fields)
            fmt = fmt or found
            if detected and not stats.prompt_only:
                stats.prompt_only_fields = _prompt_only_fields(row, fmt, fields)
            if detected and stats.prompt_only:
                labels = {domain_field} if domain_field else {"domain", LEGACY_DOMAIN}
                _other_text(stats, row, fields, labels | {score_field})
        try:
            yield _to_record(
                index, line, row, fmt, fields, domain_field, score_field, stats.prompt_only
            )
        except ValueError as exc:
            stats.malformed(where, str(exc), strict=strict)
    if stats.n_rows == 0:
        _no_rows(p, stats)


def _check_columns(
    where: str,
    row: Mapping,
    fields: tuple[str, str] | None,
    domain_field: str | None,
    score_field: str | None,
) -> None:
    """Raise if a column named by ``fields``, ``domain_field`` or ``score_field`` is not in the pool's first
    row (a mistyped ``--fields`` made every row malformed, reported as 'no candidates left')."""
    named = [("prompt", "fields", c) for c in (fields or ())[:1]]
    named += [("response", "fields", c) for c in (fields or ())[1:] if c]
    named += [("domain", "domain_field", domain_field), ("score", "score_field", score_field)]
    for what, param, column in named:
        if column is not None and column not in row:
            field = "column" if param == "fields" else "field"
            raise InvalidInputError(
                f"{where}: the {what} {field} {column!r} is not a column of the file "
                f"(columns: {', '.join(sorted(map(str, row)))}).",
                param=param,
            )


def _no_rows(p: Path, stats) -> None:
    """Raise: nothing was read from ``p``, because every file was unreadable (bad YAML, not chatterbot) or
    because it holds no rows."""
    if stats.errors:
        more = f" (and {stats.n_malformed - 1} more)" if stats.n_malformed > 1 else ""
        raise InvalidInputError(f"no rows read: {stats.errors[0]}{more}.")
    raise InvalidInputError(f"{p}: no rows found; {_holds_nothing(p)}.")


def _holds_nothing(p: Path) -> str:
    """What a pool with no rows holds, by its type (an empty CSV or JSON file is an error of its own)."""
    if p.is_dir():
        return "the folder holds no rows"
    kind = detect_file_type(p)
    if kind == "csv":
        return "the file has a header row and no rows under it"
    if kind == "json":
        return "the file is an empty JSON array ([])"
    if kind == "parquet":
        return "the Parquet file has no rows"
    return "the file is empty or blank"


def missing_file(what: str, p: Path, *, param: str) -> InvalidInputError:
    """The error for a file that does not exist, with the folder a relative path was looked for in (a
    recipe's folder is not it)."""
    where = (
        ""
        if p.is_absolute()
        else f" (a relative path is read from the current folder, {Path.cwd()})"
    )
    return InvalidInputError(f"{what} {str(p)!r} does not exist{where}.", param=param)


def _check_read_options(
    path: str | os.PathLike, row_format: str, fields: tuple[str, str] | None
) -> Path:
    """``path`` as a Path once it exists, the row format is known and ``fields`` names two columns."""
    if not isinstance(path, str | os.PathLike):  # Path(None) raised a bare TypeError
        raise InvalidInputError(
            f"the pool must be a file path, not {type(path).__name__}; write rows in memory to a JSONL "
            "file first.",
            param="input",
        )
    p = Path(path)
    if not p.exists():
        raise missing_file("pool", p, param="input")
    if row_format not in ROW_FORMATS:
        from tokenplan.errors import UnknownNameError

        raise UnknownNameError("row format", row_format, ROW_FORMATS)
    if fields is not None and (len(fields) != 2 or not fields[0]):
        raise InvalidInputError(
            f"fields={fields!r} must name two columns: PROMPT,RESPONSE (PROMPT, for prompts only).",
            param="fields",
        )
    return p


# ----------------------------------------------------------------------------------------- writing


def write_subset(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    provenance: Mapping[int, Mapping[str, Any]],
    *,
    overwrite: bool = False,
) -> int:
    """Write the input rows whose source index is a key of ``provenance``, in the input's format.

    Each written row is the row as read plus the provenance fields given for it (e.g. ``_source_index``,
    ``_cluster``, ``_score``). The file is written to a temporary file beside the output and moved into place,
    so a crash never leaves half a file; the input is never modified. Returns the number of rows written.
    A chatterbot YAML input is written as JSONL rows with ``messages`` and ``domain``.
    """
    if not isinstance(provenance, Mapping):  # [] wrote an empty file, [0, 1] raised TypeError
        raise InvalidInputError(
            f"provenance must map each row's source index to its fields (e.g. {{0: {{'_score': 0.9}}}}), "
            f"not {type(provenance).__name__}.",
            param="provenance",
        )
    src = Path(input_path)
    # the checks of every output (a missing folder is created by the write)
    dst = check_output(output_path, param="output", overwrite=overwrite, inputs=[src])
    kind = detect_file_type(src)
    # no suffix: the input's format, as documented (a chatterbot YAML input: JSONL)
    out_kind = detect_file_type(dst) if dst.suffix else ("jsonl" if kind == "yaml" else kind)
    if out_kind == "yaml":
        raise InvalidInputError("writing YAML is not supported; use a .jsonl output.")
    write = _WRITERS[out_kind]
    if out_kind == "csv":
        write = functools.partial(_write_csv, separator=_output_separator(src, dst, kind))
    with atomic_path(dst) as tmp:  # a writer may read the rows twice (columns first)
        n = write(tmp, lambda: _selected_rows(src, kind, provenance))
    return n


def _output_separator(src: Path, dst: Path, kind: str) -> str:
    """Tabs for a ``.tsv`` output; a CSV pool's subset keeps its separator (``;`` from Excel), unless a
    ``.tsv`` pool is written to a ``.csv`` file; commas otherwise."""
    if dst.suffix.lower() == ".tsv":
        return "\t"
    if kind != "csv" or (dst.suffix.lower() == ".csv" and src.suffix.lower() == ".tsv"):
        return ","
    return _csv_separator(src)


def _selected_rows(
    src: Path, kind: str, provenance: Mapping[int, Mapping[str, Any]]
) -> Iterator[dict]:
    stats = ReadStats()
    for index, (_, row) in enumerate(_READERS[kind](src, stats, False)):
        if index in provenance and not isinstance(row, _Bad):
            base = dict(row) if isinstance(row, Mapping) else {"value": row}
            base.update(provenance[index])
            yield base


def _write_jsonl(path: Path, rows: Callable[[], Iterator[dict]]) -> int:
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows():
            fh.write(json.dumps(row, ensure_ascii=False, default=json_default) + "\n")
            n += 1
    return n


def _write_json(path: Path, rows: Callable[[], Iterator[dict]]) -> int:
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("[")
        for row in rows():
            fh.write(
                ("\n  " if n == 0 else ",\n  ")
                + json.dumps(row, ensure_ascii=False, default=json_default)
            )
            n += 1
        fh.write("\n]\n")
    return n


def _write_csv(path: Path, rows: Callable[[], Iterator[dict]], *, separator: str = ",") -> int:
    """Every column any selected row has (a JSONL row may omit ``input``), in first-seen order; a list or a
    mapping (``messages``) as JSON text, not Python's repr."""
    columns = list(dict.fromkeys(key for row in rows() for key in row))
    n = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, delimiter=separator)
        writer.writeheader()
        for row in rows():
            writer.writerow({k: _csv_cell(v) for k, v in row.items()})
            n += 1
    return n


def _csv_cell(value: Any) -> Any:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=json_default)
    return value


def _write_parquet(path: Path, rows: Callable[[], Iterator[dict]]) -> int:
    """Two passes of 4,096 rows at a time: the schema that holds every selected row's columns (a column
    a row lacks is null in it), then the rows."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependencyError("pyarrow", "select") from None
    try:
        # pa.array infers a struct from every row's keys (from_pylist reads the first row's only)
        schemas = [pa.array(c).type for c in _batched(rows(), 4096)]
        if not schemas:
            pq.write_table(pa.table({}), path)
            return 0
        schema = pa.unify_schemas(
            [pa.schema(list(t)) for t in schemas], promote_options="permissive"
        )
        n = 0
        with pq.ParquetWriter(path, schema) as writer:
            for chunk in _batched(rows(), 4096):
                writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
                n += len(chunk)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InvalidInputError(
            f"cannot write the subset as Parquet ({exc}); write .jsonl instead.", param="output"
        ) from None
    return n


def _batched(rows: Iterator[dict], size: int) -> Iterator[list[dict]]:
    while chunk := list(itertools.islice(rows, size)):
        yield chunk


_WRITERS = {
    "jsonl": _write_jsonl,
    "json": _write_json,
    "csv": _write_csv,
    "parquet": _write_parquet,
}
