"""The window model's linear part and network weighting: variants on the accuracy series.

Backtests the default LSTM (or GRU) Forecaster of ``bench_accuracy.py`` on the same
series and origins, with the :class:`~tsbptt.forecasting._window_model.WindowModel`
settings ``linear`` (the linear part) and ``shrink`` (the network's weight) overridden,
and a variant with the network switched off (the linear part alone). One thread.

    python benchmarks/bench_linear_part.py --series electricity air spikes
    python benchmarks/bench_linear_part.py --variants mean window auto --cell gru
"""
import argparse
import time
import warnings

from _common import tsbptt  # noqa: F401 (puts the source tree first)
from bench_accuracy import _mase_and_se, _origins, _series
from threadpoolctl import threadpool_limits

from tsbptt import Forecaster, GRURegressor, LSTMRegressor, backtest
from tsbptt.forecasting._window_model import WindowModel

#: name -> (WindowModel settings, whether the network's correction is used)
VARIANTS = {
    "mean": ({"linear": "mean", "shrink": True}, True),        # the default
    "mean-onoff": ({"linear": "mean", "shrink": False}, True),
    "window": ({"linear": "window", "shrink": True}, True),
    "window-onoff": ({"linear": "window", "shrink": False}, True),  # before issue 13/2
    "lags": ({"linear": "lags", "shrink": True}, True),
    "auto": ({"linear": "auto", "shrink": True}, True),
    "mean-only": ({"linear": "mean"}, False),
    "window-only": ({"linear": "window"}, False),
    "lags-only": ({"linear": "lags"}, False),
}


def _overridden(settings, network):
    """A WindowModel.fit that applies ``settings`` first (a Forecaster builds its
    WindowModel itself) and, with ``network=False``, drops the correction."""
    fit = WindowModel.fit

    def patched(self, X, y):
        if self.linear:
            self.set_params(**settings)
        fit(self, X, y)
        if self.linear and not network:
            self.network_weight_, self.use_network_ = 0.0, False
        return self
    return fit, patched


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", nargs="+", metavar="WORD")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--cell", choices=("lstm", "gru"), default="lstm")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    cell = LSTMRegressor if args.cell == "lstm" else GRURegressor
    with threadpool_limits(1):
        for name, y, season, horizon in _series():
            if args.series and not any(w in name for w in args.series):
                continue
            initial = len(y) - _origins(len(y), horizon) * horizon
            for variant in args.variants:
                original, patched = _overridden(*VARIANTS[variant])
                WindowModel.fit = patched
                t0 = time.perf_counter()
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        result = backtest(Forecaster(cell(random_state=args.seed,
                                                          n_threads=1),
                                                     lags=2 * season, horizon=horizon),
                                          y, initial=initial, step=horizon, refit=True,
                                          season=season)
                finally:
                    WindowModel.fit = original
                mase, se = _mase_and_se(result)
                print(f"{name:<42} {variant:<13} MASE {mase:6.3f} ({se:.3f})  "
                      f"{time.perf_counter() - t0:6.1f} s", flush=True)


if __name__ == "__main__":
    main()
