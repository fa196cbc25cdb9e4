"""Model files: an .npz of the parameter arrays plus one JSON string of metadata.

Model files travel between people, so the reader trusts nothing in them. Before it reads a
single array it checks the zip directory, each member's .npy header and the metadata
against one another and against the size of the file: a damaged or hostile file is refused
with a ValueError naming the problem. Nothing in a file is ever unpickled or run, and a file
cannot make the reader allocate more than the file itself holds.
"""
import contextlib
import errno
import itertools
import json
import math
import numbers
import os
import re
import stat
import struct
import tempfile
import tokenize
import zipfile

import numpy as np
from numpy.lib import format as npy_format

from . import _limits, _validation as v
from ._init import SCHEMES
from .activations import NAMES, OUTPUT_NAMES, name_of

FORMAT = "fastdl.Network"
FORMAT_VERSION = 1
_META_KEY = "__fastdl_meta__"
_SUFFIX = ".npy"  # numpy stores array "W1" as the zip member "W1.npy"
# Real metadata (feature and class names, the split) is far smaller; the bound keeps a
# hostile file from making the JSON parser build millions of objects.
MAX_METADATA_CHARS = 2 ** 20
_HEADER_READERS = {(1, 0): npy_format.read_array_header_1_0,
                   (2, 0): npy_format.read_array_header_2_0}
# What the standard library's zip reader and numpy's .npy header parser raise on damaged
# input (the header parser runs ast.literal_eval, and tokenize on headers it cannot parse).
_UNREADABLE = (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError, IndexError, TypeError,
               OverflowError, NotImplementedError, RuntimeError, struct.error, SyntaxError,
               tokenize.TokenError, RecursionError)
_PARAMETER_NAME = re.compile(r"[Wb]([1-9][0-9]{0,8})")


# -- writing ----------------------------------------------------------------------------
def _metadata_text(net):
    """The JSON metadata string of ``net``, refused here if the reader would refuse it."""
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
    try:
        text = json.dumps(meta)
    except (TypeError, ValueError, RecursionError) as error:
        raise TypeError(f"Network.metadata must be a JSON-serialisable dict; {error}") from None
    if len(text) > MAX_METADATA_CHARS:
        raise ValueError(f"Network.metadata takes {len(text)} characters as JSON; a model file holds "
                         f"at most {MAX_METADATA_CHARS} (keep large data in a file of its own)")
    return text


def _new_file_mode(path):
    """The permissions ``path`` keeps (or a new file gets from the umask): mkstemp's
    temporary is private (0o600), which would make a shared model file unreadable."""
    with contextlib.suppress(OSError):
        return os.stat(path).st_mode & 0o7777
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _temporary_beside(path):
    """A new temporary file in the directory of ``path``: os.replace is atomic only there."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        return tempfile.mkstemp(dir=directory, prefix=".fastdl-", suffix=".npz")
    except OSError as error:
        why = (f"the directory {directory} does not exist" if not os.path.isdir(directory)
               else f"{error.strerror or error} in {directory}")
        raise type(error)(error.errno, f"cannot save the model to {path}: {why}") from None


def _sync_directory(directory):
    """Make the rename itself durable (POSIX); where directories cannot be opened, skip."""
    with contextlib.suppress(OSError, AttributeError):
        handle = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def save_network(net, path):
    """Write ``net`` to ``path`` atomically: a crash or an error mid-write (a full disk,
    Ctrl-C) leaves any old file intact and no temporary file behind."""
    path = os.fspath(path)
    arrays = dict(net.parameters)
    arrays[_META_KEY] = np.array(_metadata_text(net))
    handle, temporary = _temporary_beside(path)
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())  # the data is on disk before the name points at it
        os.chmod(temporary, _new_file_mode(path))
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_directory(os.path.dirname(os.path.abspath(path)))


# -- reading: the archive -----------------------------------------------------------------
def _corrupt(path, why):
    return ValueError(f"{path!s} is not a valid fastdl model file: {why}")


def _brief(error, limit=200):
    """An error's text, cut short: numpy quotes whole (hostile) headers in its messages."""
    text = str(error) or type(error).__name__
    return text if len(text) <= limit else text[:limit] + "..."


