"""Library parameter names to a command's flags: which flag sets an argument, and a message's quoted names
given as flags (errors and warnings name `n_params` in Python and --params on the command line)."""

from __future__ import annotations

import re

import click


def flag_for(command: click.Command, param: str) -> str | None:
    """The flag of ``command`` that sets the library argument ``param``, or ``None``.

    A command may declare ``command.tokenplan_flags = {"n_params": "--params", ...}`` where the library's
    name differs from the option's; otherwise the option whose click name equals ``param`` is used.
    """
    mapping = getattr(command, "tokenplan_flags", None) or {}
    if param in mapping:
        return mapping[param]
    for opt in command.params:
        if opt.name == param or opt.name == param.replace("-", "_"):
            if isinstance(opt, click.Option):
                longs = [o for o in opt.opts if o.startswith("--")]
                return (longs or opt.opts)[0]
            return opt.human_readable_name
    return None


_QUOTED_NAME = re.compile(r"`([a-z][a-z0-9_]*)`")


def with_flags(command: click.Command, text: str) -> str:
    """``text`` with each parameter a library message quotes (`` `gpu` ``) given as ``command``'s flag for it
    (``--gpu``), so that Python users read their argument names and CLI users their flags. A quoted name the
    command has no flag for keeps its quotes."""

    def flag(m: re.Match) -> str:
        return flag_for(command, m.group(1)) or m.group(0)

    return _QUOTED_NAME.sub(flag, text)


def unquoted(text: str) -> str:
    """``text`` with its quoted parameter names as plain words (`` `output` `` -> ``output``): a message
    about a value a recipe file gave names the recipe's key, not the flag."""
    return _QUOTED_NAME.sub(r"\1", text)
