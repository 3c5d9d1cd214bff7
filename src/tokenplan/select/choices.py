"""The names ``tokenplan.select`` accepts for its string options, in a module that imports nothing: the CLI
builds ``tokenplan select``'s option lists from them without importing the embedding or filter code
(``tokenplan --help`` builds every command). The modules that use each name import it from here, so there
is one list (tests/test_cli_choices.py).
"""

from __future__ import annotations

__all__ = ["BACKENDS", "DEFAULT_EMBEDDER", "FILTER_PRESETS"]

#: how ``minilm`` runs: ``auto`` (onnxruntime int8 when the ``fast`` extra is installed, else torch),
#: ``onnx`` (that fast path, or an error naming the extra), ``torch`` (plain sentence-transformers)
BACKENDS = ("auto", "onnx", "torch")
#: what ``tokenplan select`` embeds with unless told otherwise (docs/select.md, "Which embedder")
DEFAULT_EMBEDDER = "minilm+tfidf-char"
#: Named filter presets (``filters: {preset: ...}``, ``--filters``): LIMA's rules, or no filter.
FILTER_PRESETS = ("lima", "none")
