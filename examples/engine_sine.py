"""Train an LSTM on a noisy sine wave with the engine directly, three ways.

Full BPTT, truncated BPTT and gradient checkpointing on the same windows; prints
the test MSE of each next to predicting the mean (to six digits: checkpointing
gives full BPTT's gradients, so its MSE is the same, and truncation's differs a
little here, as a sine of period 25 needs little memory beyond 16 steps).

    python examples/engine_sine.py [--epochs 20]
"""
import argparse

import numpy as np

from tsbptt.engine import LOSSES, Network, Objective, TrainOptions, build_optimizer, train
from tsbptt.engine.schedules import Cosine


def windows(n, T, seed):
    """n windows of T steps of a noisy sine and the value that follows each."""
    rng = np.random.default_rng(seed)
    t = np.arange(n + T)
    s = np.sin(2 * np.pi * t / 25) + 0.1 * rng.standard_normal(t.size)
    X = np.lib.stride_tricks.sliding_window_view(s[:-1], T)[:n, :, None]
    return np.ascontiguousarray(X), s[T:T + n, None]


def fit(X, y, epochs, **options):
    net = Network("lstm", 1, 32, 1, random_state=0)
    optimizer = build_optimizer("adam", net.params, 0.01, weight_decay=1e-5)
    data = (X, y, np.full(len(X), X.shape[1], dtype=np.intp), None)
    history = train(net, Objective(LOSSES["mse"]()), optimizer, Cosine(0.01, epochs), data,
                    TrainOptions(batch_size=32, max_iter=epochs, clip_norm=1.0, **options),
                    rng=np.random.RandomState(0))
    return net, history


def main(epochs=20):
    X, y = windows(1200, 48, seed=0)
    X_tr, y_tr, X_te, y_te = X[:1000], y[:1000], X[1000:], y[1000:]
    print(f"predicting the mean:      test MSE {np.mean((y_te - y_tr.mean()) ** 2):.6f}")
    for name, options in [("full BPTT", {}), ("truncated, k=16", {"bptt_steps": 16}),
                          ("checkpointed, c=16", {"checkpoint_every": 16})]:
        net, history = fit(X_tr, y_tr, epochs, **options)
        mse = np.mean((net.forward(X_te)[0] - y_te) ** 2)
        print(f"{name:<25} test MSE {mse:.6f}  ({len(history)} epochs, "
              f"{sum(h['wall_time'] for h in history):.1f} s)")
    return mse


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    main(parser.parse_args().epochs)
