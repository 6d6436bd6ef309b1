"""LagLayout: other tools' 2D lag tables -> (n, T, F) sequences, oldest step first."""
import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline

from tsbptt import LagLayout, LSTMRegressor, make_windows


def _reference(X, L, C, order, blocks, S, lead):
    """Element by element, from the definitions in the docstring."""
    n = X.shape[0]
    out = np.empty((n, L, C + S))
    static = [X[:, k] for k in range(lead)] + \
        [X[:, lead + L * C + k] for k in range(S - lead)]
    for t in range(L):
        j = L - 1 - t if order == "newest_first" else t  # lag position of step t
        for c in range(C):
            col = c * L + j if blocks == "channel_major" else j * C + c
            out[:, t, c] = X[:, lead + col]
        for k in range(S):
            out[:, t, C + k] = static[k]
    return out


@pytest.mark.parametrize("order", ["newest_first", "oldest_first"])
@pytest.mark.parametrize("blocks", ["channel_major", "time_major"])
@pytest.mark.parametrize("C,S,lead", [(1, 0, 0), (3, 0, 0), (2, 3, 0), (2, 3, 2),
                                      (1, 2, 2)])
def test_matches_elementwise_reference(order, blocks, C, S, lead):
    L = 4
    X = np.random.default_rng(0).normal(size=(5, L * C + S))
    lay = LagLayout(L, n_channels=C, order=order, blocks=blocks, n_static=S,
                    n_leading=lead)
    out = lay.fit_transform(X)
    assert out.shape == (5, L, C + S) and out.flags.c_contiguous
    np.testing.assert_array_equal(out, _reference(X, L, C, order, blocks, S, lead))
    assert lay.n_lags_ == L and lay.n_features_out_ == C + S
    np.testing.assert_array_equal(lay.inverse_transform(out), X)
    # n_lags=None infers the same number of lags from the width
    auto = LagLayout(n_channels=C, order=order, blocks=blocks, n_static=S, n_leading=lead)
    np.testing.assert_array_equal(auto.fit_transform(X), out)
    assert auto.n_lags_ == L


def test_skforecast_style_row():
    # lag_1 (newest) .. lag_3, then one exogenous value at the target step
    X = np.array([[3.0, 2.0, 1.0, 10.0]])
    np.testing.assert_array_equal(LagLayout(3, n_static=1).fit_transform(X)[0],
                                  [[1, 10], [2, 10], [3, 10]])


def test_make_windows_table_round_trip():
    """tsbptt's own 2D windows (time-major, oldest first) become exactly its 3D ones."""
    rng = np.random.default_rng(1)
    data = pd.DataFrame(rng.normal(size=(40, 3)), columns=["y", "a", "b"])
    w2 = make_windows(data, lags=6, target="y", exog=["a", "b"])
    w3 = make_windows(data, lags=6, target="y", exog=["a", "b"], as_3d=True)
    lay = LagLayout(6, n_channels=3, order="oldest_first", blocks="time_major")
    np.testing.assert_array_equal(lay.fit_transform(w2.X), w3.X)
    np.testing.assert_array_equal(lay.feature_names_in_, w2.X.columns)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_kept(dtype):
    X = np.arange(12, dtype=dtype).reshape(2, 6)
    assert LagLayout(3, n_channels=2).fit_transform(X).dtype == dtype
    assert LagLayout(3, n_channels=2).fit_transform(X.astype(int)).dtype == np.float64


def test_width_that_does_not_fit_is_refused():
    X = np.zeros((3, 7))
    with pytest.raises(ValueError, match=r"X has 7 columns, but the declared layout "
                                         r"\(n_lags=3, n_channels=2, n_static=0\) needs "
                                         r"n_lags \* n_channels \+ n_static = 6"):
        LagLayout(3, n_channels=2).fit(X)
    with pytest.raises(ValueError, match=r"X has 7 columns, which does not fit .* the 5 "
                                         r"columns left for lags are not a positive "
                                         r"multiple of n_channels=2"):
        LagLayout(n_channels=2, n_static=2).fit(X)
    with pytest.raises(ValueError, match="the 0 columns left for lags"):
        LagLayout(n_static=7).fit(X)
    lay = LagLayout(3, n_static=4).fit(X)
    with pytest.raises(ValueError, match="X has 6 features, but LagLayout is expecting 7"):
        lay.transform(np.zeros((3, 6)))


@pytest.mark.parametrize("params,match", [
    (dict(n_lags=0), "'n_lags' parameter of LagLayout must be"),
    (dict(n_channels=True), "n_channels"),
    (dict(order="newest"), "'order' parameter of LagLayout must be"),
    (dict(blocks="rows"), "'blocks' parameter of LagLayout must be"),
    (dict(n_static=1, n_leading=2), r"n_leading=2 is more than n_static=1"),
])
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        LagLayout(**params).fit(np.zeros((2, 4)))