def _open_archive(path, file, size):
    if size == 0:
        raise _corrupt(path, "it is empty")
    if file.read(len(npy_format.MAGIC_PREFIX)) == npy_format.MAGIC_PREFIX:
        raise _corrupt(path, "it holds a single .npy array, not an .npz archive")
    file.seek(0)
    try:
        return zipfile.ZipFile(file)
    except _UNREADABLE as error:
        raise _corrupt(path, f"it cannot be read as an .npz archive ({_brief(error)})") from None


def _members(path, archive, size):
    """The archive's members by array name, once the zip directory itself is sound.

    Members must be stored uncompressed (as numpy's savez writes them): then no member can
    unpack to more bytes than the file holds, which the sizes checked here guarantee.
    """
    members = {}
    claimed = 0
    for info in archive.infolist():
        name = info.filename
        if "/" in name or "\\" in name:
            raise _corrupt(path, f"its member name {name!r} holds a path separator")
        if not name.endswith(_SUFFIX):
            raise _corrupt(path, f"its member {name!r} is not an .npy array")
        key = name[: -len(_SUFFIX)]
        if key in members:
            raise _corrupt(path, f"it holds the member {name!r} twice")
        if info.flag_bits & 0x1:
            raise _corrupt(path, f"its member {name!r} is encrypted")
        if info.compress_type != zipfile.ZIP_STORED:
            raise _corrupt(path, f"its member {name!r} is compressed (zip method {info.compress_type}); "
                                 f"fastdl writes arrays uncompressed, so that no member unpacks to "
                                 f"more than the file holds")
        if info.file_size != info.compress_size:
            raise _corrupt(path, f"its member {name!r} declares {info.file_size} bytes but stores "
                                 f"{info.compress_size}")
        if info.header_offset < 0 or info.header_offset + info.compress_size > size:
            raise _corrupt(path, f"its member {name!r} declares {info.compress_size} bytes at offset "
                                 f"{info.header_offset}, beyond the end of the {size}-byte file")
        claimed += info.compress_size
        members[key] = info
    if claimed > size:
        raise _corrupt(path, f"its members declare {claimed} bytes in all, more than the whole "
                             f"file ({size} bytes)")
    return members


class _Member:
    """One zip member's .npy header: what the member says it holds, before it is read."""

    def __init__(self, path, archive, info):
        self.info, self.name = info, info.filename
        try:
            with archive.open(info) as stream:
                version = npy_format.read_magic(stream)
                read_header = _HEADER_READERS.get(version)
                if read_header is None:
                    raise ValueError(f".npy format version {version[0]}.{version[1]} is not one "
                                     f"numpy writes for numbers")
                self.shape, self.fortran_order, self.dtype = read_header(stream)
                self.header_size = stream.tell()
        except zipfile.BadZipFile as error:  # the read-ahead may reach the end and its CRC
            raise _corrupt(path, f"its member {self.name!r} is damaged ({_brief(error)})") from None
        except _UNREADABLE as error:
            raise _corrupt(path, f"its member {self.name!r} has no valid .npy header "
                                 f"({_brief(error)})") from None
        if self.dtype.hasobject:
            raise _corrupt(path, f"its member {self.name!r} holds Python objects (a pickle); "
                                 f"model files hold only numbers, and fastdl never unpickles")
        if any(n < 0 for n in self.shape):
            raise _corrupt(path, f"its member {self.name!r} declares the shape {self.shape}")
        self.nbytes = math.prod(self.shape) * self.dtype.itemsize  # exact: Python ints
        stored = info.file_size - self.header_size
        if self.nbytes != stored:
            raise _corrupt(path, f"its member {self.name!r} declares shape {self.shape} of "
                                 f"{self.dtype}, {self.nbytes} bytes of data, but stores {stored} "
                                 f"bytes after its {self.header_size}-byte header")

    def read(self, path, archive):
        """The member's bytes (the CRC is checked once the last one is read)."""
        try:
            with archive.open(self.info) as stream:
                stream.read(self.header_size)
                data = stream.read(self.nbytes)
                if stream.read(1):
                    raise ValueError("it holds more data than its header declares")
        except _UNREADABLE as error:
            raise _corrupt(path, f"its member {self.name!r} is damaged ({_brief(error)})") from None
        if len(data) != self.nbytes:
            raise _corrupt(path, f"its member {self.name!r} ends after {len(data)} of its "
                                 f"{self.nbytes} bytes of data")
        return data

    def array(self, path, archive):
        data = self.read(path, archive)
        order = "F" if self.fortran_order else "C"
        return np.frombuffer(data, dtype=self.dtype).reshape(self.shape, order=order)


