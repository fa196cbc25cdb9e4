"""``fastdl info [model.npz]``: this installation (version, backends, BLAS, vector math), or a
model's layers, activations, dimension table and parameter count."""
import os
import platform
from importlib import metadata

from .._backends import available_backends
from . import _args, _data

HELP = "this installation (version, backends, BLAS, vector math), or a saved model's layers"
OPTIONAL = ("numba", "joblib", "threadpoolctl", "dask", "distributed", "tqdm", "matplotlib", "scikit-learn")


def add_parser(commands):
    parser = commands.add_parser("info", help=HELP, description=HELP)
    parser.add_argument("model", nargs="?", help="a model file to describe")
    parser.add_argument("-m", type=_args.positive_int, default=None,
                        help="the batch size m in the dimension table (default: the letter m)")
    parser.set_defaults(run=run)


def _version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _vector_math():
    try:
        from .. import _kernels
    except Exception:  # a missing or stale build, as in the backend registry
        return "n/a (the compiled kernels are not built)"
    return "on (compiled with glibc's libmvec)" if _kernels.VECTOR_MATH else "off (built without libmvec)"


def _blas():
    """The BLAS libraries loaded, as threadpoolctl sees them, else what scipy was built with."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        try:
            import scipy

            blas = scipy.show_config(mode="dicts")["Build Dependencies"]["blas"]
            return [f"{blas['name']} {blas.get('version', '')} (scipy's build; install threadpoolctl "
                    f"to see the libraries loaded and their threads)"]
        except Exception as error:  # an old scipy without mode="dicts"
            return [f"unknown ({error})"]
    return [f"{lib['internal_api']} {lib['version']} ({os.path.basename(lib['filepath'])}, "
            f"{lib['num_threads']} threads{_owner(lib['filepath'])})"
            for lib in threadpool_info() if lib["user_api"] == "blas"]


def _owner(path):
    """Whose copy a BLAS library is: the compiled engine calls scipy's."""
    parts = path.replace("\\", "/").split("/")
    if any(part.startswith("scipy") for part in parts):
        return "; scipy's, which the compiled engine calls"
    if any(part.startswith("numpy") for part in parts):
        return "; numpy's"
    return ""


def _installation():
    from .. import __version__

    backends = available_backends()
    print(f"fastdl {__version__} (Python {platform.python_version()}, numpy {_version('numpy')}, "
          f"scipy {_version('scipy')})")
    print(f"backends available: {', '.join(backends)} ('auto' picks {backends[0]})")
    print(f"compiled vector math: {_vector_math()}")
    for line in _blas():  # after the backends, so the compiled engine's BLAS is loaded
        print(f"BLAS: {line}")
    found = [f"{name} {_version(name)}" for name in OPTIONAL if _version(name)]
    missing = [name for name in OPTIONAL if not _version(name)]
    print(f"optional packages: {', '.join(found) or 'none'}; not installed: {', '.join(missing) or 'none'}")


def _model(path, m):
    net = _data.load_model(path, backend="numpy")
    m_text = "m" if m is None else str(m)
    dims = net.layer_dims
    print(f"{path}: L = {net.L} layers (the input is not counted), layer_dims {dims}, dtype "
          f"{net.dtype.name}, init {net.init!r}, seed {net.seed}")
    rows = [("layer", "activation", "W[l]", "b[l]", "Z[l], A[l]", "parameters"),
            ("0", "(input)", "-", "-", f"A[0] = X: ({dims[0]}, {m_text})", "-")]
    for row, activation in zip(net.dimensions(m or 1), net.activations):  # the notes' shape table
        n = row["W"][0]
        rows.append((str(row["layer"]), str(activation), str(row["W"]), str(row["b"]),
                     str(row["Z"]) if m else f"({n}, m)", str(n * row["W"][1] + n)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    print(f"parameters: {sum(n * p + n for p, n in zip(dims, dims[1:]))}")
    meta = net.metadata
    for key in ("source", "target", "feature_names", "classes", "split", "search"):
        if meta.get(key) is not None:
            print(f"{key.replace('_', ' ')}: {meta[key]}")


def run(args):
    if args.model is None:
        if args.m is not None:
            raise ValueError("-m sets the batch size of a model's dimension table; give a model file")
        _installation()
    else:
        _model(args.model, args.m)
    return 0
