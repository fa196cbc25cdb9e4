"""``fastdl demo``: the notes' first lesson in a few seconds, on the generated flower."""
from .. import datasets
from ..network import Network
from ..workflow import diagnose_network, train_dev_test_split
from . import _args

HELP = "train a shallow network on the generated flower data (a few seconds)"


def add_parser(commands):
    parser = commands.add_parser("demo", help=HELP, description=HELP)
    parser.add_argument("--epochs", type=_args.positive_int, default=5000)
    parser.add_argument("--hidden-units", type=_args.positive_int, default=4)
    parser.add_argument("-m", type=_args.positive_int, default=400, help="number of examples")
    parser.add_argument("--seed", type=_args.seed, default=1)
    _args.add_backend(parser)
    parser.set_defaults(run=run)


def run(args):
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
