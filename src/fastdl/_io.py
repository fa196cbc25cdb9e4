"""Model files: an .npz of the parameter arrays plus one JSON string of metadata.

Both load with ``allow_pickle=False``, so opening a model file never runs code.
"""
import json
import os
import tempfile
import zipfile

import numpy as np

from .activations import name_of

FORMAT = "fastdl.Network"
FORMAT_VERSION = 1
_META_KEY = "__fastdl_meta__"


def save_network(net, path):
    """Write ``net`` to ``path`` atomically: a crash mid-write leaves any old file intact."""
    path = os.fspath(path)
    if not isinstance(net.metadata, dict):
        raise TypeError(f"Network.metadata must be a JSON-serialisable dict; got {type(net.metadata).__name__}")
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "layer_dims": net.layer_dims,
        "activations": [name_of(a) for a in net.activations],
        "custom_activations": sorted({a.name for a in net.activations if not isinstance(a, str)}),
        "leaky_slope": net.leaky_slope,
        "dtype": net.dtype.name,
        "init": net.init,
        "seed": net.seed,
        "metadata": net.metadata,
    }
    arrays = dict(net.parameters)
    try:
        arrays[_META_KEY] = np.array(json.dumps(meta))
    except (TypeError, ValueError) as error:
        raise TypeError(f"Network.metadata must be a JSON-serialisable dict; {error}") from None
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".fastdl-", suffix=".npz")
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **arrays)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _corrupt(path, why):
    return ValueError(f"{path!s} is not a valid fastdl model file: {why}")


def _read(path):
    """The metadata dict and the parameter arrays stored in ``path``."""
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):  # a plain .npy holds one array
            raise ValueError(f"it holds a single {type(loaded).__name__}, not an .npz archive")
        with loaded as archive:
            arrays = {key: archive[key] for key in archive.files}
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as error:
        raise _corrupt(path, f"it cannot be read as an .npz archive ({error})") from None
    if _META_KEY not in arrays:
        raise _corrupt(path, "it holds no fastdl metadata")
    try:
        meta = json.loads(str(arrays.pop(_META_KEY)))
    except json.JSONDecodeError as error:
        raise _corrupt(path, f"its metadata is not valid JSON ({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _corrupt(path, "its metadata does not describe a fastdl Network")
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise _corrupt(
            path, f"format_version {version!r} is not supported by this fastdl "
                  f"(it reads version {FORMAT_VERSION}); upgrade fastdl"
        )
    return meta, arrays


def _activations(meta, custom_activations):
    """The stored activation names, with custom ones replaced by the objects the caller passes."""
    custom = dict(custom_activations or {})
    needed = meta.get("custom_activations", [])
    missing = sorted(set(needed) - custom.keys())
    if missing:
        raise ValueError(f"the model uses custom activations {missing}; pass them to load as "
                         f"custom_activations={{name: fastdl.jit.custom_activation(...)}}")
    return [custom[name] if name in needed else name for name in meta["activations"]]


def load(path, *, backend="auto", custom_activations=None):
    """The :class:`~fastdl.Network` saved at ``path``, with bit-identical parameters.

    A model with custom activations needs them again: ``custom_activations`` maps each
    stored name to its :class:`fastdl.jit.CustomActivation` (code is never stored).
    """
    from .network import Network

    meta, arrays = _read(os.fspath(path))
    activations = _activations(meta, custom_activations)
    try:
        net = Network(meta["layer_dims"], activations, leaky_slope=meta["leaky_slope"],
                      dtype=meta["dtype"], init=meta["init"], seed=meta["seed"], backend=backend)
        if any(arrays[key].dtype != net.dtype for key in arrays):
            raise ValueError(f"its arrays are not all of the declared dtype {net.dtype.name}")
        net.set_parameters(arrays)
        net.metadata = meta.get("metadata", {})
        if not isinstance(net.metadata, dict):
            raise ValueError(f"its metadata entry is a {type(net.metadata).__name__}, not a dict")
    except (KeyError, TypeError, ValueError) as error:
        raise _corrupt(path, error) from None
    return net
