"""show_config / get_config, the kernel dispatch and the thread helpers."""
import io

import numpy as np
import pytest

import tsbptt
import tsbptt._kernels
from tsbptt._kernels import ISAS, cell_kernels, choose_isa, kernel_isa
from tsbptt._kernels._cpu import has_avx2_fma, has_avx512
from tsbptt.engine import _threads


def test_get_config_reports_the_build():
    cfg = tsbptt.get_config()
    assert cfg["tsbptt"] == tsbptt.__version__
    assert isinstance(cfg["openmp_enabled"], bool)
    if not cfg["openmp_enabled"]:
        assert cfg["openmp_max_threads"] == 1
    assert cfg["openmp_max_threads"] >= 1
    assert cfg["kernel_isa"] in ("avx512", "avx2", "baseline")
    out = io.StringIO()
    tsbptt.show_config(file=out)
    text = out.getvalue()
    assert "OpenMP:" in text and "kernels built for:  " + cfg["kernel_isa"] in text
    assert "the kernels' own products do not use it" in text
    tiles = {"avx512": (8, 32, 16), "avx2": (6, 16, 8), "baseline": (4, 4, 4)}
    rows, c32, c64 = tiles[cfg["kernel_isa"]]
    assert cfg["step_tiles"] == {"isa": cfg["kernel_isa"], "rows": rows,
                                 "cols_float32": c32, "cols_float64": c64}
    assert (f"step products:      own micro-kernels, tiles of {rows} x {c32} float32, "
            f"{rows} x {c64} float64") in text


def test_kernel_dispatch(monkeypatch):
    def built(isa):
        try:
            cell_kernels("lstm", isa)
            return True
        except RuntimeError:  # a compiler without the flags builds no such module
            return False

    widest = next(isa for isa, cpu_runs in ISAS.items() if cpu_runs() and built(isa))
    for isa, cpu_runs in ISAS.items():
        if not cpu_runs():
            with pytest.raises(RuntimeError, match=f"the {isa} build of the kernels"):
                cell_kernels("lstm", isa)
    assert kernel_isa() == choose_isa() == widest
    assert has_avx512() <= has_avx2_fma()  # AVX-512 is asked for only beside AVX2
    monkeypatch.setenv("TSBPTT_DISABLE_AVX512", "1")
    assert choose_isa() == ("baseline" if widest == "baseline" else "avx2")
    assert kernel_isa() == widest           # decided once per process
    monkeypatch.setenv("TSBPTT_DISABLE_AVX512", "0")
    assert choose_isa() == widest
    monkeypatch.setenv("TSBPTT_DISABLE_AVX2", "1")   # the AVX-512 build needs AVX2 too
    assert choose_isa() == "baseline"
    monkeypatch.setattr(tsbptt._kernels, "_chosen", None)
    assert kernel_isa() == "baseline"
    assert cell_kernels("lstm").__name__ == "tsbptt._kernels._lstm"
    monkeypatch.delenv("TSBPTT_DISABLE_AVX2")
    assert cell_kernels("gru", isa="baseline").__name__ == "tsbptt._kernels._gru"
    assert cell_kernels("gru", isa="baseline") is cell_kernels("gru", isa="baseline")


def test_a_build_the_cpu_cannot_run_is_never_imported(monkeypatch):
    # GCC vectorises a module's initialisation code too: importing the AVX-512 build
    # on a CPU without AVX-512 could stop the interpreter with SIGILL
    imported = []
    monkeypatch.setattr(tsbptt._kernels, "import_module",
                        lambda name, package: imported.append(name))
    monkeypatch.setattr(tsbptt._kernels, "_usable", {})
    monkeypatch.setitem(ISAS, "avx512", lambda: False)
    monkeypatch.setitem(ISAS, "avx2", lambda: True)
    assert not tsbptt._kernels.isa_usable("avx512")
    assert tsbptt._kernels.isa_usable("avx2")
    assert imported == ["._lstm_avx2"]
    assert choose_isa() == "avx2"
    with pytest.raises(RuntimeError, match="the avx512 build of the kernels cannot run"):
        tsbptt._kernels.cell_kernels("gru", "avx512")
    assert imported == ["._lstm_avx2"]


def test_all_blas_hold_nests_and_restores_after_an_error():
    from threadpoolctl import threadpool_limits

    libs = _threads._every_blas()
    with threadpool_limits(2, user_api="blas"):
        before = [lib.num_threads for lib in libs]
        with pytest.raises(RuntimeError, match="inner"):
            with _threads.all_blas_single_threaded():
                with _threads.all_blas_single_threaded():
                    raise RuntimeError("inner")
        assert [lib.num_threads for lib in libs] == before
        with _threads.all_blas_single_threaded():
            with _threads.all_blas_single_threaded():
                pass
            # the outer hold still runs: one thread until it ends
            assert [lib.num_threads for lib in libs] == [1] * len(libs)
        assert [lib.num_threads for lib in libs] == before


