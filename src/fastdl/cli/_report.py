"""What train, diagnose and search print about a trained network: its figures on each
split and the bias/variance diagnosis, and the metadata it is saved with."""
from ..workflow import diagnose, train_dev_test_split


def split(dataset, dev, test, seed):
    """train, dev, test (X, Y) pairs and the record of the split that a model file keeps."""
    parts = train_dev_test_split(dataset.X, dataset.Y, dev=dev, test=test, seed=seed)
    sizes = [X.shape[1] for X, _ in parts]
    record = {"m": dataset.X.shape[1], "dev": dev, "test": test, "seed": seed}
    print(f"train/dev/test = {sizes[0]}/{sizes[1]}/{sizes[2]} examples")
    return parts, record


def figures(net, parts):
    """Print cost (and error for classifiers) per non-empty split; the error rates by name."""
    errors = {}
    for name, (X, Y) in zip(("train", "dev", "test"), parts):
        if not X.shape[1]:
            continue
        line = f"{name:5s} cost {net.cost(X, Y):.6f}"
        if net.activations[-1] in ("sigmoid", "softmax"):
            errors[name] = 1 - net.accuracy(X, Y)
            line += f", error {errors[name]:.1%} (accuracy {1 - errors[name]:.1%})"
        print(line)
    return errors


def diagnosis(errors, base_error=0.0):
    """Print the notes' diagnosis when there are train and dev error rates to read."""
    if not errors:
        print("a regression has no error rates to diagnose; compare the train and dev costs")
    elif "train" in errors and "dev" in errors:
        print(diagnose(errors["train"], errors["dev"], base_error=base_error))
    else:
        print("no dev set, so no bias/variance diagnosis (give --dev)")


def save(net, path, dataset, split_record, **extra):
    """Save ``net`` with what it was trained on (features, classes, split) in its metadata."""
    net.metadata = dict(dataset.metadata(), split=split_record, **extra)
    net.save(path)
    names = f", features {dataset.feature_names}" if dataset.feature_names else ""
    classes = f", classes {dataset.classes}" if dataset.classes else ""
    print(f"saved {path}{names}{classes}")