# -- reading: the metadata ------------------------------------------------------------------
def _metadata_json(path, archive, members):
    """The metadata member as parsed JSON: one bounded unicode string, never an object."""
    info = members.pop(_META_KEY, None)
    if info is None:
        raise _corrupt(path, "it holds no fastdl metadata")
    member = _Member(path, archive, info)
    if member.dtype.kind != "U" or member.shape != ():
        raise _corrupt(path, f"its metadata is a {member.dtype} array of shape {member.shape}, "
                             f"not a single string")
    if member.dtype.itemsize > 4 * MAX_METADATA_CHARS:
        raise _corrupt(path, f"its metadata takes {member.dtype.itemsize // 4} characters, more "
                             f"than the {MAX_METADATA_CHARS} a model file may hold")
    data = member.read(path, archive)
    try:
        text = data.decode("utf-32-be" if member.dtype.str[0] == ">" else "utf-32-le")
        return json.loads(text.rstrip("\x00"))  # numpy pads strings with NULs
    except (ValueError, RecursionError) as error:  # ValueError: also bad UTF-32, long ints
        raise _corrupt(path, f"its metadata is not valid JSON ({_brief(error)})") from None


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_version(path, meta):
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _corrupt(path, "its metadata does not describe a fastdl Network")
    version = meta.get("format_version")
    if _is_int(version) and version == FORMAT_VERSION:
        return
    newer = _is_int(version) and version > FORMAT_VERSION
    raise _corrupt(path, f"format_version {version!r} is not supported by this fastdl (it reads "
                         f"version {FORMAT_VERSION})"
                         + ("; the file was written by a newer fastdl: upgrade fastdl "
                            "(pip install --upgrade fastdl) to load it" if newer else ""))


def _check_names(path, meta, L):
    """The activation names: built-in ones, or custom ones the file lists as custom."""
    custom = meta.get("custom_activations", [])
    if not isinstance(custom, list) or not all(isinstance(name, str) for name in custom):
        raise _corrupt(path, f"its custom_activations is not a list of names: {custom!r}")
    builtin = [name for name in custom if name in OUTPUT_NAMES or not name.isidentifier()]
    if builtin:
        raise _corrupt(path, f"its custom_activations lists {builtin[0]!r}, which cannot be a "
                             f"custom activation's name")
    names = meta["activations"]
    if not isinstance(names, list) or len(names) != L:
        raise _corrupt(path, f"its activations must be a list of L = {L} names, one per layer; "
                             f"got {names!r}")
    for layer, name in enumerate(names, start=1):
        choices = OUTPUT_NAMES if layer == L else NAMES
        if not (isinstance(name, str) and (name in choices or name in custom)):
            raise _corrupt(path, f"activations[{layer - 1}] (layer {layer})={name!r} is not supported; "
                                 f"expected one of {choices} or a name listed in custom_activations")


