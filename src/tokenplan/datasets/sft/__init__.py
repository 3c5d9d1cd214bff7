"""Small SFT pools shipped with tokenplan, so that ``tokenplan select`` runs on a fresh install.

>>> from tokenplan.datasets import sft
>>> sorted(sft.POOLS)
['belle-eval', 'chatterbot']
>>> sft.path("chatterbot").name
'chatterbot_english'

- ``chatterbot``: the English chatterbot corpus (PyPI ``chatterbot-corpus`` 1.3.3, BSD licence): 21 files, one
  per category (the file name is each row's domain), 2,026 question/answer pairs, 899 distinct.
- ``belle-eval``: BELLE's Chinese evaluation set (ODC-By, attribution in the README): 1,000 prompts in 10
  classes (column ``class``), 631 with a reference answer (``std_answer``); read it with
  ``--fields question,std_answer`` or, prompt-only, ``--fields question,``.

On the command line: ``tokenplan select --example chatterbot ...``. Sources and licences: ``README.md`` here.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from tokenplan._checks import choice

__all__ = ["POOLS", "Pool", "path"]


@dataclass(frozen=True)
class Pool:
    """One shipped pool: where it lives, how to read it, where it comes from."""

    file: str
    description: str
    fields: tuple[str, str] | None
    domain_field: str | None
    source: str
    licence: str


POOLS: dict[str, Pool] = {
    "chatterbot": Pool(
        file="chatterbot_english",
        description="English chatterbot corpus: 21 categories (one .yml each), 2,026 Q/A pairs",
        fields=None,
        domain_field=None,
        source="chatterbot-corpus 1.3.3 (PyPI), github.com/gunthercox/chatterbot-corpus, by Gunther Cox "
        "and contributors",
        licence="BSD",
    ),
    "belle-eval": Pool(
        file="belle_eval_zh.jsonl",
        description="BELLE evaluation set: 1,000 Chinese prompts in 10 classes, 631 with a reference answer",
        fields=("question", "std_answer"),
        domain_field="class",
        source="BELLE project (LianjiaTech/BELLE), evaluation set",
        licence="ODC-By (attribution required)",
    ),
}


def path(name: str) -> Path:
    """The file (or directory) of a shipped pool, by name (``chatterbot``, ``belle-eval``)."""
    pool = POOLS[choice("example pool", name, POOLS, param="example")]
    return Path(str(resources.files(__name__) / pool.file))
