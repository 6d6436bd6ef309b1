"""How far back does the gradient reach? dL/dh_t for LSTM, GRU and a tanh RNN.

Prints, for each cell, |dL/dh_t| relative to the last step at 1, 10, 25 and 50
steps back, on a fresh network and random data (plot it with matplotlib if you
like: ``gradient_flow`` returns the whole curve).

    python examples/gradient_flow.py
"""
import numpy as np

from tsbptt.engine import LOSSES, Network, Objective, gradient_flow


def main(T=60, hidden=32):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, T, 1))
    y = rng.standard_normal((64, 1))
    lengths = np.full(64, T, dtype=np.intp)
    back = [k for k in (1, 10, 25, 50) if k < T]
    print("steps back:" + "".join(f"{k:>9}" for k in back))
    curves = {}
    for cell in ("lstm", "gru", "rnn"):
        net = Network(cell, 1, hidden, 1, random_state=0)
        loss = Objective(LOSSES["mse"]()).batch_fn(net, y, lengths, None)
        curves[cell] = gradient_flow(net, X, lengths, loss)["ratio"]
        print(f"{cell:<10}" + "".join(f"{curves[cell][k]:9.2e}" for k in back))
    return curves


if __name__ == "__main__":
    main()
