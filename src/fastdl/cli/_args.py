"""What every command shares: a parser that refuses abbreviations and reports on one line,
argument types that name the option, and the options for data and splitting."""
import argparse
import math
import os
import sys

from .._backends import BACKENDS
from ..activations import OUTPUT_NAMES
from ._data import GENERATED


class UsageError(Exception):
    """Bad command-line usage: main prints it on one line and exits with status 2."""


class Parser(argparse.ArgumentParser):
    """argparse with ``allow_abbrev=False`` (``--out`` is never taken for ``--output``) and
    a one-line error instead of the usage text; subcommand parsers are made of this class too."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message):
        raise UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")


def _number(kind, check, expected):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}; got {text!r}") from None
        if not check(value):
            raise argparse.ArgumentTypeError(f"expected {expected}; got {text!r}")
        return value

    parse.__name__ = expected  # argparse names the type in some messages
    return parse


positive_int = _number(int, lambda v: v > 0, "a positive integer")
positive_float = _number(float, lambda v: 0 < v < math.inf, "a finite positive number")
non_negative_float = _number(float, lambda v: 0 <= v < math.inf, "a finite number >= 0")
fraction = _number(float, lambda v: 0 <= v < 1, "a fraction in [0, 1)")
rate = _number(float, lambda v: 0 <= v <= 1, "an error rate in [0, 1]")
probability = _number(float, lambda v: 0 < v <= 1, "a probability in (0, 1]")
seed = _number(int, lambda v: v >= 0, "a non-negative integer")
non_zero_int = _number(int, lambda v: v != 0, "a non-zero integer (-1: every core)")


def layer_sizes(text):
    """'20,7,5' -> [20, 7, 5]; '' -> [] (no hidden layer: logistic regression)."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    try:
        sizes = [int(part) for part in parts]
    except ValueError:
        sizes = None
    if sizes is None or any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"expected hidden layer sizes such as 20,7,5; got {text!r}")
    return sizes


def existing_directory_for(path):
    """Fail before training when the file could not be written where asked."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ValueError(f"cannot write {path}: the directory {directory} does not exist")


def add_data(parser, *, output=True):
    """DATA, --target and (optionally) --output: what a model learns from."""
    parser.add_argument("data", help=f"a CSV with one example per row (header optional), an .npz "
                                     f"holding X (n_x, m) and Y (n_y, m), or one of {sorted(GENERATED)}")
    parser.add_argument("--target", metavar="COLUMN",
                        help="the CSV's target column, by name or 0-based index (default: the last)")
    if output:
        parser.add_argument("--output", choices=OUTPUT_NAMES, default=None,
                            help="the output activation (default: from the target's values: sigmoid for "
                                 "two classes, softmax for more, linear for numbers)")


def add_split(parser):
    parser.add_argument("--dev", type=fraction, default=None, help="dev fraction (default: by data size)")
    parser.add_argument("--test", type=fraction, default=None, help="test fraction (default: by data size)")
    parser.add_argument("--seed", type=seed, default=0, help="for the split and the initial weights")


def add_verbose(parser, levels):
    parser.add_argument("--verbose", type=int, choices=[0, 1, 2], default=1, help=f"0 quiet, {levels}")


def add_backend(parser):
    parser.add_argument("--backend", choices=BACKENDS, default="auto")


def print_error(command, error):
    """One line on standard error, whatever the message held."""
    text = " ".join(str(error).split()) or type(error).__name__
    print(f"fastdl {command}: error: {text}" if command else text, file=sys.stderr)
