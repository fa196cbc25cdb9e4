"""``fastdl predict model.npz DATA [--out predictions.csv] [--proba]``"""
import csv
import sys

from . import _args, _data

HELP = "predict with a saved model; reads the features it was trained on by name"


def add_parser(commands):
    parser = commands.add_parser("predict", help=HELP, description=HELP)
    parser.add_argument("model", help="a model file written by fastdl train or Network.save")
    parser.add_argument("data", help=f"a CSV (header optional), an .npz holding X, or one of "
                                     f"{sorted(_data.GENERATED)}")
    parser.add_argument("--out", metavar="CSV", help="write the predictions here (default: standard output)")
    parser.add_argument("--proba", action="store_true",
                        help="write the class probabilities instead of the predicted classes")
    parser.add_argument("--seed", type=_args.seed, default=0, help="for a generated data set")
    _args.add_backend(parser)
    parser.set_defaults(run=run)


def _table(net, X, proba):
    """The header and rows of the predictions, classes by the names the model was trained on."""
    meta, output = net.metadata, net.activations[-1]
    classes = meta.get("classes")
    if proba:
        P = net.predict_proba(X)  # raises a clear error for a regression
        if output == "sigmoid" and P.shape[0] == 1:  # one unit: the probability of the second class
            header = [f"P({classes[-1] if classes else 1})"]
        else:
            header = [f"P({c})" for c in (classes or range(P.shape[0]))]
        return header, [[f"{p:.6g}" for p in column] for column in P.T]
    predicted = net.predict(X)
    target = meta.get("target")
    header = [target if isinstance(target, str) else "prediction"]  # a headerless file's target is an index
    if output in ("sigmoid", "softmax") and classes:
        return header, [[str(classes[int(label)])] for label in predicted[0]]
    if predicted.shape[0] > 1:
        header = [f"{header[0]}_{k}" for k in range(predicted.shape[0])]
    return header, [[f"{value:.10g}" for value in column] for column in predicted.T]


def _write(file, header, rows):
    writer = csv.writer(file, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)


def run(args):
    if args.out:
        _args.existing_directory_for(args.out)
    net = _data.load_model(args.model, args.backend)
    X = _data.features_for(net, args.model, args.data, args.seed)
    header, rows = _table(net, X, args.proba)
    if args.out:
        with open(args.out, "w", newline="", encoding="utf-8") as file:
            _write(file, header, rows)
        print(f"{len(rows)} predictions written to {args.out}")
    else:
        _write(sys.stdout, header, rows)
    return 0
