"""Training progress: quiet unless on a terminal (verbose=1) or asked (verbose>=2)."""
import io
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from tsbptt import LSTMRegressor
from tsbptt.utils._progress import ProgressReporter, format_duration, stop_reason


class FakeStream(io.StringIO):
    def __init__(self, tty):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


class FakeClock:
    """Each call advances 10 s: the n-th update sees 10 * n s elapsed."""

    def __init__(self):
        self.t = 0.0

    def __call__(self):
        t, self.t = self.t, self.t + 10.0
        return t


def _records(n, val=False):
    for k in range(1, n + 1):
        rec = {"epoch": k, "train_loss": 1.0 / k, "val_loss": None,
               "learning_rate": 1e-3, "wall_time": 0.1, "stopped": None}
        if val:
            rec.update(val_loss=2.0 / k, val_score=1 - 1.0 / (k + 1))
        yield rec


def _run(verbose, tty, n=5, total=5, val=False, **kw):
    stream = FakeStream(tty)
    rep = ProgressReporter(total, verbose, stream=stream, clock=FakeClock(), **kw)
    for rec in _records(n, val):
        rep.update(rec)
    rep.close()
    return stream.getvalue()


@pytest.mark.parametrize("tty", [True, False])
def test_verbose_0_is_silent(tty):
    assert _run(0, tty) == ""


def test_verbose_1_not_a_terminal_is_silent():
    assert _run(1, tty=False) == ""


def test_verbose_1_terminal_redraws_one_line():
    out = _run(1, tty=True, n=3, total=5)
    assert out.count("\r") == 3 and out.endswith("\n") and out.count("\n") == 1
    last = out.rsplit("\r", 1)[1]
    assert "epoch 3/5" in last and "0.33333333" in last  # train loss 1/3
    assert "elapsed" in last and "left" in last
    # 3 epochs took 30 s (10 s each), 2 are left: 20 s
    assert "elapsed 30s" in last and "left 20s" in last
    # no newline before close: the line is redrawn in place
    assert "\n" not in out[:-1]


def test_verbose_1_pads_a_shorter_line():
    stream = FakeStream(tty=True)
    rep = ProgressReporter(2, 1, stream=stream, clock=FakeClock())
    rep.update({"epoch": 1, "train_loss": 123.456789})
    rep.update({"epoch": 2, "train_loss": 1.0})
    first, second = stream.getvalue().split("\r")[1:]
    assert len(second) >= len(first)  # the old tail is wiped with blanks
    rep.close()
    rep.close()  # idempotent
    assert stream.getvalue().count("\n") == 1


def test_verbose_2_one_line_per_epoch_even_off_terminal():
    out = _run(2, tty=False, n=4, total=4, val=True)
    lines = out.splitlines()
    assert len(lines) == 4 and "\r" not in out
    for k, line in enumerate(lines, 1):
        assert f"epoch {k}/4" in line and "loss" in line
        assert "val loss" in line and "val score" in line
    assert "left 0s" in lines[-1]


def test_verbose_1_fits_the_line_to_the_terminal(monkeypatch):
    # a line wider than the terminal wraps, and '\r' redraws only its last row: each
    # epoch would leave a row behind. The label goes first, then the val score.
    monkeypatch.setenv("COLUMNS", "80")
    out = _run(1, tty=True, n=3, total=500, val=True, label="LSTMRegressor")
    drawn = out.rstrip("\n").split("\r")[1:]
    assert len(drawn) == 3 and all(len(line) <= 79 for line in drawn)
    assert drawn[-1].startswith("epoch 3/500 | loss") and "val loss" in drawn[-1]
    assert "left" in drawn[-1] and "val score" not in drawn[-1]
    monkeypatch.setenv("COLUMNS", "20")
    out = _run(1, tty=True, n=1, total=500, val=True, label="LSTMRegressor")
    assert out == "\r" + "epoch 1/500 | loss 1"[:19] + "\n"
    # one line per epoch (logs) is never cut
    out = _run(2, tty=True, n=1, total=500, val=True, label="LSTMRegressor")
    assert out.startswith("LSTMRegressor: epoch 1/500") and "val score" in out


def test_label_and_no_validation_fields():
    out = _run(2, tty=True, n=1, total=3, label="LSTMRegressor")
    assert out.startswith("LSTMRegressor: epoch 1/3")
    assert "val" not in out


def test_early_stop_before_total_closes_the_line():
    out = _run(1, tty=True, n=2, total=100)
    assert "epoch 2/100" in out and out.endswith("\n")


