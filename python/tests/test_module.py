import numpy as np
import pytest

import baler
from conftest import max_error_over_range

NAMES = ["px", "py", "pt", "q"]  # a 2-D array without names is a field unless 16x taller than wide


def test_compress_decompress_table_within_bound(table):
    blob = baler.compress(table, "range:1e-3", names=NAMES)
    assert isinstance(blob, bytes) and len(blob) < table.nbytes
    back = baler.decompress(blob)
    assert back.dtype == table.dtype and back.shape == table.shape
    assert max_error_over_range(table, back) <= 1e-3
    np.testing.assert_array_equal(back[:, 3], table[:, 3])  # few-valued column kept exact


def test_structured_array_is_a_table_of_its_fields_and_comes_back_as_one(table):
    records = np.zeros(len(table), dtype=[("px", "<f4"), ("py", "<f8"), ("pt", "<f8"), ("q", "<i4")])
    for k, name in enumerate(NAMES):
        records[name] = table[:, k]
    blob = baler.compress(records, "range:1e-3")
    assert baler.info(blob)["sizes"]["input"] == records.nbytes  # as stored, not as float64
    back = baler.decompress(blob)
    assert back.dtype == records.dtype and back.shape == records.shape  # each field in its dtype
    for name in NAMES[:3]:
        span = records[name].max() - records[name].min()
        assert np.abs(back[name] - records[name]).max() <= 1e-3 * span
    np.testing.assert_array_equal(back["q"], records["q"])  # integer values, exact
    with pytest.raises(ValueError, match="names its columns by its fields"):
        baler.compress(records, "range:1e-3", names=NAMES)
    with pytest.raises(ValueError, match="1-D"):
        baler.compress(records.reshape(2, -1), "range:1e-3")
    with pytest.raises(ValueError, match=r"column 'a' is not one value per row \(shape \(4, 2\)\)"):
        baler.compress(np.zeros(4, dtype=[("a", "<f4", (2,)), ("b", "<f4")]), "range:1e-3")
    with pytest.raises(ValueError, match="without columns"):
        baler.compress(np.zeros(4, dtype=[]), "range:1e-3")


def test_dict_of_columns_is_a_table_and_comes_back_as_one(table):
    columns = {name: table[:, k].astype(np.float32) for k, name in enumerate(NAMES)}
    columns["q"] = table[:, 3].astype(np.int8)
    back = baler.decompress(baler.compress(columns, "range:1e-3"))
    assert list(back) == NAMES
    for name, values in columns.items():
        assert back[name].dtype == values.dtype and back[name].shape == values.shape
        assert np.abs(back[name] - values).max() <= 1e-3 * (values.max() - values.min())
    with pytest.raises(ValueError, match="names its columns by its keys"):
        baler.compress(columns, "range:1e-3", names=NAMES)
    with pytest.raises(ValueError, match="'q' has 3 values"):
        baler.compress(dict(columns, q=columns["q"][:3]), "range:1e-3")
    with pytest.raises(ValueError, match="column 'q' is not one value per row"):
        baler.compress(dict(columns, q=np.array(1.0)), "range:1e-3")


def test_a_column_of_text_comes_back_as_its_text(table):
    n = len(table)
    kinds = np.array(["GG", "GT", "TT"])[np.arange(n) % 3]
    triggers = np.array([f"HLT_{k * 7 % 300}" for k in range(n)], dtype=object)  # as pandas gives text
    blob = baler.compress({"pt": table[:, 2], "type": kinds, "trigger": triggers}, "range:1e-3")
    assert baler.info(blob)["header"]["input"]["labels"][1] == ["GG", "GT", "TT"]
    back = baler.decompress(blob)
    assert list(back) == ["pt", "type", "trigger"]
    assert back["type"].dtype.kind == "U" and back["trigger"].dtype.kind == "U"
    np.testing.assert_array_equal(back["type"], kinds)
    np.testing.assert_array_equal(back["trigger"], triggers.astype(str))
    assert np.abs(back["pt"] - table[:, 2]).max() <= 1e-3 * np.ptp(table[:, 2])
    mixed = np.array(([1, "a"] * n)[:n], dtype=object)
    with pytest.raises(ValueError, match=r"column 'bad' holds objects that are not all str \(int\)"):
        baler.compress({"pt": table[:, 2], "bad": mixed}, "range:1e-3")


