import numcodecs
import numpy as np
import pytest
import zarr

import baler


def test_zarr_round_trip_with_the_baler_codec(tmp_path, field):
    z = zarr.open(str(tmp_path / "f.zarr"), mode="w", shape=field.shape, chunks=(2,) + field.shape[1:],
                  dtype=field.dtype, compressor=baler.Baler("abs:1e-3"))
    z[...] = field
    again = zarr.open(str(tmp_path / "f.zarr"), mode="r")  # the codec comes back from .zarray
    assert isinstance(again.compressor, baler.Baler) and again.compressor.error_bound == "abs:1e-3"
    back = again[...]
    assert back.dtype == np.float32 and np.abs(back.astype(np.float64) - field).max() <= 1e-3


def test_codec_is_registered_and_checks_its_bound():
    codec = numcodecs.get_codec({"id": "baler", "error_bound": "rel:1e-2"})
    assert isinstance(codec, baler.Baler) and codec.effort == "thorough"  # a store from before effort
    with pytest.raises(ValueError):
        baler.Baler("bogus:1")
    with pytest.raises(ValueError, match="effort"):
        baler.Baler("abs:1", effort="quick")


def test_fast_effort_codec_keeps_its_bound_and_its_config(tmp_path, field):
    codec = baler.Baler("abs:1e-3", effort="fast")
    assert codec.get_config() == {"id": "baler", "error_bound": "abs:1e-3", "effort": "fast"}
    z = zarr.open(str(tmp_path / "f.zarr"), mode="w", shape=field.shape, chunks=(2,) + field.shape[1:],
                  dtype=field.dtype, compressor=codec)
    z[...] = field
    again = zarr.open(str(tmp_path / "f.zarr"), mode="r")
    assert again.compressor.effort == "fast"
    assert np.abs(again[...].astype(np.float64) - field).max() <= 1e-3
