"""Shared test set-up: point the loader at the project's MNIST copy and never download."""

import os
from contextlib import contextmanager
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


@contextmanager
def rules_registered(*classes):
    """Register rule ``classes`` in neurocode's registry for a block, then restore it: a rule
    registered before keeps its entry, one added here is removed."""
    from neurocode import rules
    from neurocode.rules import registry

    rules.available_rules()  # discover the installed rules first, or one removed here is lost
    saved = {c.name: registry._REGISTRY.get(c.name) for c in classes}
    for c in classes:
        rules.register(c)
    try:
        yield
    finally:
        for name, cls in saved.items():
            if cls is None:
                registry._REGISTRY.pop(name, None)
            else:
                registry._REGISTRY[name] = cls


def registered_fixture(*classes, autouse: bool = False):
    """A fixture that keeps ``classes`` registered while a test runs (``registered =
    registered_fixture(MyRule)`` in a test module; ``autouse=True`` for every test of it)."""

    @pytest.fixture(autouse=autouse)
    def registered():
        with rules_registered(*classes):
            yield

    return registered


def pytest_collection_modifyitems(config, items):
    """Markers for the test tiers: ``mnist`` on every test that needs the MNIST files (those
    marked with :data:`needs_mnist`), ``brian2`` on those that run the Brian2 engine (they
    live in a module that sets ``USES_BRIAN2 = True``).
    ``slow`` is set by hand on tests of more than about a second (``make test-fast`` leaves
    them out)."""
    for item in items:
        if any(m.name == "skipif" and "MNIST" in str(m.kwargs.get("reason", ""))
               for m in item.iter_markers()):
            item.add_marker(pytest.mark.mnist)
        module = getattr(item, "module", None)
        if getattr(module, "USES_BRIAN2", False):
            item.add_marker(pytest.mark.brian2)
