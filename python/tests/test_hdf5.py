"""The HDF5 filter through h5py and through HDF5's own tools (no baler linked in them)."""
import os
import shutil
import subprocess

import h5py
import numpy as np
import pytest

import baler
from conftest import max_error_over_range

# Without the plugin (built with -DBALER_HDF5_FILTER=OFF) there is nothing to test here.
pytestmark = pytest.mark.skipif(not os.environ.get("HDF5_PLUGIN_PATH"),
                                reason="HDF5 filter plugin not built")

needs_tools = pytest.mark.skipif(shutil.which("h5repack") is None or shutil.which("h5dump") is None,
                                 reason="hdf5-tools (h5repack, h5dump) not installed")


def filters_of(dset):
    plist = dset.id.get_create_plist()
    return [plist.get_filter(i)[0] for i in range(plist.get_nfilters())]


def test_plugin_is_found():
    assert h5py.h5z.filter_avail(baler.HDF5_FILTER_ID)


@pytest.mark.parametrize("effort", ["thorough", "fast"])
def test_h5py_table_and_field_round_trip(tmp_path, table, field, effort):
    path = tmp_path / "data.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("jets/table", data=table, chunks=(300, table.shape[1]),
                         **baler.hdf5_filter("range:1e-3", effort=effort))
        f.create_dataset("cfd/field", data=field, chunks=(3,) + field.shape[1:],
                         **baler.hdf5_filter("abs:1e-3", effort=effort))
    with h5py.File(path, "r") as f:
        t, fl = f["jets/table"], f["cfd/field"]
        assert filters_of(t) == [baler.HDF5_FILTER_ID] == filters_of(fl)
        table_back, field_back = t[...], fl[...]
        ratios = table.nbytes / t.id.get_storage_size(), field.nbytes / fl.id.get_storage_size()
        part = t[100:400, 1]  # a selection across two chunks
    print("h5py ratios vs uncompressed: table %.2f, field %.2f" % ratios)
    assert table_back.dtype == table.dtype and field_back.dtype == np.float32
    # "range" is each chunk's column range, never wider than the dataset's.
    assert max_error_over_range(table, table_back) <= 1e-3
    np.testing.assert_array_equal(table_back[:, 3], table[:, 3])
    assert np.abs(field_back.astype(np.float64) - field).max() <= 1e-3
    np.testing.assert_array_equal(part, table_back[100:400, 1])
    assert min(ratios) > 1


def test_h5py_float16_through_the_filter(tmp_path, field):
    # h5py stores numpy's float16 as an IEEE half, which the filter codes as float16.
    half = field.astype(np.float16)
    path = tmp_path / "half.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("field", data=half, chunks=(3,) + half.shape[1:], **baler.hdf5_filter("abs:1e-2"))
    with h5py.File(path, "r") as f:
        back = f["field"][...]
    assert back.dtype == np.float16
    assert np.abs(back.astype(np.float64) - half.astype(np.float64)).max() <= 1e-2


def test_h5py_partial_chunks_and_1d(tmp_path):
    a = np.linspace(0, 1, 1001)  # 1001 = 4 chunks of 250 + 1: the last chunk is padded
    with h5py.File(tmp_path / "x.h5", "w") as f:
        f.create_dataset("x", data=a, chunks=(250,), **baler.hdf5_filter("abs:1e-4"))
    with h5py.File(tmp_path / "x.h5", "r") as f:
        assert np.abs(f["x"][...] - a).max() <= 1e-4


def test_h5py_int64_nanosecond_times_come_back_bit_for_bit(tmp_path):
    # Past 2^53 float64 skips integers; each chunk holds its times less its smallest, exactly.
    # HDF5 pads a last, partial chunk with the fill value (0 unless set): 0 beside 1.6e18 spans
    # more than 2^53, so the fill value is one of the times.
    t = 1_600_000_000_000_000_001 + np.cumsum(np.arange(1000, dtype=np.int64) % 977 + 1000)
    with h5py.File(tmp_path / "t.h5", "w") as f:
        f.create_dataset("t", data=t, chunks=(250,), **baler.hdf5_filter("abs:10"))
        f.create_dataset("padded", data=t, chunks=(300,), fillvalue=t[0], **baler.hdf5_filter("abs:10"))
    with h5py.File(tmp_path / "t.h5", "r") as f:
        back, padded = f["t"][...], f["padded"][...]
    assert back.dtype == np.int64
    np.testing.assert_array_equal(back, t)
    np.testing.assert_array_equal(padded, t)


