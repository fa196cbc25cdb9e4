"""The ``fastdl`` command: ``demo``, ``train``, ``predict`` and ``info``."""
import argparse
import os
import sys

import numpy as np

from . import datasets
from ._backends import BACKENDS, available_backends
from .activations import NAMES as ACTIVATION_NAMES
from .activations import OUTPUT_NAMES
from ._init import SCHEMES
from ._io import load
from .network import Network
from .workflow import diagnose_network, train_dev_test_split

GENERATED = {"planar": datasets.make_planar, "linear": datasets.make_linear,
             "regression": datasets.make_regression}


def _demo(args):
    X, Y = datasets.make_planar(m=args.m, seed=args.seed)
    train, dev, test = train_dev_test_split(X, Y, seed=args.seed)
    print(f"fastdl demo: the generated 'flower' data, {X.shape[1]} points in 2-D, two classes; "
          f"train/dev/test {train[0].shape[1]}/{dev[0].shape[1]}/{test[0].shape[1]}")
    baseline = Network([2, 1], init="zeros", backend=args.backend)
    baseline.fit(*train, learning_rate=0.1, epochs=1000)
    print(f"logistic regression (L = 1): train accuracy {baseline.accuracy(*train):.1%}, "
          f"dev accuracy {baseline.accuracy(*dev):.1%} (a straight line cannot separate the petals)")
    net = Network([2, args.hidden_units, 1], hidden="tanh", init="small", seed=args.seed,
                  backend=args.backend)
    print(f"\ntraining {net} for {args.epochs} iterations:")
    history = net.fit(*train, learning_rate=1.2, epochs=args.epochs,
                      print_every=max(1, args.epochs // 10))
    print(f"\nfinished in {history.times[-1]:.2f} s ({net.backend} backend)")
    print(f"train accuracy {net.accuracy(*train):.1%}, dev accuracy {net.accuracy(*dev):.1%}, "
          f"test accuracy {net.accuracy(*test):.1%}")
    print(diagnose_network(net, train, dev))
    return 0


def _read_csv(path):
    """A numeric CSV table, one example per row, with or without a header line."""
    try:
        return np.loadtxt(path, delimiter=",", ndmin=2)
    except ValueError:
        return np.loadtxt(path, delimiter=",", ndmin=2, skiprows=1)


def _read_table(path, label_rows):
    """(X, Y) column-per-example from a CSV (one example per row) or an .npz with X and Y."""
    if path.endswith(".npz"):
        with np.load(path, allow_pickle=False) as archive:
            if "X" not in archive.files or "Y" not in archive.files:
                raise ValueError(f"{path} must hold arrays named 'X' (n_x, m) and 'Y' (n_y, m); "
                                 f"found {sorted(archive.files)}")
            return archive["X"], archive["Y"]
    table = _read_csv(path)
    if table.shape[1] <= label_rows:
        raise ValueError(f"{path} has {table.shape[1]} columns; need features plus {label_rows} label column(s)")
    return table[:, :-label_rows].T, table[:, -label_rows:].T


def _load_data(spec, label_rows, seed):
    if spec in GENERATED:
        return GENERATED[spec](seed=seed)
    if not os.path.exists(spec):
        raise ValueError(f"data {spec!r} is neither a file nor one of the generated sets {sorted(GENERATED)}")
    return _read_table(spec, label_rows)


def _train(args):
    X, Y = _load_data(args.data, args.label_columns, args.seed)
    output = args.output or ("linear" if args.data == "regression" else "sigmoid")
    hidden_sizes = [int(n) for n in args.layers.split(",") if n.strip()] if args.layers else []
    n_out = Y.shape[0]
    if output == "softmax" and n_out == 1:  # integer class labels in one row
        n_out = args.classes or int(np.max(Y)) + 1
    net = Network([X.shape[0], *hidden_sizes, n_out], hidden=args.hidden, output=output,
                  init=args.init, dtype=args.dtype, seed=args.seed, backend=args.backend)
    train, dev, test = train_dev_test_split(X, Y, dev=args.dev, test=args.test, seed=args.seed)
    print(f"{net}; train/dev/test = {train[0].shape[1]}/{dev[0].shape[1]}/{test[0].shape[1]} examples")
    history = net.fit(*train, learning_rate=args.lr, epochs=args.epochs, print_every=args.print_every,
                      optimizer=args.optimizer, batch_size=args.batch_size, l2=args.l2,
                      keep_prob=args.keep_prob, verbose=args.verbose,
                      dev=dev if args.patience and dev[0].shape[1] else None, patience=args.patience)
    print(f"stopped: {history.stop_reason} after {history.iterations} iterations "
          f"in {history.times[-1] if history.times else 0:.2f} s")
    for name, (X_part, Y_part) in (("train", train), ("dev", dev), ("test", test)):
        if X_part.shape[1]:
            line = f"{name:5s} cost {net.cost(X_part, Y_part):.6f}"
            if output in ("sigmoid", "softmax"):
                line += f", accuracy {net.accuracy(X_part, Y_part):.1%}"
            print(line)
    if output in ("sigmoid", "softmax") and dev[0].shape[1]:
        print(diagnose_network(net, train, dev))
    if args.save:
        net.save(args.save)
        print(f"saved to {args.save}")
    return 0


def _predict(args):
    net = load(args.model)
    X, _ = _load_data(args.data, 0, 0) if args.data in GENERATED else (None, None)
    if X is None:
        table = _read_csv(args.data)
        X = table[:, :net.layer_dims[0]].T  # extra columns (labels) are ignored
    np.savetxt(args.out or sys.stdout, net.predict(X).T, delimiter=",", fmt="%.10g")
    return 0


def _info(args):
    from . import __version__

    print(f"fastdl {__version__}; backends available: {available_backends()}")
    return 0


def _parser():
    parser = argparse.ArgumentParser(prog="fastdl", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="train a shallow network on the generated flower data")
    demo.add_argument("--epochs", type=int, default=5000)
    demo.add_argument("--hidden-units", type=int, default=4)
    demo.add_argument("-m", type=int, default=400, help="number of examples")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--backend", choices=BACKENDS, default="auto")
    demo.set_defaults(run=_demo)

    train = commands.add_parser("train", help="train on a CSV/.npz file or a generated set")
    train.add_argument("data", help=f"a CSV (one example per row, labels last), an .npz with X and Y, "
                                    f"or one of {sorted(GENERATED)}")
    train.add_argument("--layers", default="", help="hidden layer sizes, e.g. 20,7,5")
    train.add_argument("--hidden", choices=ACTIVATION_NAMES, default="relu")
    train.add_argument("--output", choices=OUTPUT_NAMES, default=None,
                       help="default: sigmoid, or linear for the regression set")
    train.add_argument("--classes", type=int, default=None,
                       help="softmax with integer labels: the number of classes (default: max label + 1)")
    train.add_argument("--optimizer", choices=["gd", "momentum", "adam"], default="gd")
    train.add_argument("--batch-size", type=int, default=None, help="default: full batch")
    train.add_argument("--l2", type=float, default=0.0, help="L2 regularisation strength")
    train.add_argument("--keep-prob", type=float, default=1.0, help="dropout keep probability")
    train.add_argument("--patience", type=int, default=None, help="early stopping on the dev set")
    train.add_argument("--verbose", type=int, choices=[0, 1, 2], default=0)
    train.add_argument("--init", choices=SCHEMES, default="he")
    train.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    train.add_argument("--lr", type=float, default=0.0075)
    train.add_argument("--epochs", type=int, default=3000)
    train.add_argument("--dev", type=float, default=None, help="dev fraction (default: by data size)")
    train.add_argument("--test", type=float, default=None, help="test fraction (default: by data size)")
    train.add_argument("--label-columns", type=int, default=1)
    train.add_argument("--print-every", type=int, default=None)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--backend", choices=BACKENDS, default="auto")
    train.add_argument("--save", help="write the trained model to this .npz file")
    train.set_defaults(run=_train)

    predict = commands.add_parser("predict", help="predict with a saved model")
    predict.add_argument("model")
    predict.add_argument("data", help="a CSV of features, one example per row")
    predict.add_argument("--out", help="write predictions here instead of standard output")
    predict.set_defaults(run=_predict)

    info = commands.add_parser("info", help="version and available backends")
    info.set_defaults(run=_info)
    return parser


def main(argv=None):
    """Entry point; returns the exit status (errors print one line, no traceback)."""
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, TypeError, OSError, ImportError) as error:
        print(f"fastdl {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"fastdl {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