def test_resolve_n_threads(monkeypatch):
    monkeypatch.setattr(_threads, "available_cores", lambda: 4)
    monkeypatch.setattr(_threads, "openmp_enabled", lambda: True)
    monkeypatch.setattr(_threads, "openmp_max_threads", lambda: 8)
    assert _threads.resolve_n_threads(None) == 4
    monkeypatch.setattr(_threads, "openmp_max_threads", lambda: 1)  # e.g. threadpoolctl
    assert _threads.resolve_n_threads(None) == 1
    assert _threads.resolve_n_threads(3) == 3
    assert _threads.resolve_n_threads(-1) == 4
    assert _threads.resolve_n_threads(-2) == 3
    assert _threads.resolve_n_threads(-10) == 1
    for bad in (0, 1.5, "2", True):
        with pytest.raises(ValueError, match="n_threads must be None or a non-zero integer"):
            _threads.resolve_n_threads(bad)
    monkeypatch.setattr(_threads, "openmp_enabled", lambda: False)
    assert _threads.resolve_n_threads(4) == 1


def test_chunk_rows_depends_on_the_batch_only(monkeypatch):
    # about two chunks per core (so a thread that runs can take a stalled one's)
    monkeypatch.setattr(_threads, "_MACHINE_CORES", 2)
    assert [_threads.chunk_rows(b) for b in (1, 10, 32, 64, 128, 1000)] == \
        [1, 10, 16, 16, 32, 64]


