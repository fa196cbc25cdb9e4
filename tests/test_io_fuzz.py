"""Fuzzing fastdl.load with damaged and hostile model files (hypothesis).

Each test starts from valid files of a few networks (depths 1 to 4, float32 and float64, a
custom activation, user metadata) and damages them one way. The property, for every file:

- load returns a Network whose parameters have the shapes layer_dims declares, the declared
  dtype, and only finite values (a file holding NaN or infinity is refused, not loaded), or
- load raises ValueError (or OSError) with a message: no other exception, no crash, no hang;
- the peak memory load allocates stays below 4x the file's size + 1 MiB;
- no pickle inside the file is ever run.

``FASTDL_FUZZ_EXAMPLES`` sets the examples per test (default 40: about 300 cases in all).
Runs are derandomized, so CI sees the same cases each time; raise the number for a long
campaign, and set ``FASTDL_FUZZ_REPORT=path.json`` to get the outcomes tallied there.
"""
import collections
import json
import math
import os
import signal
import time
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

import fastdl
from io_helpers import (META, Trap, members_of, message_family, meta_member, meta_of, npy_bytes,
                        npy_header, npy_split, pickled_object_array, replaced, zip_of)

EXAMPLES = int(os.environ.get("FASTDL_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SECONDS_PER_LOAD = 20
OUTCOMES = collections.Counter()


def _softsign(z):
    return z / (1 + abs(z))


def _softsign_prime(z):
    return 1 / (1 + abs(z)) ** 2


class _Base(tuple):
    """(file bytes, custom activations), shown briefly in hypothesis's reports."""

    def __repr__(self):
        return f"<model file of {len(self[0])} bytes>"


class _Hang(BaseException):
    """Raised by the alarm: a BaseException, so that no except clause in load swallows it."""


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def softsign():
    return fastdl.custom_activation("softsign", _softsign, _softsign_prime)


@pytest.fixture(scope="module")
def bases(workdir, softsign):
    """(bytes of a valid model file, the custom activations it needs), for several networks."""
    rng = np.random.default_rng(0)
    nets = [
        fastdl.Network([3, 5, 4, 1], hidden="leaky_relu", leaky_slope=0.05, seed=1),
        fastdl.Network([2, 1], init="zeros", dtype="float32", seed=2),
        fastdl.Network([4, 8, 8, 6, 3], hidden="tanh", output="softmax", dtype="float32", seed=3),
        fastdl.Network([2, 3, 1], hidden=softsign, seed=4),
    ]
    nets[0].metadata = {"feature_names": ["a", "b", "c"], "classes": [0, 1]}
    nets[3].metadata = {"nested": {"split": {"seed": 3, "dev": 0.2}}, "unicode": "éß"}
    out = []
    for k, net in enumerate(nets):
        X = rng.normal(size=(net.layer_dims[0], 16)).astype(net.dtype)
        Y = (rng.random((1, 16)) > 0.5).astype(net.dtype)
        net.fit(X, Y if net.layer_dims[-1] == 1 else np.zeros((1, 16), dtype=int), epochs=3,
                learning_rate=0.1)
        path = workdir / f"base{k}.npz"
        net.save(path)
        out.append(_Base((path.read_bytes(), {"softsign": softsign})))
    for content, custom in out:  # warm up imports and engine construction before measuring
        _load(workdir / "warm.npz", content, custom)
    return out


@pytest.fixture(scope="module", autouse=True)
def report():
    """With FASTDL_FUZZ_REPORT set, the tallied outcomes of this module's run, as JSON."""
    start = time.perf_counter()
    yield
    target = os.environ.get("FASTDL_FUZZ_REPORT")
    if target:
        with open(target, "w") as file:
            json.dump({"examples_per_test": EXAMPLES, "seconds": round(time.perf_counter() - start, 1),
                       "cases": sum(v for k, v in OUTCOMES.items() if k.startswith("test:")),
                       "outcomes": dict(OUTCOMES.most_common())}, file, indent=1)


def _on_alarm(signum, frame):
    raise _Hang(f"load ran for more than {SECONDS_PER_LOAD} s")


def _load(path, content, custom):
    """What fastdl.load makes of ``content``, with the peak memory it allocated."""
    path.write_bytes(content)
    alarm = hasattr(signal, "SIGALRM")  # POSIX; elsewhere a hang shows as a stuck test
    if alarm:
        previous = signal.signal(signal.SIGALRM, _on_alarm)
        signal.alarm(SECONDS_PER_LOAD)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # numpy's "Python 2 header"
                result = fastdl.load(path, custom_activations=custom)
        except (ValueError, OSError) as error:
            result = error
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
        if alarm:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
    return result, peak


def _check_network(net):
    dims = net.layer_dims
    assert len(dims) >= 2 and all(isinstance(n, int) and n >= 1 for n in dims)
    assert net.dtype in (np.float32, np.float64)
    assert len(net.activations) == net.L == len(dims) - 1
    assert isinstance(net.metadata, dict)
    params = net.parameters
    assert sorted(params) == sorted(f"{name}{l}" for l in range(1, net.L + 1) for name in "Wb")
    for l in range(1, net.L + 1):
        W, b = params[f"W{l}"], params[f"b{l}"]
        assert W.shape == (dims[l], dims[l - 1]) and b.shape == (dims[l], 1)
        assert W.dtype == b.dtype == net.dtype
        assert np.isfinite(W).all() and np.isfinite(b).all()
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            assert net.forward(np.ones((dims[0], 2), dtype=net.dtype)).shape == (dims[-1], 2)
        except ValueError as error:  # finite but huge parameters (1e308) overflow: refused
            assert str(error)


def _check(workdir, test, content, custom=None, marker=None):
    """The property: a valid Network or a ValueError/OSError, within the memory bound."""
    path = workdir / "case.npz"
    result, peak = _load(path, content, custom)
    OUTCOMES[f"test:{test}"] += 1
    bound = 4 * len(content) + 2 ** 20
    assert peak <= bound, f"load allocated {peak} bytes for a {len(content)}-byte file"
    if marker is not None:
        assert not os.path.exists(marker), "a pickle inside the file was run"
    if isinstance(result, fastdl.Network):
        _check_network(result)
        OUTCOMES["loaded"] += 1
    elif isinstance(result, ValueError):
        message = str(result)
        assert message.startswith((f"{path} is not a valid fastdl model file: ",
                                   "the model uses custom activations", f"loading {path} ")), message
        OUTCOMES[f"refused: {message_family(message)}"] += 1
    else:
        assert str(result), repr(result)
        OUTCOMES[f"{type(result).__name__}: {message_family(str(result))}"] += 1


def _base(data, bases):
    return bases[data.draw(st.integers(0, len(bases) - 1), label="base")]


# -- the bytes of the file ------------------------------------------------------------------
@FUZZ
@given(data=st.data())
def test_bit_flips(workdir, bases, data):
    content, custom = _base(data, bases)
    flipped = bytearray(content)
    positions = st.integers(0, len(content) - 1)
    for position, bit in data.draw(st.lists(st.tuples(positions, st.integers(0, 7)), min_size=1,
                                            max_size=12), label="flips"):
        flipped[position] ^= 1 << bit
    _check(workdir, "bit_flips", bytes(flipped), custom)


@FUZZ
@given(data=st.data())
def test_truncation_and_garbage(workdir, bases, data):
    content, custom = _base(data, bases)
    cut = data.draw(st.integers(0, len(content)), label="cut")
    garbage = data.draw(st.binary(max_size=300) | st.sampled_from([b"PK\x05\x06" + b"\0" * 18,
                                                                     b"PK\x03\x04", b"\x93NUMPY"]),
                        label="garbage")
    where = data.draw(st.sampled_from(["truncate", "append", "insert", "prepend", "overwrite"]))
    mutated = {"truncate": content[:cut], "append": content + garbage,
               "insert": content[:cut] + garbage + content[cut:], "prepend": garbage + content,
               "overwrite": content[:cut] + garbage + content[cut + len(garbage):]}[where]
    _check(workdir, "truncation_and_garbage", mutated, custom)


# -- the members of the archive ----------------------------------------------------------------
_NAMES = st.sampled_from(["W1.npy", "b1.npy", "W2.npy", "W0.npy", "b9.npy", "W01.npy", "W1", META,
                          "../W1.npy", "dir/W1.npy", "C:\\W1.npy", "w1.npy", "W1.npy\x00x", " ",
                          "__fastdl_meta__", "W99999999999.npy"]) | st.text(min_size=1, max_size=12).filter(
    lambda name: name.split("\x00")[0])  # zip names end at a NUL; zipfile cannot write ""


@st.composite
def _member_content(draw, members):
    kind = draw(st.sampled_from(["copy", "random", "array", "empty"]))
    if kind == "copy":
        return draw(st.sampled_from(members))[1]
    if kind == "random":
        return draw(st.binary(max_size=200))
    if kind == "array":
        shape = draw(st.lists(st.integers(0, 6), max_size=3))
        dtype = draw(st.sampled_from(["<f8", "<f4", "<i8", "|u1", ">f8"]))
        return npy_bytes(np.ones(shape, dtype=dtype))
    return b""


@FUZZ
@given(data=st.data())
def test_member_surgery(workdir, bases, data):
    content, custom = _base(data, bases)
    members = members_of(content)
    for _ in range(data.draw(st.integers(1, 3), label="operations")):
        op = data.draw(st.sampled_from(["remove", "rename", "duplicate", "add", "swap", "compress",
                                        "reorder"]), label="op")
        if not members and op != "add":
            continue
        k = data.draw(st.integers(0, max(len(members) - 1, 0)), label="member")
        if op == "remove":
            del members[k]
        elif op == "rename":
            members[k] = (data.draw(_NAMES, label="name"), members[k][1])
        elif op == "duplicate":
            members.insert(data.draw(st.integers(0, len(members))), members[k])
        elif op == "add":
            members.append((data.draw(_NAMES, label="name"), data.draw(_member_content(members or [("", b"")]))))
        elif op == "swap":
            j = data.draw(st.integers(0, len(members) - 1))
            members[k], members[j] = (members[k][0], members[j][1]), (members[j][0], members[k][1])
        elif op == "compress":
            method = data.draw(st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]))
            members[k] = (*members[k][:2], method)
        else:
            members = data.draw(st.permutations(members))
    _check(workdir, "member_surgery", zip_of(members), custom)


