"""The gate activations of each instruction-set build (tsbptt/_kernels/_activations.pxd).

float32 tanh is the kernels' own rational approximation (tsb_tanhf in _simd_math.h);
the float32 sigmoid and both float64 activations come from the C library's exp
and tanh (glibc's libmvec where the loops are vectorised).
Each is checked against NumPy in float64, in units in the last place (ulp) of the
float32 result, on a sample of every exponent; then the special values, the symmetry,
and that a float32 tanh's bits do not depend on where the value sits in a row
(vector body or scalar tail of the gate loop).
"""
import numpy as np
import pytest

from tsbptt._kernels import cell_kernels, isa_usable

ISAS = [pytest.param(isa, marks=pytest.mark.skipif(
    not isa_usable(isa), reason=f"no {isa} CPU or build"))
    for isa in ("baseline", "avx2", "avx512")]
#: Largest error of tsb_tanhf over every float, in ulp, measured by an exhaustive sweep
#: (_simd_math.h; benchmarks/bench_tanhf.c): with fused multiply-adds (the AVX2 and
#: AVX-512 builds) 4.8371 at 4.10832834, without (the portable build) 6.2072 at
#: 5.29359913. Both points lie in [4, 8), which a test sweeps whole.
TANH_F32_ULP = {"baseline": 6.2072, "avx2": 4.8371, "avx512": 4.8371}


def activations(isa, x):
    """(sigmoid(x), tanh(x)) from `isa`'s build, in x's dtype."""
    sig, tanh = np.empty_like(x), np.empty_like(x)
    cell_kernels("lstm", isa).activation_values(x, sig, tanh)
    return sig, tanh


def float32_sample(stop=12.0, step=997):
    """Every `step`-th positive float32 below `stop` (denormals to 12: all exponents)."""
    bits = np.arange(1, np.float32(stop).view(np.uint32), step, dtype=np.uint32)
    return bits.view(np.float32)


def ulp_errors(got, want):
    """|got - want| in ulp of want rounded to float32 (the smallest denormal at 0)."""
    ulp = np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
    return np.abs(got.astype(np.float64) - want) / ulp


@pytest.mark.parametrize("isa", ISAS)
def test_tanh_float32_within_its_bound_on_every_exponent(isa):
    x = float32_sample()
    _, t = activations(isa, x)
    err = ulp_errors(t, np.tanh(x.astype(np.float64)))
    assert err.max() <= TANH_F32_ULP[isa] + 1e-3, (err.max(), x[err.argmax()])
    # Most values are exact or next to it: a bound reached only in places.
    assert np.mean(err <= 1.0) > 0.95
    assert np.all(t <= 1.0) and np.all(t >= 0.0)


@pytest.mark.parametrize("isa", ISAS)
def test_tanh_float32_largest_error_is_the_swept_one(isa):
    # Every float in [4, 8) (2^23 of them): the largest error must be the one the
    # exhaustive sweep found for this build, so a build whose multiply-adds are
    # fused where they should not be, or not fused where they should, fails here.
    lo, hi = np.float32(4.0).view(np.uint32), np.float32(8.0).view(np.uint32)
    x = np.arange(lo, hi, dtype=np.uint32).view(np.float32)
    _, t = activations(isa, x)
    err = ulp_errors(t, np.tanh(x.astype(np.float64)))
    assert err.max() == pytest.approx(TANH_F32_ULP[isa], abs=1e-3), x[err.argmax()]


@pytest.mark.parametrize("isa", ISAS)
def test_tanh_float32_special_values_and_symmetry(isa):
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, -1e-40, 9.0, 9.5, 100.0,
                  -100.0, np.finfo(np.float32).max, -np.finfo(np.float32).max],
                 dtype=np.float32)
    _, t = activations(isa, x)
    assert np.isnan(t[0])
    np.testing.assert_array_equal(t[1:3], [1.0, -1.0])
    assert t[3] == 0.0 and not np.signbit(t[3])
    assert t[4] == 0.0 and np.signbit(t[4])
    assert t[5] == pytest.approx(1e-40, rel=1e-4) and t[6] == -t[5]
    assert 1.0 - 2 ** -24 <= t[7] <= 1.0 and 1.0 - 2 ** -24 <= t[8] <= 1.0
    np.testing.assert_array_equal(t[9:], [1.0, -1.0, 1.0, -1.0])
    y = float32_sample(step=7919)
    _, t_pos = activations(isa, y)
    _, t_neg = activations(isa, -y)
    np.testing.assert_array_equal(t_neg.view(np.uint32), (-t_pos).view(np.uint32))


@pytest.mark.parametrize("isa", ISAS)
def test_tanh_float32_bits_do_not_depend_on_the_position_in_the_row(isa):
    # The AVX builds' gate loops run 8 or 16 values a vector, then a narrower vector
    # and scalars for the tail; glibc's vector and scalar exp and tanh may differ in
    # the last bit (the split depends on H alone, so a sample's outputs still do not
    # depend on the batch), the kernels' own float32 tanh may not. (On x86 the
    # portable build is compiled at -O2 and runs this loop in scalars: there it
    # compares scalars with scalars.)
    rng = np.random.default_rng(0)
    x = (4 * rng.standard_normal(53)).astype(np.float32)
    alone = np.concatenate([activations(isa, x[i:i + 1])[1] for i in range(x.size)])
    for start in range(0, 9):
        for stop in (x.size, x.size - 5):
            _, tanh = activations(isa, x[start:stop].copy())
            np.testing.assert_array_equal(tanh, alone[start:stop])


@pytest.mark.parametrize("isa", ISAS)
def test_libm_activations_against_numpy(isa):
    x32 = np.concatenate([float32_sample(stop=80.0, step=104729),
                          -float32_sample(stop=80.0, step=104729)])
    sig32, _ = activations(isa, x32)
    want = 1.0 / (1.0 + np.exp(-x32.astype(np.float64)))
    assert ulp_errors(sig32, want).max() <= 3.0
    x64 = np.linspace(-30, 30, 20001)
    sig64, tanh64 = activations(isa, x64)
    np.testing.assert_allclose(sig64, 1.0 / (1.0 + np.exp(-x64)), rtol=1e-14, atol=0)
    np.testing.assert_allclose(tanh64, np.tanh(x64), rtol=1e-14, atol=0)


def test_length_mismatch_is_an_error():
    mod = cell_kernels("lstm", "baseline")
    x = np.zeros(4, dtype=np.float32)
    with pytest.raises(ValueError, match=r"sig_out and tanh_out must have x's length 4, "
                                         r"got 3 and 4"):
        mod.activation_values(x, np.empty(3, np.float32), np.empty(4, np.float32))
