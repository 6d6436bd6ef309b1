"""Shared fixtures: the dtype under test, its tolerances, a seeded generator, a
Dask client; the ``slow`` tier (tests marked ``@pytest.mark.slow`` run only with ``--slow``)."""

import numpy as np
import pytest


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", default=False,
                     help="also run the tests marked slow (the whole suite, as .ci/run)")


def pytest_collection_modifyitems(config, items):
    """Leave the slow tests out unless --slow (or a -m expression that names them)."""
    if config.getoption("--slow") or "slow" in (config.getoption("-m") or ""):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


# Per-dtype tolerances for comparing two computations of the same quantity
# (e.g. a compiled kernel against tsbptt._kernels.reference) in that dtype.
TOLERANCES = {
    np.dtype(np.float32): dict(rtol=1e-5, atol=1e-6),
    np.dtype(np.float64): dict(rtol=1e-12, atol=1e-14),
}


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def dtype(request):
    """The floating dtype under test, as a np.dtype."""
    return np.dtype(request.param)


@pytest.fixture
def tol(dtype):
    """``assert_allclose`` keyword arguments (rtol, atol) for ``dtype``."""
    return TOLERANCES[dtype]


@pytest.fixture
def threads_for_any_work(monkeypatch):
    """Kernel calls use every thread they are given, however little their work.

    By default a call gets one thread per grain of work (``_threads.GRAIN_MACS``),
    so the small calls of a test would all run on one thread; tests that compare
    thread counts use this fixture so that they really run several."""
    from tsbptt.engine import _threads
    monkeypatch.setattr(_threads, "GRAIN_MACS", 1)


@pytest.fixture(scope="module")
def client():
    """A Dask client of a two-process LocalCluster (one thread each), one per test
    module; the test is skipped where ``distributed`` is not installed."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        c.wait_for_workers(2)  # both registered before a test counts them
        yield c


@pytest.fixture
def rng():
    """A freshly seeded generator, so each test sees fixed random data."""
    return np.random.default_rng(12345)