def test_inverse_transform_checks_its_input():
    lay = LagLayout(2, n_static=1).fit(np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"X must have shape \(n_samples, 2, 2\), got "
                                         r"\(1, 3, 2\)"):
        lay.inverse_transform(np.zeros((1, 3, 2)))
    with pytest.raises(ValueError, match="static features differ between time steps"):
        lay.inverse_transform(np.array([[[1.0, 5.0], [2.0, 6.0]]]))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_pipeline_feeds_the_network_the_sequences():
    """A pipeline on newest-first tables predicts exactly what the network fitted on
    the oldest-first 3D windows predicts: the network sees the same numbers."""
    rng = np.random.default_rng(2)
    X2 = rng.normal(size=(30, 5))  # lag_1..lag_4, one static column
    y = rng.normal(size=30)
    params = dict(hidden_size=3, max_iter=3, random_state=0, n_threads=1)
    pipe = make_pipeline(LagLayout(4, n_static=1), LSTMRegressor(**params)).fit(X2, y)
    X3 = _reference(X2, 4, 1, "newest_first", "channel_major", 1, 0)
    net = LSTMRegressor(**params).fit(X3, y)
    np.testing.assert_array_equal(pipe.predict(X2), net.predict(X3))
    with pytest.raises(ValueError, match="X has 4 features, but LagLayout is expecting 5"):
        pipe.predict(X2[:, :4])


@pytest.mark.parametrize("names,order,lags", [
    (["lag4", "lag3", "lag2", "lag1"], "newest_first", [4, 3, 2, 1]),  # mlforecast, reversed
    (["lag_1", "lag_2", "lag_3", "lag_6"], "newest_first", [1, 2, 3, 6]),  # a gap
    (["lag_1", "lag_2", "lag_3"], "oldest_first", [1, 2, 3]),  # the other order
])
def test_lag_names_out_of_order_or_with_gaps_are_refused(names, order, lags):
    X = pd.DataFrame(np.arange(2.0 * len(names)).reshape(2, -1), columns=names)
    with pytest.raises(ValueError, match=(rf"lag columns {names!r} are lags {lags}; "
                                          rf"with order='{order}'").replace("[", r"\[")):
        LagLayout(order=order).fit(X)


def test_lag_names_in_order_are_read_and_other_names_are_not_judged():
    X = pd.DataFrame([[7.0, 3.0, 2.0, 1.0, 10.0]],
                     columns=["store", "lag1", "lag2", "lag3", "dayofweek"])
    out = LagLayout(n_static=2, n_leading=1).fit_transform(X)
    np.testing.assert_array_equal(out[0], [[1, 7, 10], [2, 7, 10], [3, 7, 10]])
    delayed = pd.DataFrame([[2.0, 1.0, 0.0]], columns=["lag_2", "lag_3", "lag_4"])
    np.testing.assert_array_equal(LagLayout().fit_transform(delayed)[0], [[0], [1], [2]])
    oldest = pd.DataFrame([[0.0, 1.0, 2.0]], columns=["lag_4", "lag_3", "lag_2"])
    np.testing.assert_array_equal(LagLayout(order="oldest_first").fit_transform(oldest)[0],
                                  [[0], [1], [2]])
    sktime_like = pd.DataFrame([[1.0, 2.0, 3.0]], columns=["y_lag_3", "a", "b"])
    LagLayout(order="oldest_first").fit(sktime_like)  # names it does not know: as declared


@pytest.mark.parametrize("change", [{"n_leading": 1}, {"n_static": 0},
                                    {"order": "oldest_first"}, {"n_lags": 2, "n_static": 2}])
def test_a_layout_changed_after_fit_is_refused(change):
    X = np.array([[3.0, 2.0, 1.0, 10.0]])
    layout = LagLayout(n_static=1).fit(X)
    expected = layout.transform(X)
    layout.set_params(**change)
    name = sorted(change)[0]
    with pytest.raises(ValueError, match=f"layout changed since fit .*{name}="):
        layout.transform(X)
    with pytest.raises(ValueError, match="layout changed since fit"):
        layout.inverse_transform(expected)
    layout.set_params(**{k: LagLayout(n_static=1).get_params()[k] for k in change})
    np.testing.assert_array_equal(layout.transform(X), expected)  # as fitted again


def test_n_lags_set_to_what_fit_found_is_no_change():
    X = np.array([[3.0, 2.0, 1.0, 10.0]])
    layout = LagLayout(n_static=1).fit(X)
    expected = layout.transform(X)
    np.testing.assert_array_equal(layout.set_params(n_lags=3).transform(X), expected)


def test_a_layout_pickled_before_fit_kept_it_still_checks_the_width():
    layout = LagLayout(3, n_static=1).fit(np.array([[3.0, 2.0, 1.0, 10.0]]))
    del layout._fitted_layout  # as fitted by a version that did not keep it
    layout.set_params(n_static=2)
    with pytest.raises(ValueError, match="X has 4 columns, but the declared layout"):
        layout.transform(np.array([[3.0, 2.0, 1.0, 10.0]]))
