"""The cores a job may use inside a Dask worker."""
from types import SimpleNamespace

import pytest

from tsbptt.engine import _workers
from tsbptt.engine._workers import worker_cores, worker_thread_limits


def _fake_worker(monkeypatch, nthreads, executing, resources=None):
    distributed = pytest.importorskip("distributed")
    state = SimpleNamespace(nthreads=nthreads, executing=set(range(executing)),
                            total_resources=resources or {})
    monkeypatch.setattr(distributed, "get_worker", lambda: SimpleNamespace(state=state))


def test_outside_a_worker_there_is_no_limit():
    pytest.importorskip("distributed")
    assert worker_cores() is None
    with worker_thread_limits() as limits:
        assert limits._limits is None


@pytest.mark.parametrize("nthreads, executing, resources, cores", [
    (4, 1, None, 4),            # one task running: all the worker's threads
    (4, 2, None, 2),            # two tasks share them
    (4, 3, None, 1),            # never more threads than the worker has
    (1, 0, None, 1),            # an actor's call is not counted as executing
    (4, 4, {"cores": 3}, 3),    # a declared resource wins
])
def test_worker_cores(monkeypatch, nthreads, executing, resources, cores):
    _fake_worker(monkeypatch, nthreads, executing, resources)
    assert worker_cores() == cores


def test_limits_apply_to_openmp_inside_and_are_restored(monkeypatch):
    from tsbptt._kernels._openmp_helpers import openmp_enabled, openmp_max_threads

    if not openmp_enabled():
        pytest.skip("a serial build has no OpenMP threads to limit")
    before = openmp_max_threads()
    _fake_worker(monkeypatch, 1, 1)
    with worker_thread_limits():
        assert openmp_max_threads() == 1
    assert openmp_max_threads() == before
    assert _workers.worker_thread_limits._controller is not None  # found once, kept