def test_default_stream_is_current_stdout(capsys):
    rep = ProgressReporter(1, 2)
    rep.update({"epoch": 1, "train_loss": 0.5})
    rep.close()
    assert "epoch 1/1" in capsys.readouterr().out


@pytest.mark.parametrize("seconds, text", [
    (0, "0s"), (7.4, "7s"), (59.6, "1m00s"), (65, "1m05s"), (600, "10m00s"),
    (3599, "59m59s"), (3725, "1h02m"), (90000, "25h00m"), (float("nan"), "?"),
    (float("inf"), "?"),
])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 6))
    y = X[:, -1] + 0.1 * rng.standard_normal(40)
    return X, y


def _fit(**params):
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LSTMRegressor(hidden_size=4, max_iter=3, random_state=0, **params).fit(X, y)


def test_fit_verbose_2_prints_each_epoch(capsys):
    _fit(verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4  # the epochs, then why the fit stopped
    assert [ln.split(" | ")[0] for ln in lines[:3]] == [
        f"LSTMRegressor: epoch {k}/3" for k in (1, 2, 3)]
    assert lines[3] == "LSTMRegressor: ran all 3 epochs (max_iter) without converging"


def test_fit_verbose_2_with_validation(capsys):
    est = _fit(verbose=2, early_stopping=True, validation_fraction=0.25)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == est.n_iter_ + 1 and all("val score" in ln for ln in lines[:-1])
    assert lines[-1].startswith("LSTMRegressor: ") and "val score" not in lines[-1]


@pytest.mark.parametrize("verbose", [0, 1])
def test_fit_quiet_off_terminal(capsys, verbose):
    _fit(verbose=verbose)  # pytest's captured stdout is not a terminal
    assert capsys.readouterr().out == ""


def test_partial_fit_counts_per_call(capsys):
    X, y = _data()
    est = LSTMRegressor(hidden_size=4, random_state=0, verbose=2)
    est.partial_fit(X, y)
    est.partial_fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all("epoch 1/1" in ln for ln in lines)


def test_fit_verbose_1_on_a_terminal(monkeypatch):
    stream = FakeStream(tty=True)
    monkeypatch.setattr("sys.stdout", stream)
    _fit(verbose=1)
    out = stream.getvalue()
    assert out.count("\r") == 3 and out.endswith("\n") and out.count("\n") == 2
    drawn, reason = out.rsplit("\r", 1)[1].split("\n")[:2]
    assert "epoch 3/3" in drawn
    assert reason == "LSTMRegressor: ran all 3 epochs (max_iter) without converging"


# -- why a fit stopped, notebooks, Forecaster labels, backtests, one warning -----------

@pytest.mark.parametrize("stopped, epochs, early, text", [
    (None, 5, False, "ran all 5 epochs (max_iter) without converging"),
    ("converged", 3, False, "converged after 3 epochs: the loss stopped improving by tol"),
    ("converged", 3, True, "stopped early after 3 epochs: the validation loss stopped "
                           "improving (the best weights are kept)"),
    ("non-finite", 2, False, "stopped at epoch 2: the loss became NaN or infinite (the "
                             "best weights so far are kept; try a lower learning rate)"),
    ("interrupted", 4, False, "interrupted at epoch 4 (the best weights so far are kept)"),
])
def test_stop_reason(stopped, epochs, early, text):
    assert stop_reason(stopped, epochs, 5, early) == text


def test_close_writes_the_reason_only_after_shown_progress():
    stream = FakeStream(tty=False)
    rep = ProgressReporter(3, 2, stream=stream, label="M", clock=FakeClock())
    rep.close("why")  # nothing shown yet: nothing to explain
    assert stream.getvalue() == ""
    rep.update(next(_records(1)))
    rep.close("why")
    assert stream.getvalue().splitlines()[-1] == "M: why"
    quiet = FakeStream(tty=False)
    rep = ProgressReporter(3, 1, stream=quiet)  # verbose=1 off a terminal
    rep.update(next(_records(1)))
    rep.close("why")
    assert quiet.getvalue() == ""


class NotebookStream(io.StringIO):
    """Looks like ipykernel's OutStream: not a terminal, but it redraws '\\r'."""

    def isatty(self):
        return False


NotebookStream.__module__ = "ipykernel.iostream"


def test_verbose_1_draws_a_line_in_a_notebook_without_tqdm(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import fails: not installed
    stream = NotebookStream()
    rep = ProgressReporter(2, 1, stream=stream, clock=FakeClock())
    for rec in _records(2):
        rep.update(rec)
    rep.close()
    out = stream.getvalue()
    assert out.startswith("\repoch 1/2 | loss 1 |") and "\repoch 2/2 | loss 0.5 |" in out
    assert out.endswith("\n") and out.count("\n") == 1


def _load(n=24 * 12):
    import pandas as pd

    t = np.arange(n)
    return pd.Series(10 + np.sin(2 * np.pi * t / 24), name="load",
                     index=pd.date_range("2024-01-01", periods=n, freq="h"))


def test_forecaster_labels_each_fit_and_warns_once(capsys):
    from tsbptt import Forecaster

    f = Forecaster(LSTMRegressor(hidden_size=4, max_iter=2, random_state=0, verbose=2),
                   lags=24, horizon=6, interval="conformal", coverage=0.8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f.fit(_load())
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split(" | ")[0] for ln in lines] == [
        "fit 1/2: calibration model (LSTMRegressor): epoch 1/2",
        "fit 1/2: calibration model (LSTMRegressor): epoch 2/2",
        "fit 1/2: calibration model (LSTMRegressor): ran all 2 epochs (max_iter) without "
        "converging",
        "fit 2/2: final model (LSTMRegressor): epoch 1/2",
        "fit 2/2: final model (LSTMRegressor): epoch 2/2",
        "fit 2/2: final model (LSTMRegressor): ran all 2 epochs (max_iter) without "
        "converging"]
    converge = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(converge) == 1
    assert str(converge[0].message).startswith(
        "Forecaster: 2 of its model fits did not converge (LSTMRegressor: max_iter (2) "
        "reached")
    assert converge[0].filename == __file__  # points at the caller's fit
    # the estimator the user gave is left unlabelled
    assert not hasattr(f.estimator, "_progress_label")


def test_forecaster_members_warn_again_on_their_own_later(capsys):
    from tsbptt import Forecaster

    f = Forecaster(LSTMRegressor(hidden_size=4, max_iter=2, random_state=0),
                   lags=24, horizon=6)
    with pytest.warns(ConvergenceWarning, match="^Forecaster: its model fit did not "
                      "converge \\(LSTMRegressor: max_iter \\(2\\) reached"):
        f.fit(_load())
    assert not hasattr(f, "_convergence_notes")
    assert not hasattr(f.estimator_, "_defer_convergence_warning")
    X = np.random.default_rng(0).standard_normal((40, 24))
    with pytest.warns(ConvergenceWarning, match="^LSTMRegressor: max_iter"):
        f.estimator_.fit(X, X[:, -1])
    # a converged (or sklearn) member adds no note: no warning at all
    from sklearn.linear_model import Ridge
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Forecaster(Ridge(), lags=24, horizon=6).fit(_load())
    assert caught == []


def test_backtest_shows_origins_done_and_left(capsys):
    from tsbptt import Forecaster, backtest
    from tsbptt.forecasting.baselines import SeasonalNaive

    y = _load()
    backtest(Forecaster(SeasonalNaive(24), lags=24, horizon=24), y, initial=len(y) - 72,
             step=24, refit=False, season=24, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split(" | ")[0] for ln in lines] == [
        f"backtest: origin {k}/3" for k in (1, 2, 3)]
    assert all("loss" not in ln and "left" in ln for ln in lines)
    backtest(Forecaster(SeasonalNaive(24), lags=24, horizon=24), y, initial=len(y) - 72,
             step=24, refit=False, season=24)
    assert capsys.readouterr().out == ""


def test_verbose_1_in_a_notebook_uses_tqdm_auto_when_installed(monkeypatch):
    import sys
    import types

    bars = []

    class FakeTqdm:
        def __init__(self, **kwargs):
            self.kwargs, self.n, self.postfix, self.closed = kwargs, 0, None, False
            bars.append(self)

        def set_postfix_str(self, text, refresh=True):
            self.postfix = text

        def update(self, k):
            self.n += k

        def close(self):
            self.closed = True

    module = types.ModuleType("tqdm.auto")
    module.tqdm = FakeTqdm
    monkeypatch.setitem(sys.modules, "tqdm", types.ModuleType("tqdm"))
    monkeypatch.setitem(sys.modules, "tqdm.auto", module)
    stream = NotebookStream()
    rep = ProgressReporter(3, 1, stream=stream, label="M", clock=FakeClock())
    for rec in _records(2):
        rep.update(rec)
    rep.close("why")
    (bar,) = bars
    assert bar.kwargs == dict(total=3, desc="M", unit="epoch", file=stream, leave=True)
    assert bar.n == 2 and bar.postfix == "loss 0.5" and bar.closed
    assert stream.getvalue() == "M: why\n"  # the reason below the bar; no '\r' lines
