"""A training step's arrays stay in malloc's heap (tsbptt.engine._malloc).

In a fresh process glibc hands every large freed array back to the system until the
process frees one large block; until then each training step faulted its arrays in
again (1,645 page faults a step at (64, 50, 8, 64), 60% more time). The test counts
the page faults of bare training steps in fresh processes, with and without the
settling.
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent("""
    import json, resource, sys
    import numpy as np
    import tsbptt.engine._malloc as malloc
    from tsbptt.engine import RecurrentLayer
    malloc._settled = sys.argv[1] == "unsettled"  # True: settle_malloc does nothing
    B, T, F, H = 64, 50, 8, 64
    layer = RecurrentLayer("lstm", F, H, dtype="float32", random_state=0)
    X = np.random.default_rng(0).standard_normal((B, T, F), dtype=np.float32)
    dY = np.zeros((B, T, H), np.float32)
    dY[:, -1] = 1.0 / B
    def step():
        _, _, cache = layer.forward(X, n_threads=1)
        layer.backward(cache, dY, n_threads=1)
    for _ in range(3):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(10):
        step()
    print(json.dumps((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10))
""")


def faults_per_step(mode):
    # glibc keeps fixed thresholds when any is set: drop those a Dask test may leave
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True,
                         text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_training_steps_do_not_fault_their_arrays_in_again():
    unsettled = faults_per_step("unsettled")
    if unsettled < 200:  # this allocator keeps them anyway: nothing to compare
        pytest.skip(f"malloc here keeps freed arrays by itself ({unsettled:.0f} faults "
                    "a step without settling)")
    # a (64, 50, 8, 64) step allocates ~7 MB: ~1,800 pages if all are new
    assert faults_per_step("settled") < 50, unsettled


def test_the_first_training_forward_settles_malloc_once(monkeypatch):
    import numpy as np

    import tsbptt.engine._malloc as malloc
    from tsbptt.engine import RecurrentLayer
    freed = []
    monkeypatch.setattr(malloc, "_settled", False)
    monkeypatch.setattr(malloc, "_free_one_block", freed.append)
    layer = RecurrentLayer("gru", 3, 5, dtype=np.float64, random_state=0)
    X = np.random.default_rng(1).standard_normal((4, 6, 3))
    assert freed == []
    layer.forward(X, n_threads=1)
    layer.forward(X, n_threads=1)
    assert freed == [malloc.SETTLE_BYTES] == [16 << 20]
