"""Every example runs (with small settings) and prints what it promises."""
import importlib.util
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_engine_sine(capsys):
    mse = _load("engine_sine").main(epochs=3)
    out = capsys.readouterr().out
    assert "predicting the mean" in out and out.count("test MSE") == 4
    assert np.isfinite(mse) and mse < 0.5


def test_gradient_flow(capsys):
    curves = _load("gradient_flow").main(T=30, hidden=8)
    assert set(curves) == {"lstm", "gru", "rnn"}
    assert all(c[0] == 1.0 for c in curves.values())
    assert "steps back" in capsys.readouterr().out


def test_grid_search(capsys):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search, mae = _load("grid_search").main(quick=True)
    assert set(search.best_params_) == {"lstm__hidden_size", "lstm__learning_rate"}
    assert np.isfinite(mae)
    out = capsys.readouterr().out
    assert "best parameters" in out and "seasonal naive" in out
