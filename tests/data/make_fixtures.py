#!/usr/bin/python3
"""Writes the small .npy/.npz fixtures of the io tests with real numpy.

Run from anywhere: /usr/bin/python3 tests/data/make_fixtures.py
The files are committed; rerun only to change them. Values follow simple formulas that the
C++ tests recompute (see value()), so no expected-values file is needed.
"""
import io
import os
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

# Every dtype baler reads, by the short name the tests use.
DTYPES = {
    "bool": "?", "i8": "i1", "i16": "i2", "i32": "i4", "i64": "i8",
    "u8": "u1", "u16": "u2", "u32": "u4", "u64": "u8", "f32": "f4", "f64": "f8", "f16": "f2",
}


def value(kind, shape):
    """The test pattern: k - 5 (k = 0, 1, ... in C order) for signed and float types, k for
    unsigned ones, k % 3 == 0 for bool; floats add a quarter to catch integer reinterpretation."""
    k = np.arange(int(np.prod(shape))).reshape(shape)
    dtype = np.dtype(kind)
    if dtype.kind == "b":
        return k % 3 == 0
    if dtype.kind == "u":
        return k.astype(dtype)
    if dtype.kind == "f":
        return (k - 5 + 0.25).astype(dtype)
    return (k - 5).astype(dtype)


def path(name):
    return os.path.join(HERE, name)


def save(name, array, version=None):
    with open(path(name), "wb") as f:
        np.lib.format.write_array(f, array, version=version)


class Pipe:
    """A write-only stream: zipfile cannot seek back, so it writes data descriptors."""
    def __init__(self):
        self.buffer = io.BytesIO()

    def write(self, b):
        return self.buffer.write(b)

    def flush(self):
        pass


def streamed_table():
    """The table as zipfile streams it: data descriptors (flag bit 3) after each member, one
    member deflated and one stored, a folder entry and an archive comment."""
    pipe = Pipe()
    with zipfile.ZipFile(pipe, "w") as z:
        z.writestr(zipfile.ZipInfo("extra/"), b"")
        for name, array, method in [("data.npy", value("<f8", (4, 3)), zipfile.ZIP_DEFLATED),
                                    ("names.npy", np.array(["pt", "eta", "phi"]), zipfile.ZIP_STORED)]:
            member = io.BytesIO()
            np.save(member, array)
            z.writestr(name, member.getvalue(), compress_type=method)
        z.comment = b"written to a pipe"
    data = pipe.buffer.getvalue()
    assert b"PK\x07\x08" in data, "no data descriptor"
    with open(path("table_streamed.npz"), "wb") as f:
        f.write(data)
    loaded = np.load(path("table_streamed.npz"))
    assert (loaded["data"] == value("<f8", (4, 3))).all() and list(loaded["names"]) == ["pt", "eta", "phi"]


def panning_frames():
    """10 frames of 32 x 48 float32, a view moving a row and two columns a frame across a smooth
    random scene, with noise: the moving causal predictor's input in the across-builds test."""
    rng = np.random.default_rng(12)
    ky, kx = np.meshgrid(np.fft.fftfreq(64) * 64, np.fft.fftfreq(96) * 96, indexing="ij")
    k = np.hypot(ky, kx)
    k[0, 0] = 1
    scene = np.fft.ifft2(k ** -1.5 * np.fft.fft2(rng.normal(size=(64, 96)))).real
    frames = np.stack([scene[t:t + 32, 2 * t:2 * t + 48] for t in range(10)])
    save("panning_frames.npy", (frames / frames.std() + 0.01 * rng.normal(size=frames.shape)).astype(np.float32))


def smooth_noisy_frames():
    """16 frames of 48 x 48 float32, smooth waves with noise of 0.4 % of their range: where the
    corrected wavelet leads at a loose bound, its input in the across-builds test."""
    rng = np.random.default_rng(0)
    t, y, x = np.meshgrid(np.arange(16), np.arange(48), np.arange(48), indexing="ij")
    waves = np.sin(0.11 * x + 0.05 * t) * np.cos(0.07 * y) + 0.3 * y / 48
    save("smooth_noisy_frames.npy", (waves + 0.01 * rng.normal(size=waves.shape)).astype(np.float32))


