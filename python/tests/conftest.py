import os

import numpy as np
import pytest

# One OpenBLAS thread: ctest runs suites side by side on small machines.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


@pytest.fixture
def table():
    """A small HEP-like table: smooth float columns, an integer charge, a float32 column."""
    rng = np.random.default_rng(1)
    n = 600
    px, py = rng.normal(0, 20, n), rng.normal(0, 20, n)
    return np.stack([px, py, np.hypot(px, py), rng.choice([-1.0, 1.0], n)], axis=1)


@pytest.fixture
def field():
    """A 3-D float32 field: 6 frames of 20 x 24."""
    t, y, x = np.meshgrid(np.arange(6), np.arange(20), np.arange(24), indexing="ij")
    return (np.sin(0.3 * x + 0.2 * t) * np.cos(0.25 * y)).astype(np.float32)


def max_error_over_range(a, b):
    """Largest |a - b| per column (last axis) over the column's range."""
    a2, b2 = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
    span = a2.max(axis=0) - a2.min(axis=0)
    return float((np.abs(a2 - b2).max(axis=0) / np.where(span > 0, span, 1)).max())
