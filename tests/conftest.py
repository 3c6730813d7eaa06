"""Shared test set-up: point the loader at the project's MNIST copy and never download."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "datasets"

os.environ.setdefault("NEUROCODE_DOWNLOAD", "0")
if "NEUROCODE_DATA" not in os.environ and SHARED_DATA.is_dir():
    os.environ["NEUROCODE_DATA"] = str(SHARED_DATA)


def mnist_available() -> bool:
    root = Path(os.environ.get("NEUROCODE_DATA", SHARED_DATA))
    return any((d / "t10k-labels-idx1-ubyte.gz").exists() or (d / "t10k-labels-idx1-ubyte").exists()
               for d in (root, root / "mnist"))


needs_mnist = pytest.mark.skipif(not mnist_available(), reason="MNIST IDX files not found: set NEUROCODE_DATA")


@pytest.fixture(scope="module")
def one_blas_thread():
    """For modules of many small matrix products (``pytestmark = usefixtures(...)``): on a
    shared, oversubscribed machine BLAS threads spin against each other and run ~10x slower
    than one thread (numbers unchanged)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