# -- the metadata -------------------------------------------------------------------------------
_HUGE = st.sampled_from([10 ** 9, 10 ** 12, 2 ** 63, 10 ** 30, -1, 0, -(2 ** 63), 10 ** 4000])
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10 ** 6) | _HUGE | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=8)
_KEYS = ["format", "format_version", "layer_dims", "activations", "custom_activations", "leaky_slope",
         "dtype", "init", "seed", "metadata"]
_SPECIAL = {
    "format": st.sampled_from(["fastdl.Network", "fastdl.network", "sklearn", ""]),
    "format_version": st.sampled_from([0, 1, 2, 99, 10 ** 30, "1", 1.0, True, None, -1]),
    "layer_dims": st.lists(st.integers(-2, 10) | _HUGE, min_size=0, max_size=6),
    "activations": st.lists(st.sampled_from(["relu", "tanh", "sigmoid", "softmax", "exp", "linear",
                                             "leaky_relu", "softsign", "relux", "", "Sigmoid"]),
                            max_size=6),
    "custom_activations": st.lists(st.sampled_from(["softsign", "relu", "swish", "", "not a name"]),
                                   max_size=3),
    "dtype": st.sampled_from(["float32", "float64", "float16", "int64", "f8", "object", "<f8"]),
    "init": st.sampled_from(["he", "xavier", "zeros", "small", "bogus"]),
    "seed": st.sampled_from([None, 0, 7, -1, 2 ** 64, 10 ** 100, 1.5, "1"]),
    "leaky_slope": st.sampled_from([0, 0.01, 0.99, 1, -0.1, 2.0, float("nan"), float("inf"), True]),
}


