"""The gate activations of each instruction-set build (tsbptt/_kernels/_activations.pxd).

float32 tanh is the kernels' own rational approximation (tsb_tanhf in _simd_math.h);
the float32 sigmoid and both float64 activations come from glibc's exp and tanh.
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
#: Largest error of tsb_tanhf over every float, measured by an exhaustive sweep
#: (_simd_math.h): 4.84 ulp with fused multiply-adds, 6.21 without (portable build).
TANH_F32_ULP = {"baseline": 6.25, "avx2": 4.85, "avx512": 4.85}


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
    assert err.max() <= TANH_F32_ULP[isa], (err.max(), x[err.argmax()])
    # Most values are exact or next to it: a bound reached only in places.
    assert np.mean(err <= 1.0) > 0.95
    assert np.all(t <= 1.0) and np.all(t >= 0.0)


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
    # A gate loop runs 8 or 16 values a vector and its tail one by one; glibc's
    # vector and scalar exp and tanh may differ in the last bit (the split depends on
    # H alone, so a sample's outputs still do not depend on the batch), the kernels'
    # own float32 tanh may not.
    rng = np.random.default_rng(0)
    x = (4 * rng.standard_normal(53)).astype(np.float32)
    alone = np.concatenate([activations(isa, x[i:i + 1])[1] for i in range(x.size)])
    for start in range(0, 9):
        for stop in (x.size, x.size - 5):
            _, tanh = activations(isa, x[start:stop].copy())
            np.testing.assert_array_equal(tanh, alone[start:stop])


@pytest.mark.parametrize("isa", ISAS)
def test_glibc_activations_against_numpy(isa):
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
    with pytest.raises(ValueError, match=r"must have x's length 4, got 3 and 4"):
        mod.activation_values(x, np.empty(3, np.float32), np.empty(4, np.float32))
