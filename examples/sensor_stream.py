"""Forecast a sensor as its readings arrive, one at a time, without refitting.

Sensor s1 of the bundled hourly temperatures: the first four weeks train the
models, the readings after them arrive one by one.

Part 1, the estimator: an LSTM trained on the four weeks as one sequence
(truncated BPTT, next hour's value as the target at every step). It reads the
training weeks once to reach its state at their end, and a ``stream`` starts from
that state: each new reading is one ``stream.step``, one compiled call that moves
the state one hour and forecasts the next hour, without re-reading a window.
``predict_step`` does the same from a state you keep yourself (the same bits;
it also checks the state at every call). Scored against persistence (the next
hour is the last reading) and the seasonal naive forecast (the same hour
yesterday).

Part 2, the forecaster: ``Forecaster(strategy='stateful')`` over the same weeks,
forecasting the next 6 hours. Each new reading goes in with ``update`` (the
state is carried forward, nothing is refitted) and ``predict`` forecasts from it.

    python examples/sensor_stream.py [--quick]
"""
import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from tsbptt import Forecaster, GRURegressor, LSTMRegressor, RecurrentState
from tsbptt.datasets import load_sensor_temperatures

TRAIN_HOURS = 28 * 24


def sensor(name="s1"):
    frame = load_sensor_temperatures()
    return frame[frame["sensor"] == name].set_index("time")["temperature_c"].asfreq("h")


def stream_steps(y, n_stream, quick):
    """Part 1: a stream over ``n_stream`` readings after the training weeks."""
    train = y.to_numpy()[:TRAIN_HOURS]
    est = LSTMRegressor(8 if quick else 16, max_iter=3 if quick else 40, bptt_steps=48,
                        learning_rate=1e-2, per_step=True, n_threads=1, random_state=0)
    # one sequence: the value at every hour, and as its target the hour after it
    est.fit(train[None, :-1, None], train[None, 1:])
    # the state at the end of the training weeks (the last one is read by the stream)
    _, states = est.predict_sequence(train[None, :-1, None])
    state = RecurrentState.from_states(states)
    stream = est.stream(state)
    readings = y.to_numpy()[TRAIN_HOURS - 1:TRAIN_HOURS - 1 + n_stream]
    forecasts, seconds = np.empty(n_stream), np.empty((2, n_stream))
    for t, reading in enumerate(readings):  # a reading arrives: one step
        start = time.perf_counter()
        forecasts[t] = stream.step(reading)
        seconds[0, t] = time.perf_counter() - start
        start = time.perf_counter()
        same, state = est.predict_step(reading, state)
        seconds[1, t] = time.perf_counter() - start
        assert same == forecasts[t]  # the same step, bitwise
    per_step = dict(zip(("stream.step", "predict_step"), np.median(seconds, axis=1)))
    actual = y.to_numpy()[TRAIN_HOURS:TRAIN_HOURS + n_stream]
    yesterday = y.to_numpy()[TRAIN_HOURS - 24:TRAIN_HOURS - 24 + n_stream]
    mae = {"LSTM, stream": np.mean(np.abs(forecasts - actual)),
           "persistence": np.mean(np.abs(readings - actual)),
           "seasonal naive (24 h)": np.mean(np.abs(yesterday - actual))}
    return forecasts, actual, mae, per_step


def stream_forecaster(y, n_updates, quick):
    """Part 2: Forecaster.update with each reading, then a 6-hour forecast."""
    est = GRURegressor(8 if quick else 16, max_iter=3 if quick else 30,
                       learning_rate=1e-2, n_threads=1, random_state=0)
    f = Forecaster(est, lags=48, horizon=6, strategy="stateful").fit(y.iloc[:TRAIN_HOURS])
    forecasts = []
    for t in range(TRAIN_HOURS, TRAIN_HOURS + n_updates):
        f.update(y.iloc[t:t + 1])   # the new reading, at the next hour
        forecasts.append(f.predict())
    return forecasts


def main(quick=False):
    y = sensor()
    n_stream = 48 if quick else 7 * 24
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        forecasts, actual, mae, per_step = stream_steps(y, n_stream, quick)
        six_hours = stream_forecaster(y, 6 if quick else 12, quick)
    print(f"Sensor s1: trained on {TRAIN_HOURS} hours, then {n_stream} readings one "
          "at a time")
    for name, seconds in per_step.items():
        print(f"{name + ':':14s} {seconds * 1e6:5.1f} us per reading (median, one thread)")
    print("hour                 reading  next-hour forecast  actual")
    for t in range(0, n_stream, max(1, n_stream // 8)):
        when = y.index[TRAIN_HOURS - 1 + t]
        print(f"{when}   {y.iloc[TRAIN_HOURS - 1 + t]:6.1f}   {forecasts[t]:17.2f}  "
              f"{actual[t]:6.1f}")
    print("mean absolute error of the next-hour forecasts (C):")
    for name, value in mae.items():
        print(f"  {name:24s} {value:.3f}")
    print("Forecaster.update + predict, 6 hours ahead after each new reading:")
    for fc in six_hours:
        values = "  ".join(f"{v:5.1f}" for v in fc.to_numpy())
        print(f"  from {fc.index[0] - fc.index.freq}:  {values}")
    return {"forecasts": forecasts, "actual": actual, "mae": mae,
            "per_step": per_step, "six_hours": six_hours, "y": y}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small and fast")
    main(parser.parse_args().quick)
