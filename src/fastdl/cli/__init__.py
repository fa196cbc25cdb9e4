"""The ``fastdl`` command: demo, train, predict, diagnose, search and info.

One module per command, each with ``add_parser`` and ``run``; the data reading they share
is in ``_csv`` and ``_data``. Every error is one line on standard error and exit status 2.
"""
import os
import sys

from . import _demo, _diagnose, _info, _predict, _search, _train
from ._args import Parser, UsageError, print_error

COMMANDS = (_demo, _train, _predict, _diagnose, _search, _info)


def parser():
    """The whole command line; subcommand parsers share its class (no abbreviations)."""
    top = Parser(prog="fastdl", description="Fast fully-connected L-layer networks on the CPU: "
                                            "the notes' Idea -> Code -> Experiment loop from the shell.")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                  parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(commands)
    return top


def main(argv=None):
    """Entry point; returns the exit status (0, 2 for bad input, 130 on Ctrl-C)."""
    try:
        args = parser().parse_args(argv)
    except UsageError as error:
        print_error(None, error)
        return 2
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else 0
    try:
        return args.run(args)
    except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly, as shell tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except (ValueError, TypeError, OSError, ImportError, FloatingPointError) as error:
        print_error(args.command, error)
        return 2
    except KeyboardInterrupt:
        print(f"fastdl {args.command}: interrupted", file=sys.stderr)
        return 130
