"""Online learning by RTRL against truncated BPTT on a delayed-recall stream.

The stream is +-1 at random; the target at step t is the input at step t - d. To
predict it the network must hold each input for d steps. Truncated BPTT with a
window of k < d steps never sees a gradient that spans d steps: its head decodes
part of the old input from the recurrent dynamics, but the recurrent weights never
learn to keep it: its error stays at about 0.75 of the mean predictor's (1.0), where
RTRL's and a window of k > d reach about 0.01. RTRL (``RTRLRegressor``) has
no window: one online pass, one update per observation, learns it.

Run: ``python examples/online_recall.py``
"""
import warnings

import numpy as np

from tsbptt import RNNRegressor, RTRLRegressor


def recall_stream(n, d, seed):
    """Inputs (n, 1) of +-1 and targets (n,): the input d steps before (0 at first)."""
    x = np.random.default_rng(seed).choice([-1.0, 1.0], size=n)
    return x[:, None], np.concatenate([np.zeros(d), x[:-d]])


def main(n=6000, d=8, hidden=16, windows=(4, 16)):
    """Fit each learner on one stream, score on a fresh one; returns {name: test MSE}."""
    X, y = recall_stream(n, d, seed=0)
    X_test, y_test = recall_stream(1000, d, seed=1)
    results = {}

    online = RTRLRegressor("rnn", hidden, learning_rate=3e-3, random_state=0)
    for start in range(0, n, 1000):  # the stream arrives in pieces
        online.partial_fit(X[start:start + 1000], y[start:start + 1000])
    print("RTRL, error before each update, per 1000 steps:", np.round(online.loss_curve_, 3))
    results["RTRL (no window)"] = np.mean((online.predict(X_test)[d:] - y_test[d:]) ** 2)

    for k in windows:  # stateful truncated BPTT over the same stream, two epochs
        tbptt = RNNRegressor(hidden, bptt_steps=k, batch_size=1, max_iter=2,
                             learning_rate=3e-3, scale_inputs=False, scale_target=False,
                             shuffle=False, clip_norm=1.0, tol=0, dtype="float64",
                             per_step=True, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # max_iter reached: two epochs on purpose
            tbptt.fit(X[None], y[None])
        pred = tbptt.predict(X_test[None])[0]
        results[f"TBPTT, window {k}"] = np.mean((pred[d:] - y_test[d:]) ** 2)

    print(f"\nrecall the input {d} steps back, test MSE (the mean predictor: 1.0)")
    for name, mse in results.items():
        print(f"  {name:20s} {mse:.3f}")
    return results


if __name__ == "__main__":
    main()
