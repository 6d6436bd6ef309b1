"""Scaling out on Dask: 1 worker against 2 on a LocalCluster, same run.

Three measurements, each on a fresh ``LocalCluster(n_workers=W,
threads_per_worker=1, processes=True)`` for W = 1 and 2 (the start-up is not
timed), with bitwise comparisons of the results:

1. **grid search**: ``GridSearchCV`` over 16 Forecaster candidates (lags x hidden
   size x learning rate of a small GRU, 2 rolling origins) through
   ``joblib.parallel_config(backend="dask")``; ``cv_results_`` scores compared.
2. **local models**: a rolling-origin backtest of one Forecaster per series over
   100 hourly series (:func:`tsbptt.forecasting.local.backtest_series`); the
   forecasts compared.
3. **data-parallel training** (:class:`tsbptt.engine.data_parallel.DataParallel`):
   epoch time of one GRU (H=64) on N windows of T=48 steps (N=200,000 by default),
   single process vs 1 and 2 workers ('gradient' mode), and 2 workers in
   'average' mode, with each run's loss curve, bytes per round trip and the
   workers' compute per round trip.

4. **contention** (``--only contention``, not run by default): the same job (half
   the local-models block; 20 steps of the data-parallel GRU) in one plain process
   alone, then in two at once, no Dask: the CPU each takes, and so the ceiling of
   a 2-worker speed-up over one process on these cores.

Medians of ``--repeats`` runs (grid search, local models, contention); the epoch times of
``--epochs`` epochs. Every model uses one OpenMP thread (``n_threads=1``) so that
W workers use W cores; BLAS is held to one thread inside training. The machine's
load average is printed before and after: other processes share the cores.

    nice -n 10 python benchmarks/bench_dask.py                       # the issue's sizes
    nice -n 10 python benchmarks/bench_dask.py --windows 20000 --epochs 2 --repeats 3
    python benchmarks/bench_dask.py --only grid          # one target alone
    python benchmarks/bench_dask.py --only backtest
    python benchmarks/bench_dask.py --only dataparallel --epochs 2 --json dask.json

Each block ends with a ``TARGET`` line: the 2-worker speed-up in wall time and in
the busiest process's CPU time, against the issue's target (grid search and
local models >= 1.7x, #15; data-parallel >= 1.6x per epoch, #19), and whether
the results are bitwise equal (grid, backtest) or the loss curve is within
``--loss-rtol`` of the single process's (data-parallel).
"""
import argparse
import json
import os
import statistics
import time
import warnings

import numpy as np
import pandas as pd
from _common import tsbptt  # noqa: F401  (imports the installed or in-place build)
from joblib import parallel_config
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV
from threadpoolctl import threadpool_limits

from tsbptt import Forecaster, GRURegressor, RollingOrigin
from tsbptt.engine.data_parallel import DataParallel
from tsbptt.forecasting.local import backtest_series


PROFILE_WORKERS = False  # --profile-workers
STOCK_DASK = False  # --stock-dask
PIN = False  # --pin

# Dask's defaults that cost a CPU-bound cluster on few cores (measured: bench_dask.py's
# README section); --stock-dask keeps Dask's own
TUNED = {
    # the statistical profiler samples every worker thread every 10 ms: ~12% of a job
    "distributed.worker.profile.enabled": False,
    # the nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which also fixes
    # glibc's mmap threshold at 128 kB: every larger numpy temporary is mmapped and
    # its pages faulted in afresh, 30% more CPU for a small GRU's fit, 60% for H=64
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    # event-loop ticks every 20 ms, memory and system monitors: 2.5% of a core per
    # idle worker and 5.9% for the client hosting the scheduler; 0.5% and 1.1% so
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
}


def _cluster(n_workers):
    import dask
    from distributed import Client, LocalCluster

    config = {} if STOCK_DASK else dict(TUNED)
    if PROFILE_WORKERS or STOCK_DASK:
        config["distributed.worker.profile.enabled"] = PROFILE_WORKERS or STOCK_DASK
    if not STOCK_DASK:  # a nanny of an earlier cluster put it in this process's environ
        os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with dask.config.set(config):
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    client = Client(cluster)
    # a new worker imports tsbptt, scikit-learn and pandas with its first task
    # (seconds of CPU): done before any timing, like the cluster's start-up
    client.run(_warm)
    if not STOCK_DASK:
        client.run(_malloc)
    if PIN:  # worker k on core k (of the cores this process may use)
        cores = sorted(os.sched_getaffinity(0))
        for k, address in enumerate(sorted(client.scheduler_info()["workers"])):
            client.run(_pin, cores[k % len(cores)], workers=[address])
    return cluster, client


