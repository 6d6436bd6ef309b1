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
