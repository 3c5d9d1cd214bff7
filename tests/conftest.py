"""Session-wide test setup."""

from __future__ import annotations

import os
from pathlib import Path

# A relative PYTHONPATH (`PYTHONPATH=src python -m pytest`, how a worktree tests its own sources) stops naming
# this tree in a subprocess that runs in another folder (the docs tests run each command in an empty one):
# there it silently imported the installed tokenplan, so a docs block passed on code it did not test.
if os.environ.get("PYTHONPATH"):
    os.environ["PYTHONPATH"] = os.pathsep.join(
        str(Path(p).resolve()) for p in os.environ["PYTHONPATH"].split(os.pathsep) if p
    )