def test_call_threads_gives_one_thread_per_grain_of_work(monkeypatch):
    monkeypatch.setattr(_threads, "_MACHINE_CORES", 2)
    grain = _threads.GRAIN_MACS
    # (B, T, F + H + 1, gates, H) -> B * T * (F + H + 1) * gates * H multiply-adds
    assert _threads.call_threads(2, 32, 24, 34, 4, 32) == 1          # 3.3e6: small
    assert _threads.call_threads(8, 128, 100, 137, 4, 128) == 4      # 9e8, 4 chunks
    assert _threads.call_threads(2, 128, 100, 137, 4, 128) == 2      # capped by n_threads
    assert _threads.call_threads(1, 128, 100, 137, 4, 128) == 1
    # one thread per whole grain: just under two grains is one thread
    assert _threads.call_threads(8, 64, 1, 1, 1, 2 * grain // 64 - 1) == 1
    assert _threads.call_threads(8, 64, 1, 1, 1, 2 * grain // 64) == 2
    # at most one per chunk: 16 rows are one chunk whatever the work
    assert _threads.call_threads(8, 16, 10 ** 6, 100, 4, 100) == 1


def test_small_kernel_calls_run_on_one_thread(monkeypatch):
    from tsbptt.engine import RecurrentLayer, _cells

    seen = []

    class Spy:
        def __init__(self, module):
            self.module = module

        def __getattr__(self, name):
            def call(*args, **kwargs):
                # the kernels are called by keyword; n_threads is the last argument
                seen.append((name, kwargs["n_threads"] if kwargs else args[-1]))
                return getattr(self.module, name)(*args, **kwargs)
            return call

    real = _cells.cell_kernels
    monkeypatch.setattr(_cells, "cell_kernels", lambda cell: Spy(real(cell)))
    rng = np.random.default_rng(0)
    for cell in ("lstm", "gru", "rnn"):
        layer = RecurrentLayer(cell, 3, 8, random_state=0)
        X = rng.standard_normal((100, 5, 3))
        Y, state, cache = layer.forward(X, None, None, n_threads=2)
        layer.backward(cache, np.ones_like(Y), None, n_threads=2)
    assert seen == [(f"{c}_{d}", 1) for c in ("lstm", "gru", "rnn")
                    for d in ("forward", "backward")]
    # with a grain of one multiply-add, the same calls get the two threads
    monkeypatch.setattr(_threads, "GRAIN_MACS", 1)
    if _threads.resolve_n_threads(2) == 2:
        seen.clear()
        layer.forward(X, None, None, n_threads=2)
        assert seen == [("rnn_forward", 2)]


def test_n_threads_none_follows_threadpoolctl_limits_on_tsbptt_openmp():
    from threadpoolctl import threadpool_info, threadpool_limits

    from tsbptt._kernels._openmp_helpers import openmp_enabled
    if not openmp_enabled():
        pytest.skip("serial build")
    # threadpoolctl sees tsbptt's OpenMP runtime and can limit it, as joblib does
    assert any(i["user_api"] == "openmp" for i in threadpool_info())
    with threadpool_limits(limits=1, user_api="openmp"):
        assert _threads.resolve_n_threads(None) == 1


def _run_calls(chooser, seconds_on, calls):
    """Threads the chooser picks over ``calls`` calls of one shape when a call takes
    ``seconds_on[threads]`` on a fake clock."""
    now = [0.0]
    chooser.clock = lambda: now[0]
    picked = []
    for _ in range(calls):
        with chooser.plan(("lstm", "forward", 128), 2) as plan:
            now[0] += seconds_on[plan.n]
        picked.append(plan.n)
    return picked


def test_thread_chooser_keeps_the_faster_and_tries_the_other_now_and_then():
    every = _threads._ThreadChooser.EXPLORE_EVERY
    # idle machine: two threads faster; one thread tried once per EXPLORE_EVERY calls
    picked = _run_calls(_threads._ThreadChooser(), {1: 1.0, 2: 0.6}, 3 * every)
    assert picked[:2] == [1, 2]
    assert picked.count(1) == 1 + 3 and all(
        n == 1 for i, n in enumerate(picked, 1) if i > 2 and i % every == 0)
    # busy machine: two threads slower, so one thread; two tried now and then
    picked = _run_calls(_threads._ThreadChooser(), {1: 1.0, 2: 3.0}, 3 * every)
    assert picked[:2] == [1, 2] and picked.count(2) == 1 + 3
    # two threads only a little faster (within MARGIN): one thread
    picked = _run_calls(_threads._ThreadChooser(), {1: 1.0, 2: 0.95}, every - 1)
    assert picked[2:] == [1] * (every - 3)


def test_thread_chooser_follows_a_change_of_load():
    chooser = _threads._ThreadChooser()
    every = chooser.EXPLORE_EVERY
    assert _run_calls(chooser, {1: 1.0, 2: 0.5}, every)[-2] == 2
    # the machine gets busy: within a few exploration rounds, one thread
    assert _run_calls(chooser, {1: 1.0, 2: 4.0}, 3 * every)[-3:-1] == [1, 1]  # [-1]: a try


def test_only_the_default_thread_count_adapts(monkeypatch):
    monkeypatch.setattr(_threads, "openmp_enabled", lambda: True)
    monkeypatch.setattr(_threads, "available_cores", lambda: 2)
    monkeypatch.setattr(_threads, "openmp_max_threads", lambda: 2)
    auto = _threads.resolve_n_threads(None)
    assert isinstance(auto, _threads.AutoThreads) and auto == 2
    assert not isinstance(_threads.resolve_n_threads(2), _threads.AutoThreads)
    big = (128, 100, 137, 4, 128)
    assert isinstance(_threads.thread_plan(2, ("lstm",), *big), _threads._Fixed)
    assert isinstance(_threads.thread_plan(auto, ("lstm",), *big), _threads._Timed)
    # a call too small for two threads is not timed
    assert isinstance(_threads.thread_plan(auto, ("lstm",), 32, 24, 34, 4, 32),
                      _threads._Fixed)


def test_thread_chooser_counts_the_work_after_a_call():
    # on two threads the call itself is faster (0.5 s against 1 s), but the work
    # after it is slowed (threads left spinning) by 1.5 s: one thread is faster
    chooser = _threads._ThreadChooser()
    now = [0.0]
    chooser.clock = lambda: now[0]
    call, after = {1: 1.0, 2: 0.5}, {1: 0.5, 2: 2.0}
    picked = []
    for _ in range(chooser.EXPLORE_EVERY - 1):
        with chooser.plan(("k",), 2) as plan:
            now[0] += call[plan.n]
        now[0] += after[plan.n]
        picked.append(plan.n)
    assert picked[:2] == [1, 2] and picked[2:] == [1] * (len(picked) - 2)
    # a long pause after a call (between two fits) counts as MAX_PERIOD calls at most
    stats = chooser._stats[("k",)]
    with chooser.plan(("k",), 2) as plan:  # the EXPLORE_EVERY-th: two threads
        before = stats.seconds[plan.n]
        now[0] += 1.0
    now[0] += 1000.0
    chooser.plan(("k",), 2)
    a = chooser.SMOOTHING
    assert stats.seconds[plan.n] == pytest.approx(
        (1 - a) * before + a * chooser.MAX_PERIOD * 1.0)
