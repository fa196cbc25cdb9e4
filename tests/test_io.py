"""Model files: ``Network.save`` and ``fastdl.load``."""
import errno
import io
import json
import os
import pickle
import re
import stat
import tracemalloc
import zipfile

import numpy as np
import pytest

import fastdl
from fastdl import _io
from io_helpers import (META, Trap, members_of, meta_member, meta_of, npy_bytes, npy_header, npy_split,
                        patched_central_sizes, pickled_object_array, replaced, zip_of)

META_KEY = "__fastdl_meta__"


def _load(path):
    return fastdl.load(path, backend="numpy")


def _trained(dtype, seed, **kwargs):
    """A network whose parameters are not just the initial draw."""
    kwargs.setdefault("hidden", "leaky_relu")
    net = fastdl.Network([3, 5, 4, 1], dtype=dtype, seed=seed, backend="numpy", leaky_slope=0.05, **kwargs)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(3, 20))
    Y = (rng.random((1, 20)) > 0.5).astype(float)
    net.fit(X, Y, learning_rate=0.1, epochs=5)
    return net


def _config(net):
    return {"layer_dims": net.layer_dims, "activations": net.activations, "leaky_slope": net.leaky_slope,
            "dtype": net.dtype, "init": net.init, "seed": net.seed, "L": net.L}


def _write_npz(path, arrays):
    with open(path, "wb") as file:
        np.savez(file, **arrays)


def _saved_bytes(tmp_path, seed=0, **kwargs):
    """The bytes of a freshly saved model file."""
    path = tmp_path / "source.npz"
    _trained("float64", seed, **kwargs).save(path)
    return path.read_bytes()


def _valid_arrays(tmp_path, seed=0):
    """The arrays (metadata included) of a freshly saved model."""
    path = tmp_path / "source.npz"
    _trained("float64", seed).save(path)
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_trip_is_bit_identical(tmp_path, seed, dtype):
    net = _trained(dtype, seed)
    path = tmp_path / "model.npz"
    net.save(path)
    loaded = _load(path)
    assert _config(loaded) == _config(net)
    original = net.parameters
    for key, value in loaded.parameters.items():
        assert value.dtype == original[key].dtype == np.dtype(dtype)
        assert value.tobytes() == original[key].tobytes(), key
    X = np.random.default_rng(seed).normal(size=(3, 7)).astype(dtype)
    np.testing.assert_array_equal(loaded.forward(X), net.forward(X))


@pytest.mark.parametrize("kwargs", [
    {"activations": ["tanh", "relu", "linear"], "init": "xavier"},
    {"hidden": "sigmoid", "output": "tanh", "init": "small"},
    {"init": "scaled"},
])
def test_round_trip_keeps_the_configuration(tmp_path, kwargs):
    net = fastdl.Network([3, 5, 4, 1], seed=None, backend="numpy", **kwargs)
    net.save(tmp_path / "m.npz")
    assert _config(_load(tmp_path / "m.npz")) == _config(net)


def test_path_may_be_a_string(tmp_path):
    net = _trained("float64", 0)
    path = str(tmp_path / "as_string.npz")
    net.save(path)
    assert _load(path).layer_dims == net.layer_dims


def test_file_loads_without_pickle(tmp_path):
    net = _trained("float64", 1)
    path = tmp_path / "model.npz"
    net.save(path)
    with np.load(path, allow_pickle=False) as archive:
        files = set(archive.files)
        meta = json.loads(str(archive[META_KEY]))
        for key, value in net.parameters.items():
            np.testing.assert_array_equal(archive[key], value)
    assert files == {"W1", "b1", "W2", "b2", "W3", "b3", META_KEY}
    assert meta["format_version"] == 1
    assert meta["layer_dims"] == [3, 5, 4, 1]
    assert meta["dtype"] == "float64"


def test_a_path_without_npz_suffix_is_used_as_given(tmp_path):
    net = _trained("float64", 2)
    path = tmp_path / "model.bin"
    net.save(path)
    assert sorted(os.listdir(tmp_path)) == ["model.bin"]  # no model.bin.npz, no temporary
    assert _load(path).parameters["W1"].tobytes() == net.parameters["W1"].tobytes()