def test_h5py_field_layout_holds_for_tall_chunks(tmp_path):
    # 4000 x 8 would be a table by its shape alone (codec::is_field); layout "field" asks for one.
    a = np.outer(np.linspace(0, 1, 4000), np.arange(1, 9) ** 3)
    with h5py.File(tmp_path / "x.h5", "w") as f:
        f.create_dataset("x", data=a, chunks=a.shape, **baler.hdf5_filter("range:1e-3", layout="field"))
    with h5py.File(tmp_path / "x.h5", "r") as f:
        back = f["x"][...]
        stored = f["x"].id.read_direct_chunk((0, 0))[1]
    assert baler.info(stored)["header"]["error_bound"]["layout"] == "field"
    assert back.shape == a.shape and np.abs(back - a).max() <= 1e-3 * (a.max() - a.min())


def test_h5py_psnr_target_holds_over_chunks(tmp_path, field):
    # Every chunk meets it on its own range, so the dataset does.
    with h5py.File(tmp_path / "x.h5", "w") as f:
        f.create_dataset("x", data=field, chunks=(3,) + field.shape[1:], **baler.hdf5_filter("psnr:45"))
    with h5py.File(tmp_path / "x.h5", "r") as f:
        back = f["x"][...].astype(np.float64)
    a = field.astype(np.float64)
    assert 20 * np.log10((a.max() - a.min()) / np.sqrt(np.mean((back - a) ** 2))) >= 45


def test_h5py_refuses_missing_parameters(tmp_path):
    with h5py.File(tmp_path / "x.h5", "w") as f:
        with pytest.raises((ValueError, RuntimeError)):
            f.create_dataset("x", data=np.zeros((10, 2)), chunks=(5, 2),
                             compression=baler.HDF5_FILTER_ID)


@needs_tools
def test_h5dump_reads_through_the_plugin(tmp_path, field):
    path = tmp_path / "f.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("field", data=field, chunks=(2,) + field.shape[1:],
                         **baler.hdf5_filter("abs:1e-3"))
    raw = tmp_path / "field.bin"
    subprocess.run(["h5dump", "-d", "/field", "-b", "LE", "-o", str(raw), str(path)],
                   check=True, capture_output=True)
    back = np.fromfile(raw, dtype="<f4").reshape(field.shape)
    assert np.abs(back.astype(np.float64) - field).max() <= 1e-3


@needs_tools
def test_h5repack_applies_and_removes_the_filter(tmp_path, table):
    plain, packed, unpacked = (tmp_path / n for n in ("plain.h5", "packed.h5", "unpacked.h5"))
    with h5py.File(plain, "w") as f:
        f.create_dataset("t", data=table, chunks=(200, table.shape[1]))
    kind, low, high, layout = baler.hdf5_filter("range:1e-3")["compression_opts"]
    ud = "UD=%d,0,4,%d,%d,%d,%d" % (baler.HDF5_FILTER_ID, kind, low, high, layout)
    subprocess.run(["h5repack", "-f", ud, str(plain), str(packed)], check=True)
    subprocess.run(["h5repack", "-f", "NONE", str(packed), str(unpacked)], check=True)
    with h5py.File(packed, "r") as p, h5py.File(unpacked, "r") as u:
        assert filters_of(p["t"]) == [baler.HDF5_FILTER_ID] and filters_of(u["t"]) == []
        assert p["t"].id.get_storage_size() < table.nbytes
        assert max_error_over_range(table, p["t"][...]) <= 1e-3
        np.testing.assert_array_equal(u["t"][...], p["t"][...])


def test_nan_in_a_chunk_is_kept(tmp_path, field):
    f32 = field.copy()
    f32[1, 2, 3] = np.nan  # e.g. a fill value: stored exactly, never a failed write
    with h5py.File(tmp_path / "n.h5", "w") as f:
        f.create_dataset("x", data=f32, chunks=(3,) + f32.shape[1:], **baler.hdf5_filter("abs:1e-3"))
    with h5py.File(tmp_path / "n.h5", "r") as f:
        back = f["x"][...]
    assert np.isnan(back[1, 2, 3]) and np.nanmax(np.abs(back.astype(np.float64) - f32)) <= 1e-3
