"""The ``tokenplan`` command line: a thin layer over the library.

Sub-commands live in their own modules and are imported only when used (``tokenplan plan`` never imports
the training or selection code), which keeps start-up fast. Every error a user can cause becomes one line on
stderr and exit code 2; every command takes ``--json`` and then prints exactly one JSON object on stdout.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

import click

from tokenplan import __version__
from tokenplan.cli._flags import flag_for, with_flags
from tokenplan.errors import TokenplanError

# name -> (module, attribute). A module that does not exist yet is simply not listed.
COMMANDS: dict[str, tuple[str, str]] = {
    "plan": ("tokenplan.cli.plan", "plan"),
    "table": ("tokenplan.cli.plan", "table"),
    "repeat": ("tokenplan.cli.plan", "repeat"),
    "fit": ("tokenplan.cli.fit", "fit"),
    "predict": ("tokenplan.cli.predict", "predict"),
    "sweep": ("tokenplan.cli.sweep", "sweep"),
    "data": ("tokenplan.cli.sweep", "data"),
    "select": ("tokenplan.cli.select", "select"),
    "laws": ("tokenplan.cli.core", "laws"),
    "flops": ("tokenplan.cli.core", "flops"),
}


class LazyGroup(click.Group):
    """A click group that imports a sub-command's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (module, _) in COMMANDS.items() if importlib.util.find_spec(module)]

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name, cmd, rest = super().resolve_command(ctx, args)
        ctx.meta["tokenplan.command"] = (
            cmd  # lets main() map an error's parameter to this command's flag
        )
        return name, cmd, rest

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except TokenplanError as exc:
            cmd = ctx.meta.get("tokenplan.command")
            if cmd is not None:
                if exc.param and getattr(exc, "flag", None) is None:
                    exc.flag = flag_for(cmd, exc.param)
                exc.cli_message = with_flags(cmd, str(exc))
            raise

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, attr = COMMANDS[cmd_name]
        if importlib.util.find_spec(module_name) is None:
            return None
        return getattr(importlib.import_module(module_name), attr)


@click.group(
    cls=LazyGroup,
    context_settings={
        "help_option_names": ["-h", "--help"],
        "max_content_width": 100,
        "show_default": True,
    },
)
@click.version_option(__version__, prog_name="tokenplan")
def cli() -> None:
    """Plan LLM training runs: how big a model, on how many tokens, for your compute; what repeating
    data costs; your own scaling-law fits and sweeps; and small, diverse SFT sets.

    \b
    Examples:
      tokenplan plan --flops 5.76e23 --compare
      tokenplan plan --gpu-hours 20000 --gpu H100 --unique-tokens 25B
      tokenplan table
      tokenplan laws
      tokenplan flops --shape gpt2-small
    """


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


def _error_line(exc: TokenplanError) -> str:
    """One line for a library error, prefixed with the flag it concerns when the text does not name it
    (an argument in any case: ``RECIPE`` is named by "recipe 'r.yaml' ...")."""
    text = _one_line(getattr(exc, "cli_message", None) or str(exc))
    flag = getattr(exc, "flag", None)
    if flag and flag.lower() not in text.lower():
        text = f"{flag}: {text}"
    return text


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI, turning every expected error into one line and exit 2."""
    prog = "tokenplan"
    try:
        rv = cli.main(args=argv, prog_name=prog, standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:  # `tokenplan` alone: show help, not an error
        click.echo(exc.ctx.get_help() if exc.ctx else "", err=False)
        sys.exit(0)
    except click.UsageError as exc:
        cmd = exc.ctx.command_path if exc.ctx else prog
        sys.stderr.write(f"{prog}: error: {_one_line(exc.format_message())} (see '{cmd} --help')\n")
        sys.exit(2)
    except click.ClickException as exc:
        sys.stderr.write(f"{prog}: error: {_one_line(exc.format_message())}\n")
        sys.exit(2)
    except TokenplanError as exc:
        sys.stderr.write(f"{prog}: error: {_error_line(exc)}\n")
        sys.exit(2)
    except UnicodeError as exc:  # a reader that did not catch it itself: still one line, exit 2
        sys.stderr.write(
            f"{prog}: error: an input file is not valid UTF-8 text ({getattr(exc, 'reason', exc)}).\n"
        )
        sys.exit(2)
    except BrokenPipeError:
        sys.exit(0)
    except (
        OSError
    ) as exc:  # unwritable or missing paths, full disks: name the file, never a traceback
        where = f" {exc.filename!r}" if getattr(exc, "filename", None) else ""
        sys.stderr.write(f"{prog}: error:{where} {exc.strerror or exc}\n")
        sys.exit(2)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__ or exc.__context__, EOFError):  # a truncated file
            sys.stderr.write(f"{prog}: error: an input file ends too early (truncated or empty).\n")
            sys.exit(2)
        sys.stderr.write(f"{prog}: aborted\n")
        sys.exit(130)
    except OverflowError as exc:  # a value so large the arithmetic overflowed: still one line
        sys.stderr.write(
            f"{prog}: error: a value is too large to compute with ({exc}); use smaller numbers.\n"
        )
        sys.exit(2)
    except KeyboardInterrupt:
        sys.stderr.write(f"{prog}: interrupted\n")
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)