def _checked_metadata(path, meta):
    """``meta`` and its layer_dims, once its keys and their types are what a fastdl Network
    was saved with."""
    _check_version(path, meta)
    missing = sorted({"layer_dims", "activations", "dtype", "leaky_slope", "init", "seed"} - meta.keys())
    if missing:
        raise _corrupt(path, f"its metadata lacks {missing}")
    try:
        dims = v.check_layer_dims(meta["layer_dims"])
        v.check_leaky_slope(meta["leaky_slope"])
        v.check_choice("dtype", meta["dtype"], v.DTYPES)
        v.check_choice("init", meta["init"], SCHEMES)
    except (TypeError, ValueError) as error:
        raise _corrupt(path, error) from None
    seed = meta["seed"]
    if seed is not None and not (_is_int(seed) and seed >= 0):
        raise _corrupt(path, f"its seed must be null or a non-negative integer; got {seed!r}")
    if not isinstance(meta.get("metadata", {}), dict):
        raise _corrupt(path, f"its metadata entry is a {type(meta['metadata']).__name__}, not a dict")
    _check_names(path, meta, len(dims) - 1)
    return meta, dims


# -- reading: the parameters --------------------------------------------------------------
def _parameter_headers(path, archive, members, dims, dtype):
    """Each W[l], b[l] member's header, checked against layer_dims and the dtype."""
    L = len(dims) - 1
    unexpected = sorted(key for key in members
                        if not ((match := _PARAMETER_NAME.fullmatch(key)) and int(match[1]) <= L))
    if unexpected or len(members) != 2 * L:
        expected = (f"{name}{l}" for l in range(1, L + 1) for name in "Wb")
        missing = list(itertools.islice((key for key in expected if key not in members), 10))
        more = f" and {len(unexpected) - 10} more" if len(unexpected) > 10 else ""
        raise _corrupt(path, f"its arrays do not match a network with L = {L} layers: "
                             f"missing {missing}, unexpected {unexpected[:10]}{more}")
    headers = {}
    for key, info in members.items():
        member = _Member(path, archive, info)
        if member.dtype != dtype:
            raise _corrupt(path, f"{key} holds {member.dtype} values but the metadata declares "
                                 f"the dtype {dtype.name}")
        l = int(key[1:])
        expected = (dims[l], dims[l - 1]) if key[0] == "W" else (dims[l], 1)
        if member.shape != expected:
            what = f"(n[{l}], n[{l - 1}])" if key[0] == "W" else f"(n[{l}], 1)"
            raise _corrupt(path, f"{key} has shape {member.shape} but layer {l} expects "
                                 f"{expected} = {what}")
        headers[key] = member
    return headers


def _read(path):
    """The checked metadata dict and the parameter arrays stored in ``path``."""
    mode = os.stat(path).st_mode  # FileNotFoundError for a missing file
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "it is a directory, not a fastdl model file", path)
    if not stat.S_ISREG(mode):  # opening a named pipe would wait for a writer forever
        raise _corrupt(path, "it is not a regular file (a device, a pipe or a socket)")
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        with _open_archive(path, file, size) as archive:
            members = _members(path, archive, size)
            meta, dims = _checked_metadata(path, _metadata_json(path, archive, members))
            dtype = np.dtype(meta["dtype"])
            headers = _parameter_headers(path, archive, members, dims, dtype)
            # The file holds these bytes, but the machine may still lack room for them and
            # for the network they become: refused before either is allocated.
            _limits.check_bytes(sum(member.nbytes for member in headers.values())
                                + _limits.network_bytes(dims, dtype.itemsize),
                                f"loading {path} (a Network({list(dims)}, dtype='{dtype.name}'))")
            arrays = {key: member.array(path, archive) for key, member in headers.items()}
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
    A file that is damaged, hostile or not a fastdl model raises a ValueError saying why
    (so does one holding NaN or infinite parameters); nothing in it is unpickled or run.
    """
    from .network import Network

    path = os.fspath(path)
    meta, arrays = _read(path)
    activations = _activations(meta, custom_activations)
    try:
        net = Network(meta["layer_dims"], activations, leaky_slope=meta["leaky_slope"],
                      dtype=meta["dtype"], init=meta["init"], seed=meta["seed"], backend=backend)
        net.set_parameters(arrays)
    except (KeyError, TypeError, ValueError) as error:
        raise _corrupt(path, error) from None
    net.metadata = meta.get("metadata", {})
    return net