def _malloc():
    """glibc's heap kept, not trimmed, between a worker's steps: each task and actor
    call runs in a thread of its own arena, whose top glibc hands back to the system
    (madvise) once it exceeds the trim threshold, so the next step faults its
    megabytes of temporaries in afresh: 0.1 to 0.7 s of system time beside 1.3 s of
    user time for 40 steps of a 64-unit GRU on 256 windows, varying from run to run.
    The thresholds are glibc's own dynamic ceilings (32 MB mmap, 64 MB trim)."""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return None
    return libc.mallopt(-3, 32 << 20), libc.mallopt(-1, 64 << 20)  # M_MMAP_, M_TRIM_THRESHOLD


def _pin(core):
    """Every thread of this process (and the threads they start) on ``core``: the
    affinity of pid 0 would be only the calling thread's."""
    for tid in os.listdir("/proc/self/task"):
        os.sched_setaffinity(int(tid), {core})
    return core


def _warm():
    import tsbptt.engine.data_parallel  # noqa: F401
    import tsbptt.forecasting.local  # noqa: F401


def _cpu(client):
    """CPU seconds so far: of each worker process (by address) and of this one."""
    per = client.run(time.process_time)
    return [per[k] for k in sorted(per)], time.process_time()


class _Timed:
    """Wall time, and CPU time of every worker and of the client, of a block.

    ``busiest`` (the largest of those CPU times) is what the block would take on
    otherwise idle cores, one per process: on a shared machine the wall time
    measures the other loads too, the CPU time only this work (its overheads
    included: pickling, the scheduler's messages).

    The client's BLAS is held to one thread inside: with one worker joblib runs the
    jobs in the client itself (one job at a time), whose OpenBLAS otherwise took
    both cores for Ridge's products: a 1-worker baseline on two cores (6.5 s of CPU
    in 3.3 s of wall, and a "busiest CPU" ratio of 4.15x where the wall time gained
    1.68x, in a user's trial on 2026-12-05)."""

    def __init__(self, client):
        self.client = client

    def __enter__(self):
        self._limits = threadpool_limits(limits=1)
        self._cpu0, self._t0 = _cpu(self.client), time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self._t0
        self._limits.restore_original_limits()
        (w1, c1), (w0, c0) = _cpu(self.client), self._cpu0
        self.workers = [b - a for a, b in zip(w0, w1)]
        self.client_cpu = c1 - c0
        self.busiest = max(self.workers + [self.client_cpu])


def _summary(runs):
    """Medians over repeats: wall, busiest CPU, per-worker CPU, client CPU."""
    return dict(wall=statistics.median(r.wall for r in runs),
                busiest=statistics.median(r.busiest for r in runs),
                workers=[statistics.median(w) for w in zip(*(r.workers for r in runs))],
                client=statistics.median(r.client_cpu for r in runs))


def _load():
    return os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3


def _hourly(seed, n):
    rng = np.random.RandomState(seed)
    t = np.arange(n)
    v = 10 + 3 * np.sin(2 * np.pi * t / 24 + seed) + np.cumsum(0.05 * rng.randn(n))
    return pd.Series(v, index=pd.date_range("2024-01-01", periods=n, freq="h"))


