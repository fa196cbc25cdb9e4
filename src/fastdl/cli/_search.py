"""``fastdl search DATA --target COLUMN --trials 20 --method halving --jobs 2
[--scheduler ADDRESS] [--out best.npz]``: fastdl.search from the command line."""
import json
import os

from .. import _space
from .._search import METHODS, search
from . import _args, _data, _report

HELP = "try many settings (random, grid or successive halving), locally or on a Dask cluster"
DISTRIBUTIONS = {"loguniform": _space.loguniform, "uniform": _space.uniform, "randint": _space.randint}
SPACE_EXAMPLE = ('{"hidden_sizes": [[16], [32, 16]], "learning_rate": {"loguniform": [1e-4, 0.1]}, '
                 '"optimizer": "adam"}')


def add_parser(commands):
    parser = commands.add_parser("search", help=HELP, description=HELP)
    _args.add_data(parser)
    parser.add_argument("--trials", type=_args.positive_int, default=20,
                        help="settings to draw (random) or to start with (halving)")
    parser.add_argument("--method", choices=sorted(METHODS), default="random")
    parser.add_argument("--epochs", type=_args.positive_int, default=200,
                        help="epochs per trial (halving: the budget of the last round)")
    parser.add_argument("--space", metavar="JSON",
                        help=f"the space as JSON or a .json file, e.g. {SPACE_EXAMPLE} "
                             f"(default: fastdl.search.DEFAULT_SPACE)")
    parser.add_argument("--jobs", type=_args.non_zero_int, default=1, help="trials at once (-1: every core)")
    parser.add_argument("--threads-per-trial", type=_args.positive_int, default=1, help="BLAS threads per trial")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run the trials on the Dask cluster of this scheduler, e.g. tcp://10.0.0.5:8786")
    parser.add_argument("--connect-timeout", type=_args.positive_float, default=10.0,
                        help="seconds to wait for the scheduler")
    _args.add_split(parser)
    _args.add_verbose(parser, "1 a bar of finished trials, 2 a line per trial")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--out", metavar="MODEL", help="save the best network to this .npz file")
    parser.set_defaults(run=run)


def _choice(key, value):
    """A JSON value as a space entry: {"loguniform": [low, high]} is a distribution; a list
    of lists, for sizes, becomes a list of tuples."""
    if isinstance(value, dict):
        name, bounds = next(iter(value.items())) if len(value) == 1 else (None, None)
        if name not in DISTRIBUTIONS or not isinstance(bounds, list) or len(bounds) != 2:
            raise ValueError(f"--space: {key!r}: {json.dumps(value)} is not a distribution; write "
                             f"{{\"loguniform\": [low, high]}}, \"uniform\" or \"randint\" the same way")
        try:
            return DISTRIBUTIONS[name](*bounds)
        except ValueError as error:
            raise ValueError(f"--space: {key!r}: {error}") from None
    if isinstance(value, list):
        return [tuple(item) if isinstance(item, list) else item for item in value]
    return value


def parse_space(text):
    """The space in ``text`` (JSON, or the path of a .json file), or None for the default."""
    if text is None:
        return None
    if os.path.isfile(text):
        with open(text, encoding="utf-8") as file:
            text = file.read()
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"--space is neither a .json file nor valid JSON ({error})") from None
    if not isinstance(raw, dict):
        raise ValueError(f"--space must be a JSON object of hyperparameter -> choices, e.g. {SPACE_EXAMPLE}")
    return {key: _choice(key, value) for key, value in raw.items()}


def _on_cluster(address, timeout, call):
    """``call()`` with joblib's Dask backend on the scheduler at ``address``."""
    try:
        import joblib
        from distributed import Client
    except ImportError:
        raise ImportError("--scheduler runs the trials on Dask: pip install 'fastdl[distributed]'") from None
    with Client(address, timeout=timeout) as client, joblib.parallel_backend("dask"):
        workers = len(client.scheduler_info().get("workers", {}))
        print(f"running the trials on the Dask cluster at {address} ({workers} workers)")
        return call()


def run(args):
    if args.out:
        _args.existing_directory_for(args.out)
    space = parse_space(args.space)
    if args.method == "grid" and space is None:
        raise ValueError("--method grid combines lists of choices: give them with --space, e.g. "
                         + SPACE_EXAMPLE.replace('{"loguniform": [1e-4, 0.1]}', "[0.001, 0.01]"))
    data = _data.load(args.data, target=args.target, output=args.output, seed=args.seed)
    print(data.describe())
    parts, split_record = _report.split(data, args.dev, args.test, args.seed)
    (train, dev, _) = parts
    if not dev[0].shape[1]:
        raise ValueError("search ranks its trials on the dev set, but the split has none (raise --dev)")
    if args.output is not None:
        space = dict(_space.DEFAULT_SPACE if space is None else space, output=args.output)

    def call(n_jobs):
        return search(*train, *dev, space=space, n_trials=args.trials, method=args.method, n_jobs=n_jobs,
                      seed=args.seed, epochs=args.epochs, threads_per_trial=args.threads_per_trial,
                      verbose=args.verbose)

    if args.scheduler:
        result = _on_cluster(args.scheduler, args.connect_timeout, lambda: call(-1 if args.jobs == 1 else args.jobs))
    else:
        result = call(args.jobs)
    print(result.to_markdown() if args.markdown else result)
    best = result.results[0]
    print(f"best: trial {best['trial']} {best['params']}")
    _report.diagnosis(_report.figures(result.best_network, parts))
    if args.out:
        _report.save(result.best_network, args.out, data, split_record,
                     search={"method": args.method, "seed": result.seed, "trial": best["trial"],
                             "params": best["params"]})
    return 0
