"""The tiles of the kernels' own step products (engine/_gemm_tiles, _microkernels.h).

The kernels no longer call a BLAS for their products, so nothing here depends on
which BLAS is loaded: the tile is fixed by the kernel build alone.
"""
import pytest

from tsbptt._kernels import isa_usable
from tsbptt.engine import _gemm_tiles

#: rows, float32 columns, float64 columns of each build's micro-kernel.
TILES = {"avx512": (8, 32, 16), "avx2": (6, 16, 8), "baseline": (4, 4, 4)}


@pytest.mark.parametrize("isa", [pytest.param(isa, marks=pytest.mark.skipif(
    not isa_usable(isa), reason=f"no {isa} CPU or build")) for isa in TILES])
def test_step_tiles_are_the_builds_tiles(monkeypatch, isa):
    monkeypatch.setattr(_gemm_tiles, "kernel_isa", lambda: isa)
    rows, c32, c64 = TILES[isa]
    assert _gemm_tiles.step_tiles() == {"isa": isa, "rows": rows, "cols_float32": c32,
                                        "cols_float64": c64}
