"""How far back does the gradient reach? dL/dh_t for LSTM, GRU and a tanh RNN.

Prints, for each cell, |dL/dh_t| relative to the last step at 1, 10, 25 and 50
steps back, on a fresh network and random data. ``main`` returns the whole
curves; ``--plot PATH`` draws them with :func:`tsbptt.plotting.plot_gradient_flow`
(needs matplotlib).

    python examples/gradient_flow.py [--T 60] [--hidden 32] [--plot gradient_flow.png]
"""
import argparse

import numpy as np

from tsbptt.engine import LOSSES, Network, Objective, gradient_flow


def main(T=60, hidden=32, plot_path=None):
    if plot_path is not None:  # said before the fits, not after them
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise SystemExit("--plot needs matplotlib: pip install 'tsbptt[plot]'") from None
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
    if plot_path is not None:
        plot(curves, T, hidden, plot_path)
        print(f"plot saved to {plot_path}")
    return curves


def plot(curves, T, hidden, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tsbptt.plotting import plot_gradient_flow

    ax = plot_gradient_flow(curves)
    ax.set_title(f"Gradient flow back in time: fresh networks, {hidden} hidden units, "
                 f"{T} steps")
    ax.figure.savefig(path, dpi=110)
    plt.close(ax.figure)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--T", type=int, default=60, help="sequence length")
    parser.add_argument("--hidden", type=int, default=32, help="hidden units")
    parser.add_argument("--plot", metavar="PATH", help="save a figure (needs matplotlib)")
    args = parser.parse_args()
    main(args.T, args.hidden, args.plot)
