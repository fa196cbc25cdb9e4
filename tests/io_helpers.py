"""Building model files by hand, damaged or hostile, for the model-file tests.

A model file is a zip of .npy members; these helpers take one apart into (name, bytes)
pairs and put any list of members back together (duplicates, compression and all), with
CRCs that match, so that each test damages exactly the part it means to.
"""
import io
import json
import os
import re
import struct
import warnings
import zipfile

import numpy as np
from numpy.lib import format as npy_format

META = "__fastdl_meta__.npy"


def members_of(content):
    """The (name, bytes) members of a zip archive, in order."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def zip_of(members, compression=zipfile.ZIP_STORED):
    """An archive of ``members``: (name, bytes) or (name, bytes, compression) tuples."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name", on purpose
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data, *method in members:
                archive.writestr(name, data, compress_type=method[0] if method else compression)
    return buffer.getvalue()


def patched_central_sizes(content, name, *, file_size=None, compress_size=None):
    """``content`` with the central directory's sizes of member ``name`` replaced: what a
    zip bomb or a damaged directory declares (the local header keeps the true ones)."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        position, end = archive.start_dir, archive.start_dir + sum(
            46 + len(info.orig_filename.encode("cp437")) + len(info.extra) + len(info.comment)
            for info in archive.infolist())
    content = bytearray(content)
    while position < end:
        name_length = struct.unpack_from("<H", content, position + 28)[0]
        if content[position + 46: position + 46 + name_length].decode("cp437") == name:
            if compress_size is not None:
                struct.pack_into("<I", content, position + 20, compress_size)
            if file_size is not None:
                struct.pack_into("<I", content, position + 24, file_size)
            return bytes(content)
        position += 46 + name_length + sum(struct.unpack_from("<HH", content, position + 30))
    raise KeyError(name)


def npy_bytes(array, allow_pickle=False):
    buffer = io.BytesIO()
    npy_format.write_array(buffer, np.asanyarray(array), allow_pickle=allow_pickle)
    return buffer.getvalue()


def npy_header(shape, descr, fortran_order=False, version=(1, 0), text=None):
    """The bytes of an .npy header declaring ``shape`` of ``descr`` (or holding ``text``)."""
    if text is None:
        text = repr({"descr": descr, "fortran_order": fortran_order, "shape": tuple(shape)})
    body = text.encode("latin1", errors="replace")
    length_size = 2 if version == (1, 0) else 4
    pad = -(len(npy_format.MAGIC_PREFIX) + 2 + length_size + len(body) + 1) % 64
    body += b" " * pad + b"\n"
    return (npy_format.MAGIC_PREFIX + bytes(version)
            + len(body).to_bytes(length_size, "little") + body)


def npy_split(member):
    """(header bytes, data bytes) of a valid .npy member."""
    stream = io.BytesIO(member)
    version = npy_format.read_magic(stream)
    if version == (1, 0):
        npy_format.read_array_header_1_0(stream)
    else:
        npy_format.read_array_header_2_0(stream)
    return member[: stream.tell()], member[stream.tell():]


def meta_of(content):
    """The metadata dict of a valid model file's bytes."""
    member = dict(members_of(content))[META]
    return json.loads(str(np.load(io.BytesIO(member), allow_pickle=False)))


def meta_member(meta):
    """The metadata member for ``meta``: a dict (written as JSON) or the JSON text itself."""
    return npy_bytes(np.array(meta if isinstance(meta, str) else json.dumps(meta)))


def replaced(members, name, data):
    return [(n, data if n == name else d) for n, d in members]


class Trap:
    """Unpickling this creates the directory ``marker``: proof that a pickle ran."""

    def __init__(self, marker):
        self.marker = os.fspath(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def pickled_object_array(marker):
    """An object-dtype .npy member whose pickle, if ever loaded, creates ``marker``."""
    return npy_bytes(np.array([Trap(marker)], dtype=object), allow_pickle=True)


def message_family(message):
    """A refusal's message without the path and the particulars: one line per kind of error."""
    why = message.split(" is not a valid fastdl model file: ", 1)[-1]
    why = re.sub(r"'[^']*'|\"[^\"]*\"", "'...'", why)           # names
    why = re.sub(r"-?\d+(\.\d+)?(e[-+]?\d+)?", "N", why)
    for _ in range(3):
        why = re.sub(r" ?\([^()]*\)", "", why)                   # details in parentheses
    why = re.sub(r"\{.*\}", "{...}", why)                           # dicts
    while re.search(r"\[[^\[\]]*\]", why):                          # lists, innermost first
        why = re.sub(r"\[[^\[\]]*\]", "<list>", why)
    why = why.replace("<list>", "[...]")
    return why.split(";")[0][:90].strip()
