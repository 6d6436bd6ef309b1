"""The shared validation helpers of every layer."""
import numpy as np

from tsbptt.utils._validation import INPUT_NOISE_FLOOR, below_floor, mean_std, scale_or_unit


def test_scale_or_unit_keeps_any_unit_that_varies_and_unit_scales_constants():
    rng = np.random.default_rng(0)
    v = rng.standard_normal(500)
    for unit, level in ((1.0, 0.0), (1e-13, 0.0), (1e-100, 0.0), (1.0, 1e12), (210, 1e15)):
        mean, std = mean_std(v * unit + level)
        assert scale_or_unit(mean, std, 500)[0] == std  # varies: its own spread
    # a constant's spread is the rounding of its mean: left unscaled (1)
    for level in (0.1, 3.7, 1e15, -2e-200, 0.0):
        values = np.full(1000, level)
        values[::7] = np.nextafter(level, np.inf)  # and one unit in the last place
        mean, std = mean_std(values)
        assert scale_or_unit(mean, std, 1000)[0] == 1.0
    # per column, with a count per row of series
    got = scale_or_unit(np.array([[5.0, 0.0]]), np.array([[1e-16, 1e-16]]), np.array([[10]]))
    np.testing.assert_array_equal(got, [[1.0, 1e-16]])
    # inputs: a spread below the floor is rounding noise around 0 whatever the mean
    # (a computed zero scaled to unit size is noise read as a signal), and said to be
    mean, std = np.array([0.0, 0.0, 5.0]), np.array([3e-13, 2.0, 1e-16])
    np.testing.assert_array_equal(scale_or_unit(mean, std, 100, INPUT_NOISE_FLOOR),
                                  [1.0, 2.0, 1.0])
    np.testing.assert_array_equal(below_floor(mean, std, 100, INPUT_NOISE_FLOOR),
                                  [True, False, False])
