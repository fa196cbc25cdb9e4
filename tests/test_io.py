"""Model files: ``Network.save`` and ``fastdl.load``."""
import io
import json
import os
import zipfile

import numpy as np
import pytest

import fastdl
from fastdl import _io

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
    with pytest.raises(ValueError, match=r"is not a valid fastdl model file: it cannot be read as an \.npz"):
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
    path = tmp_path / "pickled.npy"
    np.save(path, np.array([{"W1": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=r"is not a valid fastdl model file: it cannot be read"):
        _load(path)


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


@pytest.mark.parametrize("version", [0, 2, "1", None])
def test_wrong_format_version(tmp_path, version):
    arrays = _valid_arrays(tmp_path)
    meta = json.loads(str(arrays[META_KEY]))
    meta["format_version"] = version
    arrays[META_KEY] = np.array(json.dumps(meta))
    path = tmp_path / "future.npz"
    _write_npz(path, arrays)
    with pytest.raises(ValueError, match=rf"format_version {version!r} is not supported by this fastdl "
                                         r"\(it reads version 1\)"):
        _load(path)


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
    with pytest.raises(ValueError, match=r"its arrays are not all of the declared dtype float64"):
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
], ids=["layer_dims", "activation", "dtype", "leaky_slope", "no-layer_dims"])
def test_bad_configuration_inside(tmp_path, key, value, message):
    def edit(arrays, meta):
        meta[key] = value
    with pytest.raises(ValueError, match=r"is not a valid fastdl model file: " + message):
        _load(_edited(tmp_path, edit))


def test_missing_configuration_key_inside(tmp_path):
    def edit(arrays, meta):
        del meta["layer_dims"]
    with pytest.raises(ValueError, match=r"is not a valid fastdl model file: 'layer_dims'"):
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
