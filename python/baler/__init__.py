"""baler: machine-learning based, error-bounded lossy compression of scientific arrays.

    import numpy as np, baler
    blob = baler.compress(np.random.rand(1000, 4), error_bound="range:1e-3")
    back = baler.decompress(blob)          # same dtype and shape, every value within the bound

Errors are baler.BalerError (a ValueError) with the library's message.
"""
import json as _json
import struct as _struct

import numpy as _np

from ._baler import BalerError
from . import _baler

__all__ = ["compress", "decompress", "train", "info", "hdf5_filter", "BalerError",
           "HDF5_FILTER_ID", "Baler"]

#: The HDF5 filter's id, from the range HDF5 leaves for testing (256-511): files written with
#: it are for your own use until baler has an id registered with The HDF Group.
HDF5_FILTER_ID = 305


def _array(a):
    """The array as the library takes it: C order. A C-contiguous array goes through as it is
    (the library then copies it once into its own buffer); any other layout (Fortran order, as
    np.load gives Baler's own .npz files, or a strided view) is gathered first, one copy more.
    A dict of 1-D arrays (name: column, as uproot's library="np" gives) is a table of them."""
    if isinstance(a, dict):
        return {name: _array(column) for name, column in a.items()}
    if not isinstance(a, _np.ndarray):
        raise BalerError("baler: expected a numpy.ndarray or a dict of them, got %s" % type(a).__name__)
    return a if a.flags.c_contiguous else a.copy(order="C")


def _options(options):
    return _json.dumps(options) if options else ""


def compress(array, error_bound="range:1e-3", names=None, model=None, **options):
    """Compresses `array` into the bytes of a self-contained .baler file.

    error_bound: "KIND:VALUE" for every column (abs, range, rel or psnr), optionally followed by
    per-column bounds ("range:1e-3,pt=rel:1e-3"); None for the plain autoencoder codec, whose
    error is not bounded. names: column names of a 2-D table (without them a 2-D array is a
    field, unless it is 16 or more times taller than wide or its values say it is a table). model: bytes from train() to reuse a model instead of training one. options: the
    keys of `baler --config` (epochs, latent, seed, ...).
    """
    array = _array(array)
    bound = error_bound or ""
    if model is None and bound:
        return _baler.compress_bounded(array, bound, names, _options(options))
    return _baler.compress_with_model(array, model, bound, names, _options(options))


def train(array, names=None, **options):
    """Trains a model on `array` and returns the bytes of its model file, for compress(model=...)."""
    return _baler.train(_array(array), names, _options(options))


def decompress(data, model=None):
    """Restores the array (dtype and shape) of bytes from compress(), as it was given: a
    structured array as one, a dict of columns as a dict; `model` is needed only for files
    compressed with the option embed_decoder=False."""
    return _baler.decompress(bytes(data), model)


def info(data):
    """What a .baler file holds: header, sections, sizes and the whole-file ratio, as a dict."""
    return _baler.info(bytes(data))


def hdf5_filter(error_bound="range:1e-3", layout="table", effort="thorough"):
    """Keyword arguments for h5py's create_dataset that compress chunks with baler:

        f.create_dataset("x", data=a, chunks=True, **baler.hdf5_filter("range:1e-3"))

    layout "table": a 1-D or 2-D chunk is rows x columns, each column bounded on its own range;
    "field": the chunk is one grid. Chunks of 3 or more dimensions are always fields. effort
    "thorough" (every predictor, the smallest chunks) or "fast" (as compress's effort="fast").
    Reading needs the plugin on HDF5_PLUGIN_PATH (see the README).
    """
    if layout not in ("table", "field"):
        raise BalerError("baler.hdf5_filter(): layout must be 'table' or 'field', not %r" % (layout,))
    if effort not in ("thorough", "fast"):
        raise BalerError("baler.hdf5_filter(): effort must be 'thorough' or 'fast', not %r" % (effort,))
    kind, value = _baler.parse_bound(error_bound)
    low, high = _struct.unpack("<II", _struct.pack("<d", value))
    # The fourth parameter: the layout, plus 2 for fast effort (H5Zbaler.h)
    return {"compression": HDF5_FILTER_ID,
            "compression_opts": (kind, low, high, (0 if layout == "table" else 1) + (2 if effort == "fast" else 0))}


try:
    from numcodecs.abc import Codec as _Codec
    from numcodecs.compat import ndarray_copy as _ndarray_copy
    from numcodecs.registry import register_codec as _register_codec
except ImportError:  # numcodecs is optional
    _Codec = None

if _Codec is not None:
    class Baler(_Codec):
        """numcodecs codec: zarr.open(..., compressor=baler.Baler("range:1e-3")); effort as
        compress's ("thorough" or "fast")."""
        codec_id = "baler"

        def __init__(self, error_bound="range:1e-3", effort="thorough"):
            _baler.parse_bound(error_bound)  # fails here, not at the first chunk
            if effort not in ("thorough", "fast"):
                raise BalerError("baler.Baler(): effort must be 'thorough' or 'fast', not %r" % (effort,))
            self.error_bound = error_bound
            self.effort = effort

        def encode(self, buf):
            return compress(_np.ascontiguousarray(buf), self.error_bound, effort=self.effort)

        def decode(self, buf, out=None):
            return _ndarray_copy(decompress(bytes(buf)), out)

    _register_codec(Baler)