def test_text_fields_of_a_structured_array_come_back_as_text(table):
    n = len(table)
    records = np.zeros(n, dtype=[("pt", "<f8"), ("type", "<U2"), ("trig", "S4")])
    records["pt"] = table[:, 2]
    records["type"] = np.array(["GG", "GT", "TT"])[np.arange(n) % 3]
    records["trig"] = np.array([b"HLT1", b"L1"])[np.arange(n) % 2]
    back = baler.decompress(baler.compress(records, "range:1e-3"))
    # Records again, the text as unicode fields as wide as their longest cell.
    assert back.dtype == np.dtype([("pt", "<f8"), ("type", "<U2"), ("trig", "<U4")]) and back.shape == (n,)
    np.testing.assert_array_equal(back["type"], records["type"])
    np.testing.assert_array_equal(back["trig"], records["trig"].astype(str))
    assert np.abs(back["pt"] - table[:, 2]).max() <= 1e-3 * np.ptp(table[:, 2])


def test_field_keeps_dtype_shape_and_abs_bound(field):
    back = baler.decompress(baler.compress(field, "abs:1e-3"))
    assert back.dtype == np.float32 and back.shape == field.shape
    assert np.abs(back.astype(np.float64) - field).max() <= 1e-3


def test_fast_effort_keeps_the_bound_and_a_bad_effort_is_refused(field, table):
    for data, names in ((field, None), (table, NAMES)):
        back = baler.decompress(baler.compress(data, "range:1e-3", names=names, effort="fast"))
        whole = (lambda a: a) if names else (lambda a: a.astype(np.float64).reshape(-1, 1))  # a field: one range
        assert max_error_over_range(whole(data), whole(back)) <= 1e-3
    with pytest.raises(ValueError, match="not thorough or fast"):
        baler.compress(field, "range:1e-3", effort="quick")


def psnr(a, b):
    a = a.astype(np.float64)
    return 20 * np.log10((a.max() - a.min()) / np.sqrt(np.mean((b.astype(np.float64) - a) ** 2)))


def test_field_meets_a_psnr_target_closely(field):
    for target in (35, 50):
        assert target <= psnr(field, baler.decompress(baler.compress(field, "psnr:%d" % target))) <= target + 0.5


def test_float16_field_comes_back_float16_within_bound(field):
    half = field.astype(np.float16)
    back = baler.decompress(baler.compress(half, "range:1e-3"))
    assert back.dtype == np.float16 and back.shape == half.shape
    wide = half.astype(np.float64)
    assert np.abs(back.astype(np.float64) - wide).max() <= 1e-3 * (wide.max() - wide.min())


def test_integer_array_comes_back_exact():
    a = np.arange(500, dtype=np.int32).reshape(100, 5) % 7
    back = baler.decompress(baler.compress(a, "abs:0.5"))
    assert back.dtype == np.int32
    np.testing.assert_array_equal(back, a)


def test_int64_nanosecond_times_come_back_bit_for_bit():
    # Past 2^53 float64 skips integers: held less the column's smallest, they stay exact.
    t = 1_600_000_000_000_000_001 + np.cumsum(np.arange(3000, dtype=np.int64) % 977 + 1000)
    back = baler.decompress(baler.compress(t, "abs:10"))
    assert back.dtype == np.int64
    np.testing.assert_array_equal(back, t)
    hits = np.zeros(3000, dtype=[("t_ns", "<i8"), ("adc", "<f4")])
    hits["t_ns"], hits["adc"] = t, np.linspace(0, 1, 3000)
    back = baler.decompress(baler.compress(hits, "abs:1e-3"))
    np.testing.assert_array_equal(back["t_ns"], hits["t_ns"])
    assert np.abs(back["adc"] - hits["adc"]).max() <= 1e-3
    with pytest.raises(ValueError, match="holds int64 values from 0 to 9223372036854775807"):
        baler.compress(np.array([0, 2**63 - 1] * 100, dtype=np.int64), "abs:10")


def test_decompressed_array_is_writable_numpy(table):
    back = baler.decompress(baler.compress(table))
    back[0, 0] = 42.0  # owns its memory (no copy was made to hand it over)
    assert back.flags.c_contiguous and back.flags.writeable


def test_train_and_reuse_model(table):
    model = baler.train(table, names=NAMES, epochs=3, seed=1)
    assert isinstance(model, bytes)
    blob = baler.compress(table, error_bound=None, names=NAMES, model=model)
    assert baler.decompress(blob).shape == table.shape
    # Without the decoder in the file, decompressing needs the model.
    thin = baler.compress(table, error_bound=None, names=NAMES, model=model, embed_decoder=False)
    assert len(thin) < len(blob)
    with pytest.raises(baler.BalerError, match="model"):
        baler.decompress(thin)
    # The model file's weights are float32, the embedded decoder's quantised to cost at most
    # 1 % more squared error (on the unquantised latent; a few % with the quantised one).
    full, embedded = baler.decompress(thin, model=model), baler.decompress(blob)
    scale = np.ptp(table, axis=0) + (np.ptp(table, axis=0) == 0)
    def squared_error(y): return np.mean(((y - table) / scale) ** 2)
    assert not np.array_equal(full, embedded)
    assert squared_error(embedded) <= 1.05 * squared_error(full)
    # A model also serves the error-bounded mode.
    bounded = baler.compress(table, error_bound="range:1e-3", names=NAMES, model=model)
    assert max_error_over_range(table, baler.decompress(bounded)) <= 1e-3


