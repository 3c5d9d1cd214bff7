"""The sweep folder: one writer at a time, a manifest of what the tool wrote, no litter after a kill.

- **Lock.** :meth:`SweepFolder.open` takes an exclusive ``flock`` on ``.tokenplan.lock`` (the PyPI package
  ``filelock``) and writes the holder's pid to ``.tokenplan.owner``. A second sweep on the same folder is
  refused with "in use by pid N". The kernel drops a ``flock`` when its process dies, so the lock of a
  killed sweep is taken over by the next one without any guessing about stale pids.
- **Manifest.** ``manifest.json`` lists the top-level files the tool wrote, each with its size, mtime and
  SHA-256 (so a copy of the folder, whose files have new mtimes, is still known as the tool's),
  the run folders it created under ``runs/``, and the grid (digest and description) of each spec trained
  there (more than one after ``--extend``). A folder that is not empty and has no manifest, a file at
  a name the sweep writes that is not in the manifest (a ``results.csv`` the user put there), a recorded file
  changed since, or a run folder the tool did not create: each is refused before anything is written, so
  nothing of the user's is ever replaced. Files at other names are left alone.
  A file about to be rewritten is first marked ``pending`` in the manifest and then written atomically, so a
  kill between the two leaves a file the next run still recognises as its own.
- **No litter.** Temporary files (``tokenplan._io.TEMP_MARK``) that a killed run left in the folder or in
  any run folder are removed when the lock is taken (only the lock holder writes there).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tokenplan._io import check_folder, remove_stale_temps, write_text_atomic
from tokenplan.errors import InvalidInputError, MissingDependencyError

__all__ = ["LOCK_NAME", "MANIFEST_NAME", "OUTPUT_NAMES", "OWNER_NAME", "SweepFolder"]

MANIFEST_NAME = "manifest.json"
LOCK_NAME = ".tokenplan.lock"
OWNER_NAME = ".tokenplan.owner"
OUTPUT_NAMES = ("sweep.yaml", "corpus.npz", "results.csv", "curves.csv", "results_best_lr.csv")
"""Top-level files a sweep writes (and so must never find there unless it wrote them)."""
_REBUILT = ("results.csv", "curves.csv", "results_best_lr.csv")
"""Outputs rebuilt from the runs' result.json files at every start (an edited one can simply go)."""
_OURS = {MANIFEST_NAME, LOCK_NAME, OWNER_NAME}
_FORMAT = "tokenplan-sweep-manifest/1"


