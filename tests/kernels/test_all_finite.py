"""The compiled finiteness check (``_finite.pxi``) that the layers run on every input.

Each build this CPU runs is compared with ``np.isfinite(a).all()``: a NaN or an
infinity of either sign at every position of arrays whose lengths fall on and around
the loop's 16-element blocks, and the finite values nearest to the edge (the largest,
the smallest subnormal, -0).
"""
import numpy as np
import pytest

from tsbptt._kernels import all_finite, cell_kernels, isa_usable

ISAS = [pytest.param(isa, marks=pytest.mark.skipif(
    not isa_usable(isa), reason=f"no {isa} CPU or build"))
    for isa in ("baseline", "avx2", "avx512")]
LENGTHS = (1, 2, 15, 16, 17, 31, 32, 33, 100)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_non_finite_value_is_found_at_every_position(isa, dtype):
    check = cell_kernels("lstm", isa).all_finite
    uint = np.uint32 if dtype == np.float32 else np.uint64
    info = np.finfo(dtype)
    edge = np.array([info.max, -info.max, info.smallest_subnormal, -0.0, info.tiny], dtype)
    rng = np.random.default_rng(0)
    for n in LENGTHS:
        a = rng.standard_normal(n).astype(dtype)
        a[:min(n, edge.size)] = edge[:n]
        assert check(a) is True
        for bad in (np.nan, np.inf, -np.inf):
            for i in range(n):
                b = a.copy()
                b[i] = bad
                assert check(b) is False, (n, i, bad)
    # NaNs with other payloads and signs: any all-ones exponent is not finite
    for bits in (0x7F800001, 0xFFC00000, 0x7FFFFFFF) if dtype == np.float32 else \
            (0x7FF0000000000001, 0xFFF8000000000000, 0x7FFFFFFFFFFFFFFF):
        b = np.ones(17, dtype)
        b.view(uint)[9] = bits
        assert check(b) is False
    assert check(np.empty(0, dtype)) is True


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_public_check_takes_any_shape_and_layout(dtype):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 5, 6)).astype(dtype)
    flat = a.reshape(-1)
    views = (a, a[:, ::2], a.transpose(2, 0, 1), a[..., :0], flat[::2], flat[::-1],
             np.broadcast_to(flat[:6], (3, 6)), a[:, :, :1], a[0, 0, 0])
    for v in views:
        assert all_finite(v) is bool(np.isfinite(v).all())
        w = np.array(v)
        if w.size:
            w[(0,) * w.ndim] = np.nan
            assert all_finite(w) is False
    # a strided view with a NaN only in the elements it skips is finite
    b = a.copy()
    b[:, 1] = np.nan
    assert all_finite(b[:, ::2]) is True


@pytest.mark.parametrize("dtype", [np.int64, np.float16, np.complex64, ">f4", ">f8"])
def test_other_dtypes_are_refused(dtype):
    with pytest.raises(TypeError, match=r"float32 or float64 array, got dtype"):
        all_finite(np.ones(3, dtype))