def test_info_reports_sizes_and_ratio(table):
    blob = baler.compress(table, "range:1e-2")
    i = baler.info(blob)
    assert i["file_size"] == len(blob)
    assert i["header"]["input"]["shape"] == list(table.shape)
    assert i["sizes"]["total"] == len(blob) and i["sizes"]["input"] == table.nbytes
    assert i["ratio"] == pytest.approx(table.nbytes / len(blob))
    assert {s["kind"] for s in i["sections"]} and "whole file" in i["text"]


def test_hdf5_filter_arguments():
    kw = baler.hdf5_filter("rel:1e-2", layout="field")
    assert kw["compression"] == baler.HDF5_FILTER_ID == 305
    kind, low, high, layout = kw["compression_opts"]
    assert kind == 2 and layout == 1
    assert np.array([low, high], dtype="<u4").view("<f8")[0] == 1e-2


@pytest.mark.parametrize("bound", ["range:1e-3,pt=rel:1e-3", "bogus:1", "abs:-1", "range:x"])
def test_hdf5_filter_refuses_bounds_it_cannot_carry(bound):
    with pytest.raises(ValueError):
        baler.hdf5_filter(bound)


def test_hdf5_filter_refuses_unknown_layout():
    with pytest.raises(ValueError, match="layout"):
        baler.hdf5_filter("abs:1", layout="grid")
    with pytest.raises(ValueError, match="effort"):
        baler.hdf5_filter("abs:1", effort="quick")


def test_hdf5_filter_fast_effort_adds_two_to_the_layout():
    assert baler.hdf5_filter("abs:1", layout="field", effort="fast")["compression_opts"][3] == 3
    assert baler.hdf5_filter("abs:1", effort="fast")["compression_opts"][3] == 2


# Bad input: always a ValueError (baler.BalerError) with the library's message, never a crash.

@pytest.mark.parametrize("a", [np.zeros((4, 3), dtype=np.complex128),
                               np.array([["a", "b"]]), np.zeros(4, dtype=np.longdouble)])
def test_wrong_dtype(a):
    with pytest.raises(baler.BalerError, match="dtype"):
        baler.compress(a)


def test_not_an_array():
    with pytest.raises(ValueError, match="numpy.ndarray"):
        baler.compress([[1.0, 2.0]])


def test_non_contiguous_is_gathered_and_the_native_layer_refuses_it(table):
    names = NAMES[:2]
    for a in (table[:, ::2], np.asfortranarray(table)[:, :2]):
        assert not a.flags.c_contiguous
        back = baler.decompress(baler.compress(a, "range:1e-3", names=names))
        assert max_error_over_range(a, back) <= 1e-3
    with pytest.raises(ValueError, match="C-contiguous"):
        baler._baler.compress_bounded(table[:, ::2], "range:1e-3", None, "")


def test_big_endian(table):
    with pytest.raises(ValueError, match="big-endian"):
        baler.compress(table.astype(">f8"))


def test_nan_is_refused_by_a_model_and_kept_under_a_bound(table):
    t = table.copy()
    t[5, 1] = np.nan
    names = NAMES
    with pytest.raises(ValueError, match="NaN at row 5"):
        baler.train(t, epochs=1)
    for options in ({}, {"allow_non_finite": True}):
        back = baler.decompress(baler.compress(t, "range:1e-3", names, **options))
        assert np.isnan(back[5, 1]) and np.isfinite(np.delete(back[:, 1], 5)).all()
        assert max_error_over_range(np.nan_to_num(t), np.nan_to_num(back)) <= 1e-3


def test_names_must_match_columns(table):
    with pytest.raises(ValueError, match="column names"):
        baler.compress(table, names=["a", "b"])


def test_unknown_option(table):
    with pytest.raises(ValueError, match="epoch"):
        baler.train(table, epoch=3)


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "text"])
def test_corrupted_bytes(table, damage):
    blob = bytearray(baler.compress(table, "range:1e-2"))
    if damage == "flip":
        blob[len(blob) // 2] ^= 0x10
    elif damage == "truncate":
        blob = blob[: len(blob) - 7]
    elif damage == "empty":
        blob = b""
    else:
        blob = b"not a baler file at all"
    with pytest.raises(ValueError):
        baler.decompress(bytes(blob))
    if damage != "flip":  # info reads the layout only; the checksums are decompress's job
        with pytest.raises(ValueError):
            baler.info(bytes(blob))


def test_bad_model_bytes(table):
    with pytest.raises(ValueError):
        baler.compress(table, model=b"\x00" * 64)
