"""show_config / get_config, the kernel dispatch and the thread helpers."""
import io

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
    assert any(lib["used_by_kernels"] for lib in cfg["blas"])
    out = io.StringIO()
    tsbptt.show_config(file=out)
    text = out.getvalue()
    assert "OpenMP:" in text and "kernels built for:  " + cfg["kernel_isa"] in text
    assert "<- used by the kernels" in text
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


def test_single_threaded_blas_nests_and_restores_after_an_error():
    from threadpoolctl import threadpool_limits

    libs = _threads._kernel_blas()
    with threadpool_limits(2, user_api="blas"):
        before = [lib.num_threads for lib in libs]
        with pytest.raises(RuntimeError, match="inner"):
            with _threads.single_threaded_blas():
                with _threads.single_threaded_blas():
                    raise RuntimeError("inner")
        assert [lib.num_threads for lib in libs] == before
        with _threads.single_threaded_blas():
            with _threads.single_threaded_blas():
                pass
            # the outer call still runs: one thread until it ends
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
    monkeypatch.setattr(_threads, "_MACHINE_CORES", 2)
    assert [_threads.chunk_rows(b) for b in (1, 10, 32, 64, 128, 1000)] == \
        [1, 10, 16, 32, 64, 64]


def test_single_threaded_blas_holds_the_kernels_blas_to_one_thread():
    from threadpoolctl import threadpool_limits

    libs = _threads._kernel_blas()
    assert libs and all("blas" in lib.filepath.lower() for lib in libs)
    with threadpool_limits(2, user_api="blas"):
        before = [lib.num_threads for lib in libs]
        with _threads.single_threaded_blas():
            assert [lib.num_threads for lib in libs] == [1] * len(libs)
        assert [lib.num_threads for lib in libs] == before


def test_n_threads_none_follows_threadpoolctl_limits_on_tsbptt_openmp():
    from threadpoolctl import threadpool_info, threadpool_limits

    from tsbptt._kernels._openmp_helpers import openmp_enabled
    if not openmp_enabled():
        pytest.skip("serial build")
    # threadpoolctl sees tsbptt's OpenMP runtime and can limit it, as joblib does
    assert any(i["user_api"] == "openmp" for i in threadpool_info())
    with threadpool_limits(limits=1, user_api="openmp"):
        assert _threads.resolve_n_threads(None) == 1
