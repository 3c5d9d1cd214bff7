"""Exceptions raised by tokenplan.

All of them subclass a builtin (``ValueError``, ``KeyError`` ...) so callers that already catch those keep
working, and all subclass :class:`TokenplanError` so the CLI can turn them into one clear line and exit code 2.
"""

from __future__ import annotations

__all__ = [
    "InvalidInputError",
    "MissingDependencyError",
    "TokenplanError",
    "UnknownNameError",
]


class TokenplanError(Exception):
    """Base class of every error tokenplan raises on purpose.

    ``param`` names the argument at fault in the library's own spelling (``"n_params"``, ``"seed"``,
    ``"input"``), or ``None``. The CLI maps it to the flag the user typed and recipes map it to their key,
    so neither has to guess from the message.
    """

    def __init__(self, *args: object, param: str | None = None) -> None:
        super().__init__(*args)
        self.param = param


class InvalidInputError(TokenplanError, ValueError):
    """A value given by the user is out of range, malformed or inconsistent.

    The message names the argument, quotes the value and says what would be accepted.
    """


class UnknownNameError(InvalidInputError):
    """A name (law preset, GPU, method ...) that is not in the registry; the message lists valid names."""

    def __init__(
        self,
        kind: str,
        name: str,
        valid: list[str] | tuple[str, ...],
        *,
        param: str | None = None,
    ) -> None:
        self.kind, self.name, self.valid = kind, name, tuple(valid)
        super().__init__(
            f"unknown {kind} {name!r}; valid names: {', '.join(self.valid)}", param=param
        )


class MissingDependencyError(TokenplanError, ImportError):
    """An optional dependency is not installed; the message gives the ``pip install`` hint."""

    def __init__(
        self, package: str, extra: str, *, install: str | None = None, param: str | None = None
    ) -> None:
        self.package, self.extra = package, extra
        install = install or f"pip install 'tokenplan[{extra}]'"
        super().__init__(f"{package} is needed for this; install it with: {install}", param=param)