def _stat(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _recorded(path: Path) -> dict[str, Any]:
    """What the manifest keeps of a file the sweep wrote: size and mtime (the quick check) and its SHA-256,
    which still knows the file when a copy (cp -r, scp, a fresh checkout) gave it a new mtime."""
    return {**_stat(path), "sha256": _sha256(path)}


class SweepFolder:
    """A sweep's output folder, locked for the lifetime of :meth:`open`'s block."""

    def __init__(self, path: str | Path) -> None:
        if not isinstance(path, str | os.PathLike):  # Path(None) raised a bare TypeError
            raise InvalidInputError(
                f"out_dir must be a folder path, not {type(path).__name__}.", param="out_dir"
            )
        self.path = Path(path)
        self.files: dict[str, dict[str, Any]] = {}
        self.runs: set[str] = set()
        self.grids: list[dict[str, str]] = []
        """Each spec trained here, oldest first: {"digest", "description"} (several after --extend)."""
        self._lock = None

    # --- opening ------------------------------------------------------------------------------------
    @contextmanager
    def open(self) -> Iterator[SweepFolder]:
        """Create or adopt the folder, lock it, check it holds only the tool's files, clean temps.

        If the block fails before :meth:`commit` (bad data, a spec that does not fit the corpus ...) in a
        folder this call created or found empty, everything the call wrote is removed again: refused input
        leaves no new files behind.
        """
        self._refuse_if_foreign_before_locking()
        existed, fresh = self.path.is_dir(), self._fresh_root()
        try:  # a read-only place (/proc/x, a folder without write permission) raised OSError
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidInputError(
                f"cannot create the sweep folder {str(self.path)!r} ({exc.strerror}); give a folder "
                "you can write.",
                param="out_dir",
            ) from None
        self._acquire()
        try:
            self._load_manifest()
            self._check_outputs()
            self._remove_temps()
            if not (self.path / MANIFEST_NAME).exists():
                self._save()
            yield self
        except BaseException:
            if fresh is not None and not self.committed:
                self._undo(fresh, existed=existed)
            raise
        finally:
            self._release()

    committed = False
    """True once runs have started writing (see :meth:`commit`)."""

    def commit(self) -> None:
        """From here on, what the sweep wrote stays even if it fails (finished runs are results)."""
        self.committed = True

    def _fresh_root(self) -> Path | None:
        """The folder this call will create (its topmost missing ancestor), or the folder itself when it
        exists and is empty; None for a folder with contents (nothing of it is ever removed)."""
        if self.path.is_dir():
            return None if any(self.path.iterdir()) else self.path
        top = self.path
        while not top.parent.exists() and top.parent != top.parent.parent:
            top = top.parent
        return top

    def _undo(self, root: Path, *, existed: bool) -> None:
        import shutil

        if existed:  # it was there, empty: remove what is in it now, keep the folder
            for child in root.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
        else:
            shutil.rmtree(root, ignore_errors=True)

    def _refuse(self, what: str, fix: str = "") -> InvalidInputError:
        fix = fix or "Choose a new --out folder, or move those files away."
        return InvalidInputError(
            f"out={str(self.path)!r} {what}; nothing was changed. {fix}", param="out_dir"
        )

    def _refuse_if_foreign_before_locking(self) -> None:
        """A folder that is not ours is refused before the lock file is created in it."""
        if self.path.exists() and not self.path.is_dir():
            raise InvalidInputError(
                f"out={str(self.path)!r} is a file; give a folder for the sweep.", param="out_dir"
            )
        check_folder(self.path, param="out_dir")  # '-' (a folder named '-'), a file above it
        if not self.path.is_dir() or (self.path / MANIFEST_NAME).exists():
            return
        foreign = sorted(p.name for p in self.path.iterdir() if p.name not in _OURS)
        if foreign:
            shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
            raise self._refuse(
                f"is not empty and was not made by tokenplan sweep (no {MANIFEST_NAME}; holds {shown})"
            )

    def _acquire(self) -> None:
        try:
            from filelock import FileLock, Timeout
        except ImportError:
            raise MissingDependencyError("filelock", "train") from None
        lock = FileLock(str(self.path / LOCK_NAME), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise InvalidInputError(
                f"out={str(self.path)!r} is in use by pid {self._owner()} (another sweep is writing "
                "there); wait for it to finish or choose another --out folder.",
                param="out_dir",
            ) from None
        self._lock = lock
        write_text_atomic(self.path / OWNER_NAME, f"{os.getpid()}\n")

    def _owner(self) -> str:
        try:
            return (self.path / OWNER_NAME).read_text("utf-8").strip() or "?"
        except (OSError, UnicodeError):
            return "?"

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # --- the manifest -------------------------------------------------------------------------------
    def _load_manifest(self) -> None:
        path = self.path / MANIFEST_NAME
        if not path.exists():
            foreign = sorted(p.name for p in self.path.iterdir() if p.name not in _OURS)
            if foreign:  # appeared between the first look and the lock
                raise self._refuse(f"is not empty and has no {MANIFEST_NAME}")
            return
        try:
            data = json.loads(path.read_text("utf-8"))
            ok = isinstance(data, dict) and data.get("format") == _FORMAT
            files, runs = data.get("files", {}), data.get("runs", [])
            ok = ok and isinstance(files, dict) and isinstance(runs, list)
        except (OSError, UnicodeError, ValueError):
            ok = False
        if not ok:
            raise self._refuse(f"has a {MANIFEST_NAME} that tokenplan sweep did not write")
        self.files = {str(k): dict(v) for k, v in files.items() if isinstance(v, dict)}
        self.runs = {str(r) for r in runs}
        grids = data.get("grids", [])  # a folder from before grids were recorded has none
        self.grids = (
            [dict(g) for g in grids if isinstance(g, dict)] if isinstance(grids, list) else []
        )

    def _save(self) -> None:
        data = {
            "format": _FORMAT,
            "note": "Files written by `tokenplan sweep` in this folder (do not edit).",
            "files": dict(sorted(self.files.items())),
            "runs": sorted(self.runs),
            "grids": self.grids,
        }
        write_text_atomic(self.path / MANIFEST_NAME, json.dumps(data, indent=1) + "\n")

    def _check_outputs(self) -> None:
        """Refuse files at the sweep's names that the tool did not write or that changed since."""
        problems, edited = [], []
        for name in OUTPUT_NAMES:
            path = self.path / name
            if not path.exists():
                continue
            entry = self.files.get(name)
            if entry is None:
                problems.append(f"{name} (not written by tokenplan sweep)")
            elif not entry.get("pending") and not self._unchanged(name, path, entry):
                problems.append(f"{name} (changed since tokenplan sweep wrote it)")
                edited.append(name)
        runs = self.path / "runs"
        if runs.is_dir():
            strange = sorted(
                p.name for p in runs.iterdir() if p.is_dir() and p.name not in self.runs
            )
            problems += [f"runs/{name} (not made by tokenplan sweep)" for name in strange[:5]]
        if problems:
            raise self._refuse("holds " + ", ".join(problems), self._fix_for(problems, edited))

    @staticmethod
    def _fix_for(problems: list[str], edited: list[str]) -> str:
        """An edited results file is rebuilt from the runs: say so, rather than send the user (whose
        finished runs are all in runs/) to a new --out folder that would train them again."""
        if not problems or len(edited) < len(problems) or not set(edited) <= set(_REBUILT):
            return ""
        return (
            f"The sweep writes {' and '.join(edited)} again from runs/*/result.json: move your edited "
            "copy away (or delete it) and run the same command; every finished run is kept."
        )

    def _unchanged(self, name: str, path: Path, entry: dict[str, Any]) -> bool:
        """The file is as the sweep wrote it: the same size and mtime, or (a copied folder's new mtime) the
        same bytes by SHA-256. A manifest from before hashes were kept has only the first check."""
        st = _stat(path)
        if st == {"size": entry.get("size"), "mtime_ns": entry.get("mtime_ns")}:
            return True
        digest = entry.get("sha256")
        if not digest or st["size"] != entry.get("size") or _sha256(path) != digest:
            return False
        self.files[name] = {**st, "sha256": digest}  # the copy's mtime, saved with the next write
        return True

    def _remove_temps(self) -> None:
        remove_stale_temps(self.path)
        runs = self.path / "runs"
        for run_id in sorted(self.runs):
            remove_stale_temps(runs / run_id)

    # --- writing ------------------------------------------------------------------------------------
    @contextmanager
    def writing(self, *names: str) -> Iterator[None]:
        """Mark top-level ``names`` pending, let the block (re)write them, then record what is there."""
        for name in names:
            self.files[name] = {"pending": True}
        self._save()
        try:
            yield
        finally:
            for name in names:
                path = self.path / name
                if path.exists():
                    self.files[name] = _recorded(path)
                else:
                    self.files.pop(name, None)
            self._save()

    def add_runs(self, run_ids: Iterable[str]) -> None:
        """Record run folders the sweep is about to create (before any worker writes in them)."""
        new = set(run_ids) - self.runs
        if new:
            self.runs |= new
            self._save()

    def add_grid(self, digest: str, description: str) -> None:
        """Record a spec trained into the folder (once per digest: a resumed spec is the same grid)."""
        if all(g.get("digest") != digest for g in self.grids):
            self.grids.append({"digest": digest, "description": description})
            self._save()

    def run_dir(self, run_id: str) -> Path:
        return self.path / "runs" / run_id