def grid_search(n_workers, repeats):
    y = _hourly(0, 600)
    grid = {"lags": [12, 24, 36, 48], "estimator__hidden_size": [8, 16],
            "estimator__learning_rate": [3e-3, 1e-2]}
    est = Forecaster(GRURegressor(max_iter=15, random_state=0, n_threads=1, tol=0),
                     horizon=24, training="as_given", linear=False)
    cluster, client = _cluster(n_workers)
    runs, scores = [], None
    try:
        for _ in range(repeats):
            # pre_dispatch="all": every fit queued on the cluster at once; with
            # scikit-learn's default (2 x n_jobs ahead) each completion costs a round
            # trip through the client before the next fit starts (0.94x -> 1.29x wall)
            search = GridSearchCV(est, grid, cv=RollingOrigin(initial=552, step=24,
                                                              horizon=24), n_jobs=-1,
                                  pre_dispatch="all")
            with _Timed(client) as timed, parallel_config(backend="dask"):
                search.fit(y)
            runs.append(timed)
            timed.refit = search.refit_time_
            scores = search.cv_results_["mean_test_score"]
    finally:
        client.close()
        cluster.close()
    # the refit of the best candidate runs in the client after the search: serial
    return dict(_summary(runs), refit=statistics.median(r.refit for r in runs)), scores


def local_models(n_workers, repeats, n_series=100):
    panel = {f"s{k}": _hourly(k, 500) for k in range(n_series)}
    est = Forecaster(Ridge(), lags=24, horizon=24)
    cluster, client = _cluster(n_workers)
    runs, table = [], None
    try:
        for _ in range(repeats):
            with _Timed(client) as timed, parallel_config(backend="dask"):
                _, table = backtest_series(est, panel, initial=380, step=24, horizon=24,
                                           n_jobs=-1)
            runs.append(timed)
    finally:
        client.close()
        cluster.close()
    return _summary(runs), table


def _windows(n, T=48, seed=0):
    """``n`` windows of ``T`` steps and the next value, float32 views of one series
    (the estimator makes its one (n, T, 1) copy; 200,000 windows are 38 MB)."""
    rng = np.random.RandomState(seed)
    t = np.arange(n + T)
    s = (np.sin(2 * np.pi * t / 24) + 0.5 * np.sin(2 * np.pi * t / 168)
         + 0.1 * rng.randn(n + T)).astype(np.float32)
    w = np.lib.stride_tricks.sliding_window_view(s, T + 1)[:n]
    return w[:, :T], w[:, T]


def data_parallel(n_windows, epochs, modes=("gradient", "average")):
    X, y = _windows(n_windows)
    kw = dict(hidden_size=64, batch_size=256, max_iter=epochs, tol=0, random_state=0,
              n_threads=1, scale_inputs=False)
    rows = {}
    serial = GRURegressor(**kw).fit(X, y)
    rows["single process"] = dict(epoch_s=[h["wall_time"] for h in serial.history_],
                                  loss=serial.loss_curve_)
    runs = [(1, "gradient"), (2, "gradient")] + [(2, m) for m in modes if m != "gradient"]
    for W, mode in runs:
        cluster, client = _cluster(W)
        try:
            with _Timed(client) as timed, \
                    DataParallel(client, n_workers=W, mode=mode, sync_every=16) as dp:
                model = GRURegressor(**kw).fit(X, y)
        finally:
            client.close()
            cluster.close()
        st = dp.stats_
        rows[f"{W} worker{'s' * (W > 1)}, {mode}"] = dict(
            epoch_s=[h["wall_time"] for h in model.history_], loss=model.loss_curve_,
            cpu_busiest_per_epoch=timed.busiest / epochs,
            cpu_workers=timed.workers, cpu_client=timed.client_cpu,
            kB_per_round=(st["bytes_sent"] + st["bytes_received"]) / st["rounds"] / 1e3,
            compute_ms_per_round=1e3 * st["compute_s"] / st["rounds"] / W,
            wall_ms_per_round=1e3 * st["wall_s"] / st["rounds"], rounds=st["rounds"],
            wait_ms_per_round=1e3 * st["wait_s"] / st["rounds"], setup_s=st["setup_s"],
            update_ms_per_round=1e3 * st.get("update_s", 0.0) / st["rounds"],
            bitwise_serial=all(np.array_equal(model.params_[k], serial.params_[k])
                               for k in serial.params_))
    return rows


def _contention_job(kind):
    """The work of one process in the contention check: a Ridge backtest of 50
    series (half the local-models block), or 20 steps of the data-parallel GRU."""
    if kind == "backtest":
        panel = {f"s{k}": _hourly(k, 500) for k in range(50)}
        est = Forecaster(Ridge(), lags=24, horizon=24)
        return lambda: backtest_series(est, panel, initial=380, step=24, horizon=24,
                                       n_jobs=1)
    X, y = _windows(20 * 256)
    est = GRURegressor(hidden_size=64, batch_size=256, max_iter=1, tol=0, random_state=0,
                       n_threads=1, scale_inputs=False, shuffle=False)
    return lambda: est.fit(X, y)


