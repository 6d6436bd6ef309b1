"""Which BLAS gets its step products cut into small-matrix tiles (engine/_gemm_tiles)."""
import pytest

from tsbptt.engine import _gemm_tiles


class FakeLib:
    def __init__(self, **info):
        self._info = info

    def info(self):
        return self._info


@pytest.fixture
def fresh(monkeypatch):
    """Forget the once-per-process decision and give the module a fake BLAS list."""
    monkeypatch.setattr(_gemm_tiles, "_small_mnk", None)
    monkeypatch.delenv("TSBPTT_DISABLE_GEMM_TILES", raising=False)

    def use(*libs):
        monkeypatch.setattr(_gemm_tiles, "_kernel_blas", lambda: list(libs))
    return use


SKX = dict(internal_api="openblas", architecture="SkylakeX", version="0.3.30")


@pytest.mark.parametrize("info, expected", [
    (SKX, 100 ** 3),
    (dict(SKX, architecture="Cooperlake"), 100 ** 3),
    (dict(SKX, architecture="SAPPHIRERAPIDS"), 100 ** 3),
    (dict(SKX, architecture="Haswell"), 0),       # no small-matrix kernels
    (dict(SKX, architecture="Zen"), 0),
    (dict(SKX, architecture=None), 0),
    (dict(SKX, version="0.3.16"), 0),             # before the path existed
    (dict(SKX, version="unknown"), 0),
    (dict(SKX, internal_api="mkl"), 0),
    (dict(internal_api="blis", architecture="skx", version="1.0"), 0),
])
def test_tiles_only_for_openblas_with_a_small_matrix_path(fresh, info, expected):
    fresh(FakeLib(**info))
    assert _gemm_tiles.small_gemm_mnk() == expected


def test_only_the_first_library_counts(fresh):
    fresh(FakeLib(**dict(SKX, architecture="Haswell")), FakeLib(**SKX))
    assert _gemm_tiles.small_gemm_mnk() == 0


def test_no_blas_found_means_no_tiles(fresh):
    fresh()
    assert _gemm_tiles.small_gemm_mnk() == 0


@pytest.mark.parametrize("value, expected", [("1", 0), ("yes", 0), ("0", 100 ** 3),
                                             ("", 100 ** 3)])
def test_environment_variable_turns_tiles_off(fresh, monkeypatch, value, expected):
    fresh(FakeLib(**SKX))
    monkeypatch.setenv("TSBPTT_DISABLE_GEMM_TILES", value)
    assert _gemm_tiles.small_gemm_mnk() == expected


def test_decided_once_per_process(fresh, monkeypatch):
    fresh(FakeLib(**SKX))
    assert _gemm_tiles.small_gemm_mnk() == 100 ** 3
    # a later change of library or environment does not change a running process
    fresh(FakeLib(**dict(SKX, architecture="Haswell")))
    monkeypatch.setattr(_gemm_tiles, "_kernel_blas", lambda: [])
    monkeypatch.setenv("TSBPTT_DISABLE_GEMM_TILES", "1")
    assert _gemm_tiles.small_gemm_mnk() == 100 ** 3


@pytest.mark.parametrize("mnk, largest_k, expected", [
    (0, 1, False),                      # no small-matrix path: the limit stays
    (100 ** 3, 1, True),
    (100 ** 3, 7812, True),             # 8 x 16 x 7812 <= 100**3: still tiled
    (100 ** 3, 7813, False),            # gemm_step would fall back to whole panels
])
def test_products_stay_small(monkeypatch, mnk, largest_k, expected):
    monkeypatch.setattr(_gemm_tiles, "small_gemm_mnk", lambda: mnk)
    assert _gemm_tiles.products_stay_small(largest_k) is expected


@pytest.mark.parametrize("small", [False, True])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_blas_limit_is_skipped_only_for_one_thread_on_the_small_path(
        monkeypatch, small, n_threads):
    from tsbptt.engine import _cells

    seen = []
    monkeypatch.setattr(_cells, "products_stay_small",
                        lambda k: seen.append(k) or small)
    limit = _cells._blas_limit(n_threads, 3, 5, 4)
    skipped = limit is _cells._NO_LIMIT
    assert skipped == (small and n_threads == 1)
    if not skipped:
        assert limit is _cells.single_threaded_blas()
    if n_threads == 1:
        assert seen == [20]             # max(F + H + 1, G) = max(9, 20)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_one_thread_results_do_not_depend_on_the_blas_threads(cell, dtype):
    # Products of m * n * k in the millions, which OpenBLAS's general path would
    # share among its threads: with or without a BLAS limit the bits are the same.
    import numpy as np
    from threadpoolctl import threadpool_limits

    from tsbptt.engine import RecurrentLayer

    B, T, F, H = 40, 18, 5, 96
    layer = RecurrentLayer(cell, F, H, dtype=dtype, random_state=0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((B, T, F)).astype(dtype)
    dY = rng.standard_normal((B, T, H)).astype(dtype)
    runs = []
    for blas_threads in (1, 2, 4):
        with threadpool_limits(blas_threads, user_api="blas"):
            Y, state, cache = layer.forward(X, n_threads=1)
            dX, d0, grads = layer.backward(cache, dY, n_threads=1)
        runs.append([Y, *state, dX, *d0, *grads.values()])
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            np.testing.assert_array_equal(a, b)
