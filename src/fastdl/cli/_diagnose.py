"""``fastdl diagnose --train-error 0.01 --dev-error 0.11 [--base-error 0]``, or
``fastdl diagnose model.npz DATA [--target COLUMN]`` on the split the model was trained on."""
from . import _args, _data, _report
from ..workflow import diagnose

HELP = "bias/variance from train and dev error rates, or from a model and its data"


def add_parser(commands):
    parser = commands.add_parser(
        "diagnose", help=HELP, description=HELP,
        epilog="e.g. fastdl diagnose --train-error 0.01 --dev-error 0.11, or "
               "fastdl diagnose model.npz data.csv --target label")
    parser.add_argument("model", nargs="?", help="a model file written by fastdl train")
    parser.add_argument("data", nargs="?", help="the data it was trained on (CSV, .npz or a generated set)")
    parser.add_argument("--train-error", type=_args.rate, help="the training set's error rate, e.g. 0.01")
    parser.add_argument("--dev-error", type=_args.rate, help="the dev set's error rate, e.g. 0.11")
    parser.add_argument("--base-error", type=_args.rate, default=0.0,
                        help="the best error reachable, e.g. human error (default 0)")
    parser.add_argument("--target", metavar="COLUMN",
                        help="the target column (default: the one the model was trained on)")
    _args.add_split(parser)
    parser.set_defaults(run=run)


def _from_rates(args):
    if args.train_error is None or args.dev_error is None:
        raise ValueError("give both --train-error and --dev-error, or a model file and its data")
    print(diagnose(args.train_error, args.dev_error, base_error=args.base_error))
    return 0


def _split_of(net, model_path, X, args):
    """The split recorded in the model (when DATA is as large as what it was trained on)."""
    record = net.metadata.get("split")
    if not record:
        print(f"{model_path} has no record of its train/dev split; splitting with --dev, --test and "
              f"--seed {args.seed}")
        return args.dev, args.test, args.seed
    if record["m"] != X.shape[1]:
        raise ValueError(f"{model_path} was trained on a split of {record['m']} examples, but the data "
                         f"has {X.shape[1]}; give the same data, or error rates (--train-error, --dev-error)")
    return record["dev"], record["test"], record["seed"]


def run(args):
    if args.model is None:
        return _from_rates(args)
    if args.data is None:
        raise ValueError("a model needs its data: fastdl diagnose MODEL DATA [--target COLUMN]")
    if args.train_error is not None or args.dev_error is not None:
        raise ValueError("give error rates or a model and its data, not both")
    net = _data.load_model(args.model)
    if net.activations[-1] not in _data.CLASSIFIER_OUTPUTS:
        raise ValueError(f"{args.model} is a regression ({net.activations[-1]!r} output): the "
                         f"diagnosis reads classification error rates")
    X, Y = _data.labelled_for(net, args.model, args.data, args.target, args.seed)
    dev, test, seed = _split_of(net, args.model, X, args)
    dataset = _data.Dataset(X, Y, net.activations[-1], args.data)
    parts, _ = _report.split(dataset, dev, test, seed)
    _report.diagnosis(_report.figures(net, parts), base_error=args.base_error)
    return 0
