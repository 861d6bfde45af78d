"""The ``acceldse`` command line: a thin layer over the public API.

Building the parser imports only the standard library (each command module imports its heavy
parts inside its ``run`` function), so ``acceldse --help`` and ``acceldse list`` start fast.
Exit codes: see ``acceldse.commands.common``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import re
import signal
import sys
import threading
import time
import warnings
from typing import Any

from acceldse import __version__
from acceldse.commands import COMMANDS
from acceldse.commands.common import EXIT_BAD_INPUT, EXIT_CODES_HELP
from acceldse.workloads.errors import SpecError

log = logging.getLogger("acceldse")
EXIT_INTERNAL = 3
EXIT_SIGINT, EXIT_SIGTERM = 130, 143
"""The shell's codes for a process ended by SIGINT (128 + 2) and SIGTERM (128 + 15)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C: every ``finally`` runs (a sweep flushes
    and checkpoints its store) before the command exits with code 143."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated()


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``only``, the top level and that one command (what parsing its
    arguments needs: the other commands' parsers are not built, nor their modules imported)."""
    parser = argparse.ArgumentParser(
        prog="acceldse",
        description="Hardware-accelerator design-space simulator.",
        epilog="example: acceldse simulate --workload resnet18 --hardware scalesim-32x32 --dataflow all\n"
               + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log what the command is doing to stderr (-vv: debug)")
    parser.add_argument("--version", action="version", version=f"acceldse {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS if only is None else [only]:
        importlib.import_module(f"acceldse.commands.{name}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit code (0 ok, 1 a --check failed, 2 bad input).

    ``--help``, ``--version`` and argparse usage errors raise ``SystemExit`` (codes 0, 0 and 2).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_named(argv))
    args = parser.parse_args(argv)  # --help, --version and usage errors exit here (0, 0, 2) as argparse does
    if args.command is None:
        args = parser.parse_args(["simulate", *argv])
    verbosity = int(getattr(args, "verbose", 0) or 0)
    logging.basicConfig(level=logging.DEBUG if verbosity > 1 else logging.INFO if verbosity else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr, force=True)
    logging.captureWarnings(True)
    warnings.showwarning = _warning_line
    log.info("%s: %s", args.command, {k: v for k, v in vars(args).items()
                                      if k not in ("func", "command", "verbose") and v not in (None, False, [])})
    start = time.perf_counter()
    previous = _on_sigterm(_raise_terminated)
    try:
        code = _run(args, command_flags(parser, args))
    finally:
        _on_sigterm(previous)
    log.info("%s finished in %.2f s (exit %d)", args.command, time.perf_counter() - start, code)
    return code


def _command_named(argv: list[str]) -> str | None:
    """The command ``argv`` names when nothing before it but ``-v`` can change how it is parsed, else
    None (the whole parser: help, usage errors and the default command see every command)."""
    for arg in argv:
        if arg in COMMANDS:
            return arg
        if not re.fullmatch(r"-v+|--verbose", arg):
            return None
    return None


def _warning_line(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """A warning as one line on stderr: its class and message (it names the file and the input), not
    the acceldse source line that raised it."""
    logging.getLogger("py.warnings").warning("%s: %s", category.__name__, message)


def _on_sigterm(handler: Any) -> Any:
    """Install a SIGTERM handler (main thread only); returns the previous one."""
    if handler is None or threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, handler)


PYTHON_ARGUMENTS: dict[str, str] = {"k": "top", "max_memory_gib": "max_memory", "targets": "target",
                                    "replay": "store", "template_vars": "timeloop_var",
                                    "env_kwargs": "env_arg", "fmt": "dataset_format", "objectives": "pareto",
                                    "layers": "layer", "weight_tiers": "weights_tier"}
"""Python argument names that differ from the destination of the flag that sets them."""


def command_flags(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, str]:
    """Destination -> option string (``where`` -> ``--where``) of the command ``args`` ran."""
    stack = [parser]
    while stack:
        current = stack.pop()
        if current.get_default("func") is getattr(args, "func", None) and current is not parser:
            return {a.dest: a.option_strings[-1] for a in current._actions
                    if a.option_strings and a.option_strings[-1].startswith("--")}
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                stack.extend(action.choices.values())
    return {}


def flag_named(err: SpecError, flags: dict[str, str]) -> SpecError:
    """An error raised by the Python API names its argument (``where``, as its source, or as its key
    when it has no source); on the command line, the flag that set it (``--where``), and so do the
    argument names (with an underscore) its ``accepted`` text gives. A preset of another kind names the
    command that takes it rather than the Python function."""
    if "preset: use it with acceldse." in err.message:
        from acceldse.commands.common import COMMAND_TAKING
        from acceldse.simulator.specs.presets import TAKEN_BY

        message = err.message
        for kind, words in TAKEN_BY.items():
            message = message.replace(words, COMMAND_TAKING[kind])
        err = SpecError(message, source=err.source, key=err.key, value=err.value, accepted=err.accepted)
    if err.accepted:  # "raise the limit with max_budget" -> "... with --max-budget"
        accepted = re.sub(r"(?<!--param )\b[a-z]+(?:_[a-z0-9]+)+\b",  # "--param seq_len=" stays as written
                          lambda m: flags.get(PYTHON_ARGUMENTS.get(m[0], m[0]), m[0]), err.accepted)
        err = SpecError(err.message, source=err.source, key=err.key, value=err.value, accepted=accepted)

    def as_flag(match: re.Match[str]) -> str:  # "compat='scalesim'" -> "--compat scalesim"
        flag = flags.get(PYTHON_ARGUMENTS.get(match[1], match[1]))
        return f"{flag} {match[2]}" if flag else match[0]

    said = re.sub(r"\b([a-z]+(?:_[a-z0-9]+)*)='([^']*)'", as_flag, err.message)
    expected = re.sub(r"\b([a-z]+(?:_[a-z0-9]+)*)='([^']*)'", as_flag, err.accepted) if err.accepted else None
    if (said, expected) != (err.message, err.accepted):
        err = SpecError(said, source=err.source, key=err.key, value=err.value, accepted=expected)
    name = err.source or err.key or ""
    flag = flags.get(PYTHON_ARGUMENTS.get(name, name))
    if not flag:
        return err
    return err.named(flag) if err.source else SpecError(err.message, source=flag, value=err.value,
                                                        accepted=err.accepted)


def _run(args: argparse.Namespace, flags: dict[str, str] | None = None) -> int:
    """The command, with every failure turned into one line on stderr and its exit code."""
    try:
        return int(args.func(args) or 0)
    except SpecError as err:
        print(f"acceldse: error: {flag_named(err, flags or {})}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # e.g. `acceldse simulate | head -1`: the reader left, stop quietly
        _silence_stdout()
        return 0
    except KeyboardInterrupt as err:
        name, code = ("SIGTERM", EXIT_SIGTERM) if isinstance(err, Terminated) else ("SIGINT", EXIT_SIGINT)
        resumable = getattr(args, "store", None) is not None  # sweep, explore --store: committed rows are kept
        print(f"acceldse: interrupted ({name})" + ("; what was committed is kept, rerun the command to resume"
                                                   if resumable else ""), file=sys.stderr)
        return code
    except OSError as err:  # the system refused: no space, permission, a read-only disk, a missing file
        where = f"{err.filename}: " if getattr(err, "filename", None) else ""
        print(f"acceldse: error: {where}{err.strerror or err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except MemoryError:
        print("acceldse: error: out of memory (a smaller problem, fewer workers or a machine with more "
              "memory)", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as err:  # a bug, not bad input: one line, the traceback with -v
        log.debug("traceback", exc_info=True)
        print(f"acceldse: internal error: {type(err).__name__}: {err} (please report it; -vv shows the "
              "traceback)", file=sys.stderr)
        return EXIT_INTERNAL


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


if __name__ == "__main__":
    sys.exit(main())