def _contention_child(kind, barrier, out):
    warnings.filterwarnings("ignore")
    job = _contention_job(kind)
    job()  # imports, first use of each code path
    barrier.wait()
    t0 = time.process_time()
    job()
    out.put(time.process_time() - t0)


def contention(repeats, kinds=("backtest", "gru")):
    """The same job in one process alone, then in two processes at once (no Dask):
    the CPU time each takes. Two busy processes share the machine's caches, memory
    bandwidth and (on a VM) perhaps a physical core; the ratio bounds what two Dask
    workers can gain over one process on the same cores, whatever Dask does."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    out = {}
    for kind in kinds:
        alone, pair = [], []
        for _ in range(repeats):
            for n, into in ((1, alone), (2, pair)):
                barrier, results = ctx.Barrier(n + 1), ctx.Queue()
                procs = [ctx.Process(target=_contention_child, args=(kind, barrier, results))
                         for _ in range(n)]
                for proc in procs:
                    proc.start()
                barrier.wait()
                into.extend(results.get() for _ in procs)
                for proc in procs:
                    proc.join()
        a, b = statistics.median(alone), statistics.median(pair)
        out[kind] = dict(alone=alone, pair=pair, ratio=b / a, ceiling=2 * a / b)
        print(f"contention, {kind}: CPU s of one process alone {a:.3f} (median of "
              f"{len(alone)}), of each of two at once {b:.3f} ({b / a:.2f}x): two "
              f"workers' wall speed-up over one process is bounded near {2 * a / b:.2f}x "
              f"on these cores; load average now {_load()[0]:.1f}")
    return out


def _target(name, wall, cpu, target, ok_name, ok):
    print(f"TARGET {name}: 2 workers vs 1: wall {wall:.2f}x, busiest CPU {cpu:.2f}x "
          f"(target >= {target}x: wall {'met' if wall >= target else 'NOT met'}, CPU "
          f"{'met' if cpu >= target else 'NOT met'}); {ok_name}: {ok}; load average now "
          f"{_load()[0]:.1f} on {os.cpu_count()} cores")


def _compare(name, r1, r2, bitwise, target):
    out = dict(one=r1, two=r2, wall_speedup=r1["wall"] / r2["wall"],
               cpu_speedup=r1["busiest"] / r2["busiest"], bitwise=bitwise, target=target)
    print(f"{name}: wall 1 worker {r1['wall']:.2f} s, 2 workers {r2['wall']:.2f} s "
          f"({out['wall_speedup']:.2f}x); busiest process CPU {r1['busiest']:.2f} s vs "
          f"{r2['busiest']:.2f} s ({out['cpu_speedup']:.2f}x; workers "
          f"{' + '.join(f'{w:.2f}' for w in r2['workers'])} s, client {r2['client']:.2f} s);"
          f" results bitwise equal: {bitwise}"
          + (f"; the final refit in the client (serial) {r1['refit']:.2f} s vs "
             f"{r2['refit']:.2f} s" if "refit" in r1 else ""))
    _target(name.split(",")[0], out["wall_speedup"], out["cpu_speedup"], target,
            "results bitwise equal", bitwise)
    return out


ALIASES = {"grid": "grid", "backtest": "backtest", "local": "backtest",
           "dataparallel": "dataparallel", "dp": "dataparallel",
           "contention": "contention"}


def _report_dp(rows, a):
    print(f"data-parallel GRU H=64, {a.windows} windows of T=48, batch 256, "
          f"{a.epochs} epochs (median epoch s | loss per epoch)")
    base = rows["1 worker, gradient"]
    base_epoch = statistics.median(base["epoch_s"])
    for name, r in rows.items():
        med = statistics.median(r["epoch_s"])
        extra = ""
        if "rounds" in r:
            extra += (f" | busiest CPU {r['cpu_busiest_per_epoch']:.2f} s/epoch (workers "
                      + " + ".join(f"{w:.1f}" for w in r["cpu_workers"])
                      + f" s, client {r['cpu_client']:.1f} s)")
            extra += (f" | {r['kB_per_round']:.0f} kB/round, compute "
                      f"{r['compute_ms_per_round']:.1f} ms/round/worker, wall "
                      f"{r['wall_ms_per_round']:.1f} ms/round (waiting beyond the "
                      f"slowest worker {r['wait_ms_per_round']:.1f}; combining and "
                      f"updating {r['update_ms_per_round']:.2f}), set-up "
                      f"{r['setup_s']:.1f} s (in epoch 1), vs 1 worker "
                      f"{base_epoch / med:.2f}x, bitwise single process: "
                      f"{r['bitwise_serial']}")
        print(f"  {name:22s} {med:8.2f} s | "
              + " ".join(f"{v:.5f}" for v in r["loss"]) + extra)
    serial, two = rows["single process"]["loss"], rows["2 workers, gradient"]["loss"]
    gap = max(abs(u - v) / abs(u) for u, v in zip(serial, two))
    wall = base_epoch / statistics.median(rows["2 workers, gradient"]["epoch_s"])
    cpu = base["cpu_busiest_per_epoch"] / rows["2 workers, gradient"]["cpu_busiest_per_epoch"]
    _target("data-parallel, gradient mode", wall, cpu, 1.6,
            f"loss curve within {a.loss_rtol:g} (relative) of the single process's",
            f"{gap <= a.loss_rtol} (largest gap {gap:.2%})")
    return dict(rows=rows, wall_speedup=wall, cpu_speedup=cpu, loss_gap=gap, target=1.6)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="+", default=["grid", "backtest", "dataparallel"],
                   choices=sorted(ALIASES),
                   help="which targets to run (local = backtest, dp = dataparallel; "
                        "contention: the same job in 1 and 2 plain processes, no Dask, "
                        "not run unless named)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--windows", type=int, default=200_000)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--modes", nargs="+", default=["gradient", "average"],
                   choices=["gradient", "average"],
                   help="data-parallel modes run on 2 workers (1 worker: gradient)")
    p.add_argument("--loss-rtol", type=float, default=0.02,
                   help="data-parallel: the largest relative gap per epoch between the "
                        "2-worker and the single-process loss curves counted as noise")
    p.add_argument("--profile-workers", action="store_true",
                   help="keep Dask's statistical profiler on in the workers (off by "
                        "default: it costs CPU in every job)")
    p.add_argument("--stock-dask", action="store_true",
                   help="start the clusters with Dask's default configuration (see TUNED: "
                        "the profiler, the nanny's MALLOC_TRIM_THRESHOLD_, the monitors)")
    p.add_argument("--pin", action="store_true",
                   help="pin worker k to core k (sched_setaffinity)")
    p.add_argument("--json", default=None)
    a = p.parse_args()
    global PROFILE_WORKERS, STOCK_DASK, PIN
    PROFILE_WORKERS, STOCK_DASK, PIN = a.profile_workers, a.stock_dask, a.pin
    only = {ALIASES[o] for o in a.only}
    warnings.filterwarnings("ignore", category=Warning, module="sklearn")
    warnings.filterwarnings("ignore", message=".*converge.*")
    out = {"load_before": _load(), "cores": os.cpu_count(),
           "profile_workers": a.profile_workers, "stock_dask": a.stock_dask, "pin": a.pin}
    print(f"load average before: {out['load_before']}, cores: {out['cores']}")
    if "grid" in only:
        (r1, s1), (r2, s2) = grid_search(1, a.repeats), grid_search(2, a.repeats)
        out["grid"] = _compare("grid search, 16 candidates x 2 origins", r1, r2,
                               bool(np.array_equal(s1, s2)), 1.7)
    if "backtest" in only:
        (r1, f1), (r2, f2) = local_models(1, a.repeats), local_models(2, a.repeats)
        out["backtest"] = _compare("local models, backtest of 100 series", r1, r2,
                                   bool(f1.equals(f2)), 1.7)
    if "contention" in only:
        out["contention"] = contention(a.repeats)
    if "dataparallel" in only:
        out["dataparallel"] = _report_dp(data_parallel(a.windows, a.epochs, a.modes), a)
    out["load_after"] = _load()
    print(f"load average after: {out['load_after']}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(out, fh, indent=1, default=float)


if __name__ == "__main__":
    main()
