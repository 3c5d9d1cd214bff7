"""Atomic file output: every file tokenplan writes goes through here.

A file is written to a temporary name in the destination directory, flushed to disk and renamed over the
destination, so a crash (or SIGKILL) at any point leaves either the old file or the new one, never half of
either. On error the temporary file is removed and the destination is untouched.
"""

from __future__ import annotations

import codecs
import glob
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

__all__ = [
    "TEMP_MARK",
    "atomic_path",
    "atomic_write",
    "check_folder",
    "check_output",
    "csv_separator",
    "read_text",
    "read_yaml",
    "remove_stale_temps",
    "utf8_problem",
    "write_text_atomic",
]

# Every temporary file tokenplan creates carries this mark, so a later run can find and remove what a
# killed run left behind (``remove_stale_temps``) without touching anybody else's files.
TEMP_MARK = ".tokenplan-tmp"


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable (best effort: not every platform can open a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | os.PathLike[str], *, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends cleanly, move it over ``path``.

    For writers that want a file name (pyarrow, ``np.savez`` ...). The parent directory is created.
    """
    dst = Path(path)
    dst.parent.mkdir(parents=True, exist_ok=True)
    # the writer's pid is part of the name: a later run removes only temps whose writer is gone
    fd, name = tempfile.mkstemp(
        dir=dst.parent, prefix=f".{dst.name}.{os.getpid()}.", suffix=TEMP_MARK
    )
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(dst.parent)


@contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "w", **open_kwargs: Any
) -> Iterator[IO[Any]]:
    """``open(path, mode)`` that replaces ``path`` only when the block ends cleanly.

    Text mode defaults to UTF-8. ``mode`` must be a write mode (``"w"`` or ``"wb"``).
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', not {mode!r}")
    if mode == "w":
        open_kwargs.setdefault("encoding", "utf-8")
    with atomic_path(path) as tmp, open(tmp, mode, **open_kwargs) as fh:
        yield fh


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically."""
    with atomic_write(path, "w", newline="") as fh:
        fh.write(text)


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def check_output(
    path: str | os.PathLike[str],
    *,
    param: str,
    overwrite: bool = False,
    inputs: Iterator[str | os.PathLike[str] | None] | tuple | list = (),
    outputs: dict[str, str | os.PathLike[str] | None] | None = None,
) -> Path:
    """Refuse an output path that would lose data; return it as a ``Path``.

    - equal to any of ``inputs`` (same file, through links too): refused even with ``overwrite``;
    - equal to another of the run's ``outputs`` (``{"output": path, ...}``, by parameter name): refused;
    - an existing file: refused unless ``overwrite``; an existing directory is always refused;
    - a parent directory that cannot be created or written (under a file, read-only): refused.

    A missing parent directory is not refused: every command creates the folders of its outputs (never of
    its inputs). Nothing is created here, though: the write itself (:func:`atomic_write`) creates them, so
    a run refused or failed before writing leaves no empty folder. ``param`` is the argument's name
    (``"output"``, ``"plot"``, ``"save"``): the CLI maps it to the flag. Temp files that a killed earlier
    write of this same path left beside it are removed.
    """
    from tokenplan.errors import InvalidInputError

    dst = Path(path)
    what = f"`{param}`"  # the argument, quoted: the CLI gives its flag (--save), once
    clash = _clash(dst, inputs, outputs or {})
    if clash:
        raise InvalidInputError(f"{what} {str(dst)!r} is also {clash}", param=param)
    why = _not_a_file(os.fspath(path), dst)
    if why:
        raise InvalidInputError(f"{what} {os.fspath(path)!r} {why}", param=param)
    if dst.exists() and not overwrite:
        raise InvalidInputError(
            f"{what} {str(dst)!r} exists; pass --overwrite to replace it.", param=param
        )
    parent = _existing_above(dst, what=what, param=param)
    if not os.access(parent, os.W_OK | os.X_OK) or not _can_create_in(parent):
        raise InvalidInputError(
            f"{what} {str(dst)!r}: folder {str(parent)!r} is not writable; choose another path.",
            param=param,
        )
    remove_stale_temps(dst.parent, name=dst.name)
    return dst


def check_folder(path: str | os.PathLike[str], *, param: str) -> Path:
    """``path`` as a Path to a folder tokenplan may keep files in (a cache, a sweep): one that exists, or that can be
    created because the nearest existing path above it is a folder. An existing file at ``path`` or above
    it is refused naming ``param`` (``"cache_dir"``: the CLI maps it to the flag), rather than failing
    later or being skipped with a warning; so is ``-``, which made a folder named '-'. Nothing is created
    here."""
    from tokenplan.errors import InvalidInputError

    folder = Path(path)
    what = f"`{param}`"  # as in check_output
    if os.fspath(path) == "-":  # as for an output file: '-' is not standard output here
        raise InvalidInputError(
            f"{what} '-' would be a folder named '-': a folder cannot be standard input or output; "
            "give a folder path (./- if you mean that name).",
            param=param,
        )
    if folder.exists() and not folder.is_dir():
        raise InvalidInputError(
            f"{what} {str(folder)!r} is a file, not a folder; give a folder (it is created if "
            "missing).",
            param=param,
        )
    _existing_above(folder, what=what, param=param)
    return folder


def _existing_above(path: Path, *, what: str, param: str) -> Path:
    """The nearest folder above ``path`` that exists (where the missing ones would be created); a file
    there is refused: nothing can be created under it."""
    from tokenplan.errors import InvalidInputError

    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InvalidInputError(
            f"{what} {str(path)!r}: {str(parent)!r} is a file, not a folder; choose another path.",
            param=param,
        )
    return parent


def _not_a_file(raw: str, dst: Path) -> str | None:
    """Why ``dst`` (typed as ``raw``) is no path for a file that tokenplan may write, or None.

    An output is renamed into place (:func:`atomic_write`), which replaces whatever the path names: a
    device or pipe (`/dev/null`, `/dev/stdout`, which a root user's run once turned into plain files), or a
    symbolic link (the link becomes a file; its target keeps the old content). ``-`` is not standard output
    here, and a trailing slash names a folder: both used to be written as a file of that name.
    """
    if raw == "-":
        return (
            "would be a file named '-': tokenplan does not write this output to standard output "
            "(--json prints the result there); give a file name."
        )
    if dst.is_symlink():
        return (
            "is a symbolic link, which writing would replace with a file (its target keeping the old "
            "content); give the file it points to, or another path."
        )
    if dst.is_dir():
        return "is a directory; give a file path."
    if raw.endswith(("/", os.sep)):
        return "ends in a slash, which names a folder; give a file name in it."
    if dst.exists() and not dst.is_file():
        return "is not a regular file (a device, pipe or socket); give a file path."
    return None


def _clash(dst: Path, inputs, outputs: dict) -> str | None:
    """What ``dst`` would write over: one of the ``inputs``, or another of the run's ``outputs``."""
    if any(src is not None and _same_file(dst, Path(src)) for src in inputs):
        return "an input file; choose another output path (tokenplan never writes over its input)."
    for other, src in outputs.items():
        if src is not None and _same_file(dst, Path(src)):
            return f"the `{other}` path; give each output its own path."
    return None


def _can_create_in(folder: Path) -> bool:
    """Whether a file can be created in ``folder``: ``os.access`` says yes to root on a read-only mount or
    /proc, where the write would fail only after all the work, naming a temporary file. The probe carries
    the pid like every temp, and a probe left by a killed run is removed first (no later sweep looks for it:
    they sweep the temps of the files they write)."""
    remove_stale_temps(folder, name="probe")
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=f".probe.{os.getpid()}.", suffix=TEMP_MARK)
    except OSError:
        return False
    os.close(fd)
    os.unlink(name)
    return True


def _writer_alive(temp_name: str, written_at: float | None = None) -> bool:
    """Whether the process that created a marked temp (pid in its name) still runs on this host.

    A zombie is not running: a worker killed with its driver stays a zombie in a container whose pid 1 does
    not reap orphans, and ``kill(pid, 0)`` still succeeds for it. Nor is a process that started after the
    temp was last written (``written_at``, its mtime): the pid was reused. Both are read from /proc where
    there is one; elsewhere only the pid is checked.
    """
    parts = temp_name[: -len(TEMP_MARK)].rsplit(".", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return False  # an older name without a pid: nobody can be writing it any more
    pid = int(parts[1])
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but belongs to someone else
        pass
    state, started = _proc_state(pid)
    if state == "Z":
        return False
    return not (started is not None and written_at is not None and started > written_at + 1.0)


def _proc_state(pid: int) -> tuple[str | None, float | None]:
    """(state letter, start time in seconds since the epoch) of ``pid`` from Linux's /proc; Nones
    elsewhere or when unreadable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        state, ticks = fields[0], int(fields[19])  # fields 3 and 22 of proc(5)
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
        return state, boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None, None


def remove_stale_temps(directory: str | os.PathLike[str], *, name: str | None = None) -> int:
    """Delete temporary files a killed tokenplan run left in ``directory``; return how many.

    Only names carrying :data:`TEMP_MARK` whose writer process is gone are touched (a concurrent run's
    temp file is left alone); ``name`` restricts the sweep to the temps of one target file.
    """
    d = Path(directory)
    if not d.is_dir():
        return 0
    n = 0
    pattern = f".{glob.escape(name)}.*{TEMP_MARK}" if name else f".*{TEMP_MARK}"
    for f in d.glob(pattern):
        try:
            written_at = f.stat().st_mtime
        except OSError:
            continue  # gone already
        if _writer_alive(f.name, written_at):
            continue
        try:
            f.unlink()
            n += 1
        except OSError:
            pass
    return n


# --- reading ---------------------------------------------------------------------------------------------

# what a CSV may be separated by instead of commas (Excel writes ';' where the decimal mark is a comma)
CSV_SEPARATORS = (";", "\t", "|")


def csv_separator(header: str, *, suffix: str = "") -> str:
    """A CSV header line's separator: a tab for a ``.tsv`` file (``suffix``); else a comma, or, in a header
    without one, the most frequent of ; tab | (a header with a comma stays comma-separated whatever its
    cells hold)."""
    if suffix.lower() == ".tsv":
        return "\t"
    found = [sep for sep in CSV_SEPARATORS if sep in header]
    return "," if "," in header or not found else max(found, key=header.count)


def read_text(path: str | os.PathLike[str], *, what: str, param: str | None = None) -> str:
    """The UTF-8 text of ``path`` (a BOM is dropped); a missing, unreadable or non-UTF-8 file is refused
    with one error naming ``what`` (``"recipe"``, ``"sweep spec"``) and the file."""
    from tokenplan.errors import InvalidInputError

    if not isinstance(path, str | os.PathLike):  # Path(None) raised a bare TypeError
        raise InvalidInputError(
            f"{what} must be a file path, not {type(path).__name__}.", param=param
        )
    p = Path(path)
    if not p.is_file():
        raise InvalidInputError(
            f"{what} {str(p)!r} does not exist (or is not a file).", param=param
        )
    try:
        return p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problem, fix = utf8_problem(p, exc)
        raise InvalidInputError(f"{what} {str(p)!r}: {problem}; {fix}.", param=param) from None


def _utf8_break(path: Path) -> tuple[int, int, bool] | None:
    """Where the file ``path`` stops being UTF-8: (byte offset, line, whether it ends inside a character).

    A decoding error's own offset counts from the start of the chunk the text reader was decoding, not of
    the file (a file cut inside its last character said "byte 0"), so the file is scanned again, in binary.
    """
    base, line, pending = 0, 1, b""
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(1 << 20)
            data = pending + chunk
            try:
                _, used = codecs.utf_8_decode(data, "strict", not chunk)
            except UnicodeDecodeError as exc:
                cut = not chunk and exc.reason == "unexpected end of data"
                return base + exc.start, line + data.count(b"\n", 0, exc.start), cut
            if not chunk:
                return None
            line += data.count(b"\n", 0, used)
            base, pending = base + used, data[used:]


def utf8_problem(path: Path, exc: UnicodeDecodeError) -> tuple[str, str]:
    """(what is wrong, the fix) for the file ``path`` whose decoding raised ``exc``, in the one wording
    every reader uses: ``("not UTF-8 text (byte 1,234, line 5)", "save the file as UTF-8")``; a file that
    ends inside a character looks cut short, and one with a UTF-16 byte-order mark is named as UTF-16."""
    with suppress(OSError), open(path, "rb") as fh:
        if fh.read(2) in (b"\xff\xfe", b"\xfe\xff"):
            what = "UTF-16 text (Excel's 'Unicode Text', PowerShell's > and Out-File write it)"
            return what, "save the file as UTF-8"
    found = _utf8_break(path) if path.is_file() else None
    at, line, cut = found if found is not None else (exc.start, None, False)
    where = f"byte {at:,}" + (f", line {line}" if line is not None else "")
    what = "ends inside a UTF-8 character" if cut else "not UTF-8 text"
    return f"{what} ({where})", (
        "the file looks cut short; copy it again" if cut else "save the file as UTF-8"
    )


class _DuplicateKey(Exception):
    """A mapping that gives one key twice (YAML keeps the last in silence)."""


def _unique_keys_loader():
    """The safe loader, refusing a key given twice in one mapping: ``budgets`` written twice trained the
    second list alone, without a word. Merge keys (``<<: *defaults``) may still be overridden."""
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            if isinstance(node, yaml.MappingNode):
                seen: dict = {}
                for key_node, _ in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        continue
                    key, line = self.construct_object(key_node, deep=True), key_node.start_mark.line
                    try:
                        first = seen.get(key)
                    except TypeError:  # an unhashable key: the safe loader's own error names it
                        continue
                    if first is not None:
                        where = (
                            f"line {line + 1}"
                            if first == line
                            else f"lines {first + 1} and {line + 1}"
                        )
                        raise _DuplicateKey(
                            f"gives the key {key!r} twice ({where}), and YAML would keep the last "
                            "in silence; keep one of them."
                        )
                    seen[key] = line
            return super().construct_mapping(node, deep=deep)

    return UniqueKeyLoader


def read_yaml(path: str | os.PathLike[str], *, what: str, param: str | None = None) -> Any:
    """Parse ``path`` as YAML with the safe loader (no Python tags); errors name ``what`` and the file."""
    import yaml

    from tokenplan.errors import InvalidInputError

    text = read_text(path, what=what, param=param)
    try:
        return yaml.load(text, Loader=_unique_keys_loader())  # a SafeLoader: no Python tags
    except _DuplicateKey as exc:
        raise InvalidInputError(f"{what} {str(path)!r} {exc}", param=param) from None
    except yaml.YAMLError as exc:
        mark, problem = getattr(exc, "problem_mark", None), getattr(exc, "problem", None)
        if mark is not None and problem:  # where the parser gave up (a truncated file: its end)
            detail = f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
        else:
            detail = " ".join(str(exc).split())
        raise InvalidInputError(
            f"{what} {str(path)!r} is not valid YAML ({detail}); fix it there.", param=param
        ) from None