def test_save_overwrites(tmp_path):
    path = tmp_path / "model.npz"
    _trained("float64", 0).save(path)
    second = _trained("float64", 1)
    second.save(path)
    np.testing.assert_array_equal(_load(path).parameters["W1"], second.parameters["W1"])


def test_a_failing_save_keeps_the_existing_file(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    first = _trained("float64", 0)
    first.save(path)
    original_bytes = path.read_bytes()

    def broken_savez(file, **arrays):
        file.write(b"PK\x03\x04 half a file")  # some bytes land, then the disk "fails"
        raise OSError("disk full")

    monkeypatch.setattr(_io.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        _trained("float64", 1).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == original_bytes
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]  # the temporary file is gone
    np.testing.assert_array_equal(_load(path).parameters["W1"], first.parameters["W1"])


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        _load(tmp_path / "nowhere.npz")


# -- corrupt files ------------------------------------------------------------------------------------
def _corrupt(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_random_bytes(tmp_path, rng):
    path = _corrupt(tmp_path, "random.npz", rng.integers(0, 256, size=4096, dtype=np.uint8).tobytes())
    with pytest.raises(ValueError, match=r"random\.npz is not a valid fastdl model file: it cannot be read "
                                         r"as an \.npz archive"):
        _load(path)


def test_empty_file(tmp_path):
    path = _corrupt(tmp_path, "empty.npz", b"")
    with pytest.raises(ValueError, match=r"empty\.npz is not a valid fastdl model file: it is empty"):
        _load(path)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_truncated_file(tmp_path, fraction):
    good = tmp_path / "good.npz"
    _trained("float64", 0).save(good)
    content = good.read_bytes()
    path = _corrupt(tmp_path, "truncated.npz", content[: int(len(content) * fraction)])
    with pytest.raises(ValueError, match=r"truncated\.npz is not a valid fastdl model file: it cannot be "
                                         r"read as an \.npz archive"):
        _load(path)


def test_a_plain_npy_file(tmp_path):
    path = tmp_path / "array.npy"
    np.save(path, np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"is not a valid fastdl model file: .*not an \.npz archive"):
        _load(path)


def test_a_pickle_is_refused_not_run(tmp_path):
    marker = tmp_path / "pickle-ran"
    path = _corrupt(tmp_path, "pickled.npy", pickled_object_array(marker))
    with pytest.raises(ValueError, match=r"is not a valid fastdl model file: it holds a single \.npy array"):
        _load(path)
    assert not marker.exists()


@pytest.mark.parametrize("member", ["W1.npy", "b3.npy", META])
def test_a_pickle_inside_the_archive_is_refused_not_run(tmp_path, member):
    marker = tmp_path / "pickle-ran"
    members = replaced(members_of(_saved_bytes(tmp_path)), member, pickled_object_array(marker))
    path = _corrupt(tmp_path, "pickled.npz", zip_of(members))
    with pytest.raises(ValueError, match=rf"pickled\.npz is not a valid fastdl model file: its member "
                                         rf"'{member}' holds Python objects \(a pickle\); model files hold "
                                         rf"only numbers, and fastdl never unpickles"):
        _load(path)
    assert not marker.exists()


def test_a_whole_file_pickle_is_refused_not_run(tmp_path):
    marker = tmp_path / "pickle-ran"
    path = _corrupt(tmp_path, "model.pkl", pickle.dumps(Trap(marker)))
    with pytest.raises(ValueError, match=r"it cannot be read as an \.npz archive"):
        _load(path)
    assert not marker.exists()


def test_npz_without_metadata(tmp_path):
    path = tmp_path / "plain.npz"
    _write_npz(path, {"W1": np.zeros((1, 3)), "b1": np.zeros((1, 1))})
    with pytest.raises(ValueError, match=r"plain\.npz is not a valid fastdl model file: it holds no fastdl metadata"):
        _load(path)


@pytest.mark.parametrize("meta", ["{not json", "", "[1, 2"])
def test_bad_json(tmp_path, meta):
    arrays = _valid_arrays(tmp_path)
    arrays[META_KEY] = np.array(meta)
    path = tmp_path / "bad.npz"
    _write_npz(path, arrays)
    with pytest.raises(ValueError, match=r"bad\.npz is not a valid fastdl model file: its metadata is not valid JSON"):
        _load(path)


@pytest.mark.parametrize("meta", [[1, 2], "a string", {"format": "something.else", "format_version": 1}, {}])
def test_metadata_of_something_else(tmp_path, meta):
    arrays = _valid_arrays(tmp_path)
    arrays[META_KEY] = np.array(json.dumps(meta))
    path = tmp_path / "other.npz"
    _write_npz(path, arrays)
    with pytest.raises(ValueError, match=r"its metadata does not describe a fastdl Network"):
        _load(path)


@pytest.mark.parametrize("version", [0, 2, 10 ** 30, "1", None, True, 1.0])
def test_wrong_format_version(tmp_path, version):
    arrays = _valid_arrays(tmp_path)
    meta = json.loads(str(arrays[META_KEY]))
    meta["format_version"] = version
    arrays[META_KEY] = np.array(json.dumps(meta))
    path = tmp_path / "future.npz"
    _write_npz(path, arrays)
    with pytest.raises(ValueError, match=rf"format_version {version!r} is not supported by this fastdl "
                                         r"\(it reads version 1\)") as caught:
        _load(path)
    newer = "the file was written by a newer fastdl: upgrade fastdl (pip install --upgrade fastdl)"
    assert (newer in str(caught.value)) == (version in (2, 10 ** 30) and version is not True)


def _edited(tmp_path, edit):
    arrays = _valid_arrays(tmp_path)
    meta = json.loads(str(arrays[META_KEY]))
    edit(arrays, meta)
    arrays[META_KEY] = np.array(json.dumps(meta))
    path = tmp_path / "edited.npz"
    _write_npz(path, arrays)
    return path


def test_wrong_shape_inside(tmp_path):
    def edit(arrays, meta):
        arrays["W2"] = np.zeros((4, 6))
    with pytest.raises(ValueError, match=r"edited\.npz is not a valid fastdl model file: W2 has shape \(4, 6\) "
                                         r"but layer 2 expects \(4, 5\) = \(n\[2\], n\[1\]\)"):
        _load(_edited(tmp_path, edit))


def test_missing_array_inside(tmp_path):
    def edit(arrays, meta):
        del arrays["b3"]
    with pytest.raises(ValueError, match=r"is not a valid fastdl model file: .*missing \['b3'\]"):
        _load(_edited(tmp_path, edit))


def test_arrays_of_another_dtype_inside(tmp_path):
    def edit(arrays, meta):
        arrays["W1"] = arrays["W1"].astype(np.float32)
    with pytest.raises(ValueError, match=r"W1 holds float32 values but the metadata declares the dtype float64"):
        _load(_edited(tmp_path, edit))


def test_non_finite_values_inside(tmp_path):
    def edit(arrays, meta):
        arrays["b1"][0, 0] = np.nan
    with pytest.raises(ValueError, match=r"is not a valid fastdl model file: b1 holds NaN or infinite values"):
        _load(_edited(tmp_path, edit))


@pytest.mark.parametrize("key, value, message", [
    ("layer_dims", [3, 0, 4, 1], r"layer_dims\[1\] \(n\[1\]\) must be a positive integer"),
    ("activations", ["leaky_relu", "relux", "sigmoid"], r"activations\[1\] \(layer 2\)='relux' is not supported"),
    ("dtype", "float16", r"dtype='float16' is not supported"),
    ("leaky_slope", 3, r"leaky_slope must be a number in \[0, 1\)"),
    ("layer_dims", None, r"layer_dims must be a list"),
    ("activations", ["relu", "relu"], r"its activations must be a list of L = 3 names"),
    ("activations", ["softmax", "relu", "sigmoid"], r"activations\[0\] \(layer 1\)='softmax' is not supported"),
    ("activations", ["relu", 3, "sigmoid"], r"activations\[1\] \(layer 2\)=3 is not supported"),
    ("activations", ["relu", "swish", "sigmoid"],
     r"activations\[1\] \(layer 2\)='swish' is not supported; expected one of .* or a name listed"),
    ("custom_activations", ["relu"], r"its custom_activations lists 'relu', which cannot be a custom activation's"),
    ("custom_activations", "swish", r"its custom_activations is not a list of names: 'swish'"),
    ("seed", -1, r"its seed must be null or a non-negative integer; got -1"),
    ("seed", 1.5, r"its seed must be null or a non-negative integer; got 1\.5"),
    ("init", "bogus", r"init='bogus' is not supported"),
    ("dtype", ["<f8"], r"dtype=\['<f8'\] is not supported"),
    ("layer_dims", [3, 10 ** 12, 4, 1], r"layer_dims\[1\] \(n\[1\]\) is 1000000000000, more than the largest"),
    ("layer_dims", [3, 5.0, 4, 1], r"layer_dims\[1\] \(n\[1\]\) must be a positive integer; got 5\.0"),
    ("format", "fastdl.network", r"its metadata does not describe a fastdl Network"),
], ids=lambda x: x if isinstance(x, str) and len(x) < 20 else None)
def test_bad_configuration_inside(tmp_path, key, value, message):
    def edit(arrays, meta):
        meta[key] = value
    with pytest.raises(ValueError, match=r"is not a valid fastdl model file: " + message):
        _load(_edited(tmp_path, edit))


def test_missing_configuration_key_inside(tmp_path):
    def edit(arrays, meta):
        del meta["layer_dims"]
    with pytest.raises(ValueError, match=r"is not a valid fastdl model file: its metadata lacks \['layer_dims'\]"):
        _load(_edited(tmp_path, edit))


def test_a_zip_that_is_not_an_npz(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    path = _corrupt(tmp_path, "other.zip", buffer.getvalue())
    with pytest.raises(ValueError, match=r"is not a valid fastdl model file"):
        _load(path)


@pytest.mark.parametrize("metadata", [
    {},
    {"feature_names": ["a", "b", "c"], "classes": ["cat", "dog"], "target": "label"},
    {"nested": {"split": {"seed": 3, "dev": 0.2}}, "unicode": "éß", "number": 1.5, "none": None},
], ids=["empty", "names", "nested"])
def test_metadata_round_trips(tmp_path, seed, metadata):
    net = _trained("float64", seed)
    net.metadata = metadata
    net.save(tmp_path / "model.npz")
    assert _load(tmp_path / "model.npz").metadata == metadata


def test_metadata_defaults_and_old_files(tmp_path, seed):
    """A new Network has empty metadata; a file saved without the key loads with {}."""
    assert _trained("float64", seed).metadata == {}
    path = _edited(tmp_path, lambda arrays, meta: meta.pop("metadata"))
    with np.load(path) as archive:
        assert "metadata" not in json.loads(str(archive[META_KEY]))
    assert _load(path).metadata == {}


@pytest.mark.parametrize("metadata, message", [
    ({"bad": object()}, r"Network\.metadata must be a JSON-serialisable dict; Object of type object"),
    (["not", "a", "dict"], r"Network\.metadata must be a JSON-serialisable dict; got list"),
])
def test_unserialisable_metadata_is_refused_and_no_file_written(tmp_path, seed, metadata, message):
    net = _trained("float64", seed)
    net.metadata = metadata
    with pytest.raises(TypeError, match=message):
        net.save(tmp_path / "model.npz")
    assert not os.listdir(tmp_path)


def test_metadata_that_is_not_a_dict_inside(tmp_path):
    path = _edited(tmp_path, lambda arrays, meta: meta.update(metadata=[1, 2]))
    with pytest.raises(ValueError, match=r"not a valid fastdl model file: its metadata entry is a list, not a dict"):
        _load(path)


# -- hostile archives: checked before anything is read ------------------------------------------------
def _peak_while_loading(path):
    """The refusal ``load`` raises for ``path`` and the peak memory it allocated meanwhile."""
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as caught:
            _load(path)
        return caught.value, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_header_declaring_a_huge_array_is_refused_before_allocating(tmp_path):
    members = members_of(_saved_bytes(tmp_path))
    header, data = npy_split(dict(members)["W1.npy"])
    members = replaced(members, "W1.npy", npy_header((10 ** 9, 10 ** 9), "<f8") + data)
    path = _corrupt(tmp_path, "huge.npz", zip_of(members))
    error, peak = _peak_while_loading(path)
    assert str(error).endswith("huge.npz is not a valid fastdl model file: its member 'W1.npy' declares shape "
                               "(1000000000, 1000000000) of float64, 8000000000000000000 bytes of data, but "
                               "stores 120 bytes after its 128-byte header")
    assert peak < 2 ** 20


def test_metadata_and_headers_that_agree_on_a_huge_network_are_refused_by_the_file_size(tmp_path):
    """Only the file's own size gives the lie away: nothing of the 8 GB is allocated."""
    content = _saved_bytes(tmp_path)
    meta = meta_of(content)
    meta["layer_dims"] = dims = [3, 10 ** 5, 10 ** 4, 1]
    members = []
    for name, member in members_of(content):
        if name == META:
            members.append((name, meta_member(meta)))
        else:
            l = int(name[1:-4])
            shape = (dims[l], dims[l - 1]) if name[0] == "W" else (dims[l], 1)
            members.append((name, npy_header(shape, "<f8") + npy_split(member)[1]))
    error, peak = _peak_while_loading(_corrupt(tmp_path, "lie.npz", zip_of(members)))
    assert "its member 'W1.npy' declares shape (100000, 3) of float64, 2400000 bytes of data, but stores 120" \
        in str(error)
    assert peak < 2 ** 20


def test_a_zip_bomb_is_refused_before_unpacking(tmp_path):
    """A compressed member may unpack to far more than the file holds: fastdl writes none."""
    content = _saved_bytes(tmp_path)
    meta = meta_of(content)
    meta["layer_dims"] = [1000, 1000, 1]
    members = [(META, meta_member(meta)), ("W1.npy", npy_bytes(np.zeros((1000, 1000))), zipfile.ZIP_DEFLATED),
               ("b1.npy", npy_bytes(np.zeros((1000, 1)))), ("W2.npy", npy_bytes(np.zeros((1, 1000)))),
               ("b2.npy", npy_bytes(np.zeros((1, 1))))]
    bomb = zip_of(members)
    assert len(bomb) < 50_000  # 8 MB of zeros inside
    error, peak = _peak_while_loading(_corrupt(tmp_path, "bomb.npz", bomb))
    assert "bomb.npz is not a valid fastdl model file: its member 'W1.npy' is compressed (zip method 8)" in str(error)
    assert peak < 2 ** 20


@pytest.mark.parametrize("sizes, message", [
    ({"file_size": 2 ** 31}, r"its member 'W1\.npy' declares 2147483648 bytes but stores 248"),
    ({"file_size": 2 ** 31, "compress_size": 2 ** 31},
     r"its member 'W1\.npy' declares 2147483648 bytes at offset 0, beyond the end of the \d+-byte file"),
], ids=["unpacked", "stored"])
def test_a_directory_declaring_more_than_the_file_holds(tmp_path, sizes, message):
    content = patched_central_sizes(zip_of(members_of(_saved_bytes(tmp_path))), "W1.npy", **sizes)
    error, peak = _peak_while_loading(_corrupt(tmp_path, "sizes.npz", content))
    assert re.search(message, str(error)), str(error)
    assert peak < 2 ** 20


def test_members_that_together_claim_more_than_the_file(tmp_path):
    """Two directory entries pointing at the same bytes (overlapping members)."""
    content = zip_of(members_of(_saved_bytes(tmp_path)))
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        infos = archive.infolist()
    size = len(content)
    # Every member claims almost the whole file: each fits, all together do not.
    for info in infos:
        content = patched_central_sizes(content, info.filename, file_size=size // 2, compress_size=size // 2)
    with pytest.raises(ValueError, match=r"(more than the whole file|declares \d+ bytes at offset)"):
        _load(_corrupt(tmp_path, "overlap.npz", content))


@pytest.mark.parametrize("edit, message", [
    (lambda m: m + [m[0]], r"it holds the member 'W1\.npy' twice"),
    (lambda m: m + [("../W1.npy", m[0][1])], r"its member name '\.\./W1\.npy' holds a path separator"),
    (lambda m: m + [("C:\\W1.npy", m[0][1])], r"its member name 'C:\\\\W1\.npy' holds a path separator"),
    (lambda m: m + [("notes.npy", npy_bytes(np.zeros(3)))],
     r"its arrays do not match a network with L = 3 layers: missing \[\], unexpected \['notes'\]"),
    (lambda m: m + [("W4.npy", m[0][1])], r".*missing \[\], unexpected \['W4'\]"),
    (lambda m: m + [("readme.txt", b"hello")], r"its member 'readme\.txt' is not an \.npy array"),
    (lambda m: [x for x in m if x[0] not in ("W2.npy", "b3.npy")], r".*missing \['W2', 'b3'\], unexpected \[\]"),
    (lambda m: [(n.replace("W1", "W01"), d) for n, d in m], r".*missing \['W1'\], unexpected \['W01'\]"),
    (lambda m: replaced(m, "b1.npy", dict(m)["W1.npy"]), r"b1 has shape \(5, 3\) but layer 1 expects \(5, 1\)"),
], ids=["duplicate", "parent", "backslash", "extra", "extra-layer", "not-npy", "missing", "renamed", "swapped"])
def test_the_member_list_must_be_exactly_the_networks(tmp_path, edit, message):
    members = edit(members_of(_saved_bytes(tmp_path)))
    with pytest.raises(ValueError, match=r"members\.npz is not a valid fastdl model file: " + message):
        _load(_corrupt(tmp_path, "members.npz", zip_of(members)))


@pytest.mark.parametrize("header, message", [
    (npy_header((5, 3), "<f8", version=(3, 0)), r"\.npy format version 3\.0 is not one numpy writes"),
    (npy_header((), None, text="(" * 3000), r"has no valid \.npy header"),
    (npy_header((), None, text="{'descr': '<f8', 'fortran_order': 0, 'shape': (5, 3)}"),
     r"fortran_order is not a valid bool"),
    (npy_header((5, 3), "|O"), r"holds Python objects"),
    (npy_header((5, 3), [("a", "|O")]), r"holds Python objects"),
    (npy_header((5, 3), ">f8"), r"W1 holds >f8 values but the metadata declares the dtype float64"),
    (npy_header((15,), [("a", "<f8")]), r"W1 holds \[\('a', '<f8'\)\] values"),
    (npy_header((-5, -3), "<f8"), r"declares the shape \(-5, -3\)"),
    (b"\x93NUMPY", r"has no valid \.npy header"),
], ids=["version", "nested", "bad-bool", "object", "object-field", "big-endian", "structured", "negative",
        "short"])
def test_a_bad_npy_header_is_refused(tmp_path, header, message):
    members = members_of(_saved_bytes(tmp_path))
    members = replaced(members, "W1.npy", header + npy_split(dict(members)["W1.npy"])[1])
    with pytest.raises(ValueError, match=r"is not a valid fastdl model file: .*" + message):
        _load(_corrupt(tmp_path, "header.npz", zip_of(members)))


def test_fortran_ordered_members_load_with_their_values(tmp_path):
    net = _trained("float64", 3)
    net.save(tmp_path / "c.npz")
    members = [(n, npy_bytes(np.asfortranarray(net.parameters[n[:-4]])) if n != META else d)
               for n, d in members_of((tmp_path / "c.npz").read_bytes())]
    assert b"'fortran_order': True" in members[0][1]
    loaded = _load(_corrupt(tmp_path, "f.npz", zip_of(members)))
    for key, value in net.parameters.items():
        np.testing.assert_array_equal(loaded.parameters[key], value)


def test_a_flipped_bit_in_the_data_fails_the_crc(tmp_path):
    content = bytearray(_saved_bytes(tmp_path))
    content[content.index(b"NUMPY") + 130] ^= 1  # inside W1's numbers
    with pytest.raises(ValueError, match=r"its member 'W1\.npy' is damaged \(Bad CRC-32"):
        _load(_corrupt(tmp_path, "flipped.npz", bytes(content)))


def test_a_directory_is_not_a_model_file(tmp_path):
    with pytest.raises(IsADirectoryError, match="it is a directory, not a fastdl model file"):
        _load(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    os.mkfifo(tmp_path / "pipe.npz")
    with pytest.raises(ValueError, match=r"pipe\.npz is not a valid fastdl model file: it is not a regular file"):
        _load(tmp_path / "pipe.npz")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_a_device_is_refused():
    with pytest.raises(ValueError, match=r"/dev/zero is not a valid fastdl model file: it is not a regular file"):
        _load("/dev/zero")


def test_the_memory_limit_applies_to_model_files(tmp_path):
    path = tmp_path / "model.npz"
    _trained("float64", 0).save(path)
    previous = fastdl.set_memory_limit(1000)
    try:
        with pytest.raises(ValueError, match=r"loading .*model\.npz \(a Network\(\[3, 5, 4, 1\], dtype='float64'\)\) "
                                             r"would need .* more than the memory limit of 1000 bytes"):
            _load(path)
    finally:
        fastdl.set_memory_limit(previous)


# -- hostile metadata ------------------------------------------------------------------------------------
def _with_meta_member(tmp_path, member):
    members = replaced(members_of(_saved_bytes(tmp_path)), META, member)
    return _corrupt(tmp_path, "meta.npz", zip_of(members))


@pytest.mark.parametrize("member, message", [
    (npy_bytes(np.array(["{}"])), r"its metadata is a <U2 array of shape \(1,\), not a single string"),
    (npy_bytes(np.array(b"{}")), r"its metadata is a \|S2 array of shape \(\), not a single string"),
    (npy_bytes(np.array(3.0)), r"its metadata is a float64 array"),
    (meta_member('{"seed": ' + "9" * 5000 + "}"), r"its metadata is not valid JSON \(Exceeds the limit"),
    (meta_member("[" * 100_000 + "]" * 100_000), r"its metadata is not valid JSON \(maximum recursion depth"),
    (npy_header((), "<U2") + np.array([0x110000, 0x7B], dtype="<u4").tobytes(), r"its metadata is not valid JSON"),
    (meta_member("x" * (_io.MAX_METADATA_CHARS + 1)),
     rf"its metadata takes {_io.MAX_METADATA_CHARS + 1} characters, more than the {_io.MAX_METADATA_CHARS}"),
], ids=["1-d", "bytes", "number", "long-int", "deep", "bad-code-point", "too-long"])
def test_bad_metadata_members(tmp_path, member, message):
    with pytest.raises(ValueError, match=r"meta\.npz is not a valid fastdl model file: " + message):
        _load(_with_meta_member(tmp_path, member))


def test_a_custom_activation_name_not_listed_as_custom_is_refused(tmp_path):
    """Else a file could name any activation and load would ask for it as a custom one."""
    def edit(arrays, meta):
        meta["activations"][0] = "softsign"
    with pytest.raises(ValueError, match=r"activations\[0\] \(layer 1\)='softsign' is not supported"):
        _load(_edited(tmp_path, edit))


def test_unknown_metadata_keys_are_ignored(tmp_path):
    """Room for optional additions within format_version 1."""
    assert _load(_edited(tmp_path, lambda arrays, meta: meta.update(added_later=[1, 2]))).layer_dims == [3, 5, 4, 1]


def test_metadata_too_long_for_a_model_file_is_refused_at_save(tmp_path, seed):
    net = _trained("float64", seed)
    net.metadata = {"notes": "x" * _io.MAX_METADATA_CHARS}
    with pytest.raises(ValueError, match=r"Network\.metadata takes \d+ characters as JSON; a model file holds "
                                         r"at most 1048576"):
        net.save(tmp_path / "model.npz")
    assert not os.listdir(tmp_path)


# -- atomic saves: a failure at any point keeps the old file ------------------------------------------
class _FailingFile:
    """A file that takes ``budget`` bytes, then raises ``error`` (a full disk, Ctrl-C)."""

    def __init__(self, file, budget, error):
        self._file, self._budget, self._error = file, budget, error

    def write(self, data):
        if len(data) > self._budget:
            self._file.write(bytes(data[: self._budget]))  # the part that made it to disk
            self._budget = 0
            raise self._error
        self._budget -= len(data)
        return self._file.write(data)

    def __getattr__(self, name):
        return getattr(self._file, name)


@pytest.fixture
def saved(tmp_path):
    """An existing model file, its bytes, and the network it holds."""
    path = tmp_path / "model.npz"
    net = _trained("float64", 0)
    net.save(path)
    return path, path.read_bytes(), net


def _assert_intact(saved):
    path, original_bytes, net = saved
    assert path.read_bytes() == original_bytes
    assert sorted(os.listdir(path.parent)) == ["model.npz"]  # no temporary file left
    np.testing.assert_array_equal(_load(path).parameters["W1"], net.parameters["W1"])


@pytest.mark.parametrize("budget", [0, 1, 100, 1000, 2500])
@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()],
                         ids=["disk-full", "ctrl-c"])
def test_a_write_failing_midway_keeps_the_old_file(saved, monkeypatch, budget, error):
    real_savez = np.savez
    monkeypatch.setattr(_io.np, "savez",
                        lambda file, **arrays: real_savez(_FailingFile(file, budget, error), **arrays))
    with pytest.raises(type(error)):
        _trained("float64", 1).save(saved[0])
    monkeypatch.undo()
    _assert_intact(saved)


@pytest.mark.parametrize("step", ["fsync", "chmod", "replace"])
def test_a_failure_after_the_write_keeps_the_old_file(saved, monkeypatch, step):
    def fail(*args, **kwargs):
        raise OSError(errno.EIO, f"{step} failed")
    monkeypatch.setattr(_io.os, step, fail)
    with pytest.raises(OSError, match=f"{step} failed"):
        _trained("float64", 1).save(saved[0])
    monkeypatch.undo()
    _assert_intact(saved)


def test_a_failing_first_save_leaves_nothing(tmp_path, monkeypatch):
    real_savez = np.savez
    monkeypatch.setattr(_io.np, "savez",
                        lambda file, **arrays: real_savez(_FailingFile(file, 500, KeyboardInterrupt()), **arrays))
    with pytest.raises(KeyboardInterrupt):
        _trained("float64", 1).save(tmp_path / "model.npz")
    assert not os.listdir(tmp_path)


def test_saving_into_a_missing_directory(tmp_path):
    target = tmp_path / "no" / "such" / "model.npz"
    with pytest.raises(FileNotFoundError, match=rf"cannot save the model to {re.escape(str(target))}: the "
                                                rf"directory {re.escape(str(target.parent))} does not exist"):
        _trained("float64", 0).save(target)
    assert not os.listdir(tmp_path)


def test_saving_into_a_directory_that_refuses_new_files(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")
    monkeypatch.setattr(_io.tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError, match=r"cannot save the model to .*model\.npz: Permission denied in "):
        _trained("float64", 0).save(tmp_path / "model.npz")
    assert not os.listdir(tmp_path)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root writes into read-only directories")
def test_saving_into_a_read_only_directory(tmp_path):
    directory = tmp_path / "read-only"
    directory.mkdir()
    directory.chmod(0o555)
    try:
        with pytest.raises(PermissionError, match=r"cannot save the model to .*: Permission denied in "):
            _trained("float64", 0).save(directory / "model.npz")
        assert not os.listdir(directory)
    finally:
        directory.chmod(0o755)


def test_a_saved_file_gets_ordinary_permissions(tmp_path):
    """Not the temporary's private 0o600: a model file is meant to be shared."""
    (tmp_path / "plain").write_bytes(b"")
    _trained("float64", 0).save(tmp_path / "model.npz")
    assert stat.S_IMODE(os.stat(tmp_path / "model.npz").st_mode) == stat.S_IMODE(os.stat(tmp_path / "plain").st_mode)
    os.chmod(tmp_path / "model.npz", 0o640)
    _trained("float64", 1).save(tmp_path / "model.npz")  # overwriting keeps the file's own mode
    assert stat.S_IMODE(os.stat(tmp_path / "model.npz").st_mode) == 0o640


def test_a_directory_of_many_empty_members_costs_memory_in_proportion(tmp_path):
    """zipfile's own objects for the directory: the one cost that grows with a hostile file
    before fastdl can look at it (about 6x the file for 20,000 empty members)."""
    members = members_of(_saved_bytes(tmp_path)) + [(f"x{i}.npy", b"") for i in range(20_000)]
    content = zip_of(members)
    error, peak = _peak_while_loading(_corrupt(tmp_path, "many.npz", content))
    assert "its arrays do not match a network with L = 3 layers" in str(error)
    assert peak < 8 * len(content) + 2 ** 20
