"""torch's training step on tsbptt's weights, and the loop that times it in a process of
its own (``bench_kernels.TorchProcess``).

Run as a script, this module imports only NumPy and torch: requests come pickled on
stdin, answers go pickled to stdout as ``(ok, value)``. It imports nothing of
tsbptt, so torch's allocations and libraries are the only ones in its process.
"""
import gc
import os
import pickle
import sys
import time
import traceback
from types import SimpleNamespace

import numpy as np

GATES = {"lstm": 4, "gru": 3}
TORCH_CELLS = {"lstm": "LSTM", "gru": "GRU"}


def make_torch_step(torch, cell, layer, X):
    """torch.nn.LSTM/GRU holding the same weights as ``layer`` (docs/kernel_layout.md)."""
    F, H = layer.input_size, layer.hidden_size
    G = GATES[cell]
    mod = getattr(torch.nn, TORCH_CELLS[cell])(F, H, batch_first=True)
    W = layer.params["W"]
    bias_hh = np.zeros(G * H, np.float32)
    if cell == "gru":
        bias_hh[2 * H:] = layer.params["b_hn"]
    with torch.no_grad():
        mod.weight_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(W[:F].T)))
        mod.weight_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(W[F:F + H].T)))
        mod.bias_ih_l0.copy_(torch.from_numpy(W[F + H].copy()))
        mod.bias_hh_l0.copy_(torch.from_numpy(bias_hh))
    x = torch.from_numpy(X.copy()).requires_grad_(True)
    params = [mod.weight_ih_l0, mod.weight_hh_l0, mod.bias_ih_l0, mod.bias_hh_l0]
    B = X.shape[0]

    def step():
        out, _ = mod(x)
        loss = out[:, -1].sum() / B
        return torch.autograd.grad(loss, [x] + params)

    return step


def serve(stdin, stdout):
    """Answer requests until "stop": "version", "setup" (cell, (F, H, params), X,
    n_threads) -> one step's gradients, "timed" (n) -> ms of n steps."""
    try:
        import torch
    except ImportError:
        torch = None
    step = None
    while True:
        msg = pickle.load(stdin)
        try:
            if msg[0] == "stop":
                out = None
            elif msg[0] == "version":
                out = None if torch is None else torch.__version__
            elif msg[0] == "setup":
                cell, (F, H, params), X, n_threads = msg[1:]
                torch.set_num_threads(n_threads)
                layer = SimpleNamespace(input_size=F, hidden_size=H, params=params)
                step = make_torch_step(torch, cell, layer, X)
                out = [g.numpy().copy() for g in step()]
            else:  # "timed"
                out = []
                gc.disable()
                try:
                    for _ in range(msg[1]):
                        t0 = time.perf_counter()
                        step()
                        out.append((time.perf_counter() - t0) * 1e3)
                finally:
                    gc.enable()
            answer = (True, out)
        except Exception:  # the text goes back; the parent raises it
            answer = (False, traceback.format_exc())
        pickle.dump(answer, stdout)
        stdout.flush()
        if msg[0] == "stop":
            return


if __name__ == "__main__":
    # the pickles get the real stdout alone; anything torch prints goes to stderr
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    serve(sys.stdin.buffer, channel)