def main():
    # One archive per byte order holding every dtype as a 2 x 3 array (members "<short name>").
    np.savez_compressed(path("dtypes_little.npz"),
                        **{n: value("<" + k if k != "?" else k, (2, 3)) for n, k in DTYPES.items()})
    np.savez_compressed(path("dtypes_big.npz"),
                        **{n: value(">" + k, (2, 3)) for n, k in DTYPES.items() if np.dtype(k).itemsize > 1})

    # Layouts and versions, each a plain .npy.
    save("c_f8.npy", value("<f8", (3, 4)))
    save("fortran_f8.npy", np.asfortranarray(value("<f8", (3, 4))))
    save("fortran_i16_3d.npy", np.asfortranarray(value("<i2", (2, 3, 4))))
    save("big_endian_f8.npy", value(">f8", (3, 4)))
    save("big_endian_fortran_i32.npy", np.asfortranarray(value(">i4", (3, 4))))
    save("v2_f4.npy", value("<f4", (2, 2)), version=(2, 0))
    save("v3_i64.npy", value("<i8", (2, 2)), version=(3, 0))
    save("bool.npy", value("?", (7,)))
    save("scalar_f8.npy", np.array(2.5))
    save("empty_f8.npy", np.zeros((0, 3)))
    save("extremes_i64.npy", np.array([np.iinfo(np.int64).min, -1, 0, np.iinfo(np.int64).max]))
    save("extremes_u64.npy", np.array([0, 1, np.iinfo(np.uint64).max], dtype=np.uint64))
    save("specials_f8.npy", np.array([np.nan, np.inf, -np.inf, -0.0, 5e-324, 1.7976931348623157e308]))

    # Names: unicode text, including characters outside ASCII and outside the BMP.
    names = ["px", "p\u03c7\u00b2", "", "\u0394\u03c6", "\U0001d4d4"]
    save("names_little.npy", np.array(names))
    save("names_big.npy", np.array(names, dtype=">U4"))

    # Types baler refuses, as numpy writes them.
    save("complex128.npy", np.array([1 + 2j, 3 - 4j]))
    save("float128.npy", np.array([1.0, 2.0], dtype=np.longdouble))
    save("datetime64.npy", np.array(["2024-01-01"], dtype="datetime64[D]"))
    save("structured.npy", np.zeros(2, dtype=[("a", "<i4"), ("b", "<f8")]))
    save("object.npy", np.array([{"a": 1}, None], dtype=object))

    # Structured arrays (record dtypes), read as tables: fields of mixed types; one dtype, as a
    # .npz member "data"; big-endian fields aligned with padding; fields baler refuses.
    def records(dtype, n=4):
        r = np.zeros(n, dtype=dtype)
        for name in r.dtype.names:
            r[name] = value(r.dtype[name].newbyteorder("="), (n,))
        return r
    save("records_mixed.npy", records([("pt", "<f4"), ("eta", "<f8"), ("n", "<i4"), ("ok", "?")]))
    np.savez(path("records_table.npz"), data=records([("x", "<f8"), ("y", "<f8")]))
    save("records_aligned_big.npy", records(np.dtype([("a", ">i2"), ("b", ">f8")], align=True)))
    save("records_subarray.npy", np.zeros(2, dtype=[("a", "<f4", (2,))]))
    # Text fields, unicode and bytes: columns of text.
    text = [("mu", 1.5, b"HLT1"), ("e", -2.0, b"L1"), ("mu", 0.25, b"HLT1"), ("", 4.0, b"HLT2")]
    save("records_text.npy", np.array(text, dtype=[("name", "<U3"), ("x", "<f8"), ("trig", "S4")]))
    # The mixed records as h5py stores them: a 1-D compound dataset (bool as h5py's enum).
    import h5py
    with h5py.File(path("records.h5"), "w") as f:
        f.create_dataset("jets", data=records([("pt", ">f4"), ("eta", "<f8"), ("n", "<i4"), ("ok", "?")]))
    # Text in a compound: a fixed-length ('S4') and a variable-length (str) member.
    with h5py.File(path("records_text.h5"), "w") as f:
        kinds = np.dtype([("trig", "S4"), ("x", "<f8"), ("name", h5py.string_dtype())])
        f.create_dataset("jets", data=np.array([(t, x, n) for n, x, t in text], dtype=kinds))

    # Tables in Baler's convention, stored and deflated.
    table = value("<f8", (4, 3))
    columns = np.array(["pt", "eta", "phi"])
    np.savez(path("table_stored.npz"), data=table, names=columns)
    np.savez_compressed(path("table_deflated.npz"), data=table, names=columns)
    # A single member under another name, and the empty float64 names np.savez(names=[]) makes.
    np.savez(path("single_member.npz"), values=value("<i4", (5,)))
    np.savez(path("empty_names.npz"), data=value("<f4", (2, 2, 2)), names=np.array([]))

    # A fully zip64 archive (zip64 end of central directory, zip64 sizes everywhere): zipfile
    # switches to zip64 past ZIP64_LIMIT, so lowering the limit forces it on a tiny file.
    saved_limit = zipfile.ZIP64_LIMIT
    zipfile.ZIP64_LIMIT = 0
    try:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, data=table, names=columns)
    finally:
        zipfile.ZIP64_LIMIT = saved_limit
    with open(path("table_zip64.npz"), "wb") as f:
        f.write(buffer.getvalue())
    assert b"PK\x06\x06" in buffer.getvalue(), "no zip64 end of central directory record"

    streamed_table()
    panning_frames()
    smooth_noisy_frames()

    # Every fixture must load back in numpy as written.
    loaded = np.load(path("table_zip64.npz"))
    assert (loaded["data"] == table).all() and list(loaded["names"]) == list(columns)
    assert (np.load(path("fortran_f8.npy")) == value("<f8", (3, 4))).all()
    assert list(np.load(path("names_big.npy"))) == names


if __name__ == "__main__":
    main()