@FUZZ
@given(data=st.data())
def test_metadata_mutations(workdir, bases, data):
    content, custom = _base(data, bases)
    members = members_of(content)
    meta = meta_of(content)
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        key = data.draw(st.sampled_from(_KEYS + ["an_unknown_key"]), label="key")
        edit = data.draw(st.sampled_from(["delete", "special", "any"]), label="edit")
        if edit == "delete":
            meta.pop(key, None)
        else:
            meta[key] = data.draw(_SPECIAL.get(key, _JSON) if edit == "special" else _JSON, label="value")
    form = data.draw(st.sampled_from(["json", "json", "json", "text", "list", "bytes", "number",
                                      "deep", "long"]), label="form")
    text = json.dumps(meta)
    member = {
        "json": lambda: meta_member(text),
        "text": lambda: meta_member(data.draw(st.text(max_size=60), label="text")),
        "list": lambda: npy_bytes(np.array([text])),
        "bytes": lambda: npy_bytes(np.array(text.encode())),
        "number": lambda: npy_bytes(np.array(3.0)),
        "deep": lambda: meta_member("[" * 100_000 + "]" * 100_000),
        "long": lambda: meta_member('{"seed": ' + "9" * 5000 + "}"),
    }[form]()
    _check(workdir, "metadata_mutations", zip_of(replaced(members, META, member)), custom)


