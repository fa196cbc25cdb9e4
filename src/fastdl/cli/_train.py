"""``fastdl train DATA --target COLUMN --layers 20,7,5 ... --out model.npz [--plot curve.png]``"""
import importlib.util
import warnings

from .._init import SCHEMES
from .._optimizers import NAMES as OPTIMIZERS
from ..activations import NAMES as ACTIVATION_NAMES
from ..network import DivergenceWarning, Network
from . import _args, _data, _report

HELP = "train a network on a CSV, an .npz or a generated set, print its figures and diagnosis"


def add_parser(commands):
    parser = commands.add_parser("train", help=HELP, description=HELP)
    _args.add_data(parser)
    parser.add_argument("--layers", type=_args.layer_sizes, default=[],
                        help="hidden layer sizes, e.g. 20,7,5 (default: none, logistic regression)")
    parser.add_argument("--activation", choices=ACTIVATION_NAMES, default="relu",
                        help="the hidden layers' activation")
    parser.add_argument("--lr", type=_args.positive_float, default=0.0075, help="the learning rate α")
    parser.add_argument("--epochs", type=_args.positive_int, default=3000)
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="gd")
    parser.add_argument("--batch-size", type=_args.positive_int, default=None, help="default: full batch")
    parser.add_argument("--l2", type=_args.non_negative_float, default=0.0, help="L2 strength λ")
    parser.add_argument("--keep-prob", type=_args.probability, default=1.0, help="dropout keep probability")
    parser.add_argument("--patience", type=_args.positive_int, default=None,
                        help="stop after this many epochs without a better dev cost")
    parser.add_argument("--init", choices=SCHEMES, default="he")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    _args.add_split(parser)
    _args.add_backend(parser)
    _args.add_verbose(parser, "1 progress (a bar on a terminal), 2 a line per epoch")
    parser.add_argument("--out", metavar="MODEL", help="save the trained model to this .npz file")
    parser.add_argument("--plot", metavar="PNG", help="save the cost curve here (needs matplotlib)")
    parser.set_defaults(run=run)


def _check_outputs(args):
    """Everything that would fail after training fails before it."""
    if args.keep_prob < 1 and not args.layers:
        raise ValueError(f"--keep-prob {args.keep_prob} drops hidden units, but the network has no "
                         f"hidden layer; give --layers (e.g. --layers 20,7)")
    for path in (args.out, args.plot):
        if path:
            _args.existing_directory_for(path)
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        from ..plot import INSTALL_HINT

        raise ImportError(f"--plot: {INSTALL_HINT}")


def run(args):
    _check_outputs(args)
    data = _data.load(args.data, target=args.target, output=args.output, seed=args.seed)
    print(data.describe())
    net = Network([data.X.shape[0], *args.layers, data.Y.shape[0]], hidden=args.activation,
                  output=data.output, init=args.init, dtype=args.dtype, seed=args.seed,
                  backend=args.backend)
    parts, split_record = _report.split(data, args.dev, args.test, args.seed)
    train, dev, _ = parts
    if args.patience and not dev[0].shape[1]:
        raise ValueError("--patience stops early on the dev set, but the split has none (raise --dev)")
    print(f"training {net}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DivergenceWarning)
        history = net.fit(*train, learning_rate=args.lr, epochs=args.epochs, optimizer=args.optimizer,
                          batch_size=args.batch_size, l2=args.l2, keep_prob=args.keep_prob,
                          dev=dev if args.patience else None, patience=args.patience,
                          verbose=args.verbose)
    for warning in caught:
        _args.print_error(None, f"fastdl train: warning: {warning.message}")
    seconds = history.times[-1] if history.times else 0.0
    print(f"stopped: {history.stop_reason} after {history.iterations} epochs in {seconds:.2f} s")
    _report.diagnosis(_report.figures(net, parts))
    if args.out:
        _report.save(net, args.out, data, split_record)
    if args.plot:
        history.plot(path=args.plot)
        print(f"cost curve saved to {args.plot}")
    return 0