# -- the .npy headers -------------------------------------------------------------------------
_SHAPES = (st.lists(st.integers(-3, 12), max_size=3).map(tuple)
           | st.sampled_from([(10 ** 9, 10 ** 9), (2 ** 62, 4), (2 ** 64,), (10 ** 12,), (-1, 5),
                              (10 ** 30, 10 ** 30), ()]))
_DESCRS = st.sampled_from(["<f8", "<f4", ">f8", "<i8", "|O", "<U5", "|S8", "<c16", "|V8", "<f2",
                           [("a", "<f8")], [("a", "|O")], ("<f8", (2,)), ("<f8", (10 ** 9, 10 ** 9)),
                           "garbage", 5])
_HEADER_TEXTS = st.text(max_size=80) | st.sampled_from([
    "{'descr': '<f8', 'fortran_order': False, 'shape': (1" + ",1" * 500 + ",)}",
    "(" * 3000, "[" * 2000, "{'descr': '<f8', 'fortran_order': False, 'shape': (3L, 5L)}",
    "{'descr': '<f8', 'fortran_order': 0, 'shape': (3, 5)}", "{}", "None",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 5), 'extra': 1}"])


@FUZZ
@given(data=st.data())
def test_header_rewrites(workdir, bases, data):
    content, custom = _base(data, bases)
    members = members_of(content)
    name, member = data.draw(st.sampled_from(members), label="member")
    _, body = npy_split(member)
    version = data.draw(st.sampled_from([(1, 0), (1, 0), (2, 0), (3, 0), (0, 9)]), label="version")
    if data.draw(st.booleans(), label="free text"):
        header = npy_header((), None, version=version, text=data.draw(_HEADER_TEXTS, label="text"))
    else:
        header = npy_header(data.draw(_SHAPES, label="shape"), data.draw(_DESCRS, label="descr"),
                            data.draw(st.booleans(), label="fortran"), version=version)
    body = data.draw(st.sampled_from([body, body[: len(body) // 2], body + body, b""]), label="body")
    _check(workdir, "header_rewrites", zip_of(replaced(members, name, header + body)), custom)


@FUZZ
@given(data=st.data())
def test_sizes_that_agree_with_each_other_but_not_with_the_file(workdir, bases, data):
    """Metadata and headers both claiming a huge network: only the file's size tells."""
    content, custom = _base(data, bases)
    meta = meta_of(content)
    L = len(meta["layer_dims"]) - 1
    dims = data.draw(st.lists(st.integers(1, 10) | st.integers(11, 2 ** 31 - 1) | _HUGE.filter(lambda n: n > 0),
                              min_size=L + 1, max_size=L + 1), label="layer_dims")
    assume(any(n > 10 for n in dims))
    meta["layer_dims"] = dims
    descr = np.dtype(meta["dtype"]).str
    members = []
    for name, member in members_of(content):
        if name == META:
            members.append((name, meta_member(meta)))
            continue
        l = int(name[1:-4])
        shape = (dims[l], dims[l - 1]) if name[0] == "W" else (dims[l], 1)
        fortran = data.draw(st.booleans(), label="fortran")
        members.append((name, npy_header(shape, descr, fortran) + npy_split(member)[1]))
    _check(workdir, "consistent_lies", zip_of(members), custom)


# -- pickles -------------------------------------------------------------------------------
@FUZZ
@given(data=st.data())
def test_pickles_are_never_run(workdir, bases, data):
    content, custom = _base(data, bases)
    marker = workdir / "pickle-ran"
    if marker.exists():
        marker.rmdir()
    trap = pickled_object_array(marker)
    members = members_of(content)
    where = data.draw(st.sampled_from(["member", "added", "whole file", "as floats", "as npy file"]),
                      label="where")
    if where == "member":
        name = data.draw(st.sampled_from([name for name, _ in members]), label="member")
        mutated = zip_of(replaced(members, name, trap))
    elif where == "added":
        mutated = zip_of(members + [(data.draw(_NAMES, label="name"), trap)])
    elif where == "whole file":
        import pickle
        mutated = pickle.dumps(Trap(marker))
    elif where == "as npy file":
        mutated = trap
    else:  # a float header in front of the pickle: its bytes are read as numbers, not run
        name = data.draw(st.sampled_from([name for name, _ in members if name != META]), label="member")
        header, body = npy_split(dict(members)[name])
        pickle_bytes = npy_split(trap)[1]
        n = math.ceil(len(pickle_bytes) / 8)
        mutated = zip_of(replaced(members, name, npy_header((n,), "<f8") + pickle_bytes.ljust(8 * n, b"\0")))
    _check(workdir, "pickles", mutated, custom, marker=marker)


# -- the numbers themselves ------------------------------------------------------------------
_SPECIAL_VALUES = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0, 5e-324, 1e-45, 1e308, -1e308,
                                   3.4e38, 1e39, 1.0])


@FUZZ
@given(data=st.data())
def test_parameter_values(workdir, bases, data):
    """Any bytes as the numbers, with a CRC that matches: NaN and infinity are refused."""
    content, custom = _base(data, bases)
    members = members_of(content)
    name, member = data.draw(st.sampled_from([m for m in members if m[0] != META]), label="member")
    header, body = npy_split(member)
    dtype = np.dtype(meta_of(content)["dtype"])
    if data.draw(st.booleans(), label="random bytes"):
        body = data.draw(st.binary(min_size=len(body), max_size=len(body)), label="bytes")
    else:
        values = np.frombuffer(body, dtype=dtype).copy()
        for index, value in data.draw(st.lists(st.tuples(st.integers(0, values.size - 1), _SPECIAL_VALUES),
                                               min_size=1, max_size=4), label="values"):
            with np.errstate(over="ignore"):
                values[index] = value
        body = values.tobytes()
    _check(workdir, "parameter_values", zip_of(replaced(members, name, header + body)), custom)
