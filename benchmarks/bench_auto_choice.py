"""AutoForecaster's selection rules, replayed from one set of cached backtests.

A rule that picks (or weights) candidates from their backtest errors costs nothing
to change once every candidate's inner backtest and test forecast are known. For
every series and rolling origin of ``bench_accuracy.py`` (same series, origins,
seed), ``--collect`` runs AutoForecaster's inner backtest of each candidate on the
training part only (its folds, as ``fit`` runs them) and fits each candidate on the
whole training part to forecast the test part; it writes one cache file per
series. The replay then applies each rule to the cached inner backtests and scores
its test forecasts: MASE relative to the better of seasonal naive and Ridge on each
series (the issue's target: within 5% on every series), and the geometric mean
relative to seasonal naive.

    python benchmarks/bench_auto_choice.py --collect --series electricity air
    python benchmarks/bench_auto_choice.py            # replay every cached series

The cache goes to ``benchmarks/results/auto_choice/`` (``--cache DIR``).
"""
import argparse
import pickle
import time
import warnings
from pathlib import Path

import numpy as np
from bench_accuracy import _origins, _series
from threadpoolctl import threadpool_limits

from tsbptt import AutoForecaster

CACHE = Path(__file__).resolve().parent / "results" / "auto_choice"


def _slug(name):
    return "".join(c if c.isalnum() else "_" for c in name.split(" (")[0])


def collect(words, seed, n_folds, cache):
    """Cache, per origin: each candidate's inner-backtest (actual, forecast) per fold
    and its forecast of the test part, fitted on the training part."""
    cache.mkdir(parents=True, exist_ok=True)
    for name, y, season, horizon in _series():
        if words and not any(w in name for w in words):
            continue
        n = _origins(len(y), horizon)
        initial = len(y) - n * horizon
        rows = []
        for k in range(n):
            cut = initial + k * horizon
            train, test = y.iloc[:cut], y.iloc[cut:cut + horizon]
            auto = AutoForecaster(horizon=horizon, season=season, random_state=seed,
                                  n_threads=1, n_folds=n_folds)
            auto._validate_params()
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                folds, _ = auto._backtest_all(train)
                inner_s = time.perf_counter() - t0
                forecasts, seconds = {}, {}
                for cand in folds:
                    t1 = time.perf_counter()
                    f = auto._candidate(cand, season, auto._lags()).fit(train)
                    forecasts[cand] = f.predict().to_numpy()
                    seconds[cand] = time.perf_counter() - t1
            rows.append({"folds": folds, "forecasts": forecasts, "actual": test.to_numpy(),
                         "seconds": seconds, "inner_seconds": inner_s})
            print(f"{name:<42} origin {k + 1}/{n}  inner {inner_s:6.1f} s  final "
                  f"{sum(seconds.values()):6.1f} s", flush=True)
        # the MASE unit: in-sample seasonal naive MAE on the first `initial` steps
        v = y.to_numpy()[:initial]
        unit = float(np.mean(np.abs(v[season:] - v[:-season])))
        with open(cache / f"{_slug(name)}.pkl", "wb") as fh:
            pickle.dump({"name": name, "season": season, "horizon": horizon,
                         "unit": unit, "rows": rows, "n_folds": n_folds}, fh)


SIMPLE = ("naive", "seasonal naive", "ridge", "lstm", "lstm global")  # simplest first


def _rules():
    """rule label -> function(origin errors, folds, horizon) -> {candidate: weight}."""
    return {
        "AutoForecaster's rule (best 3 within 1.5x)": lambda e, f, h: _library(e),
        "winner, margin 5% (before)": lambda e, f, h: _winner(f, h, np.mean),
        "winner, median score": lambda e, f, h: _winner(f, h, np.median),
        "winner, 10% trimmed score": lambda e, f, h: _winner(f, h, _trim),
        "1-SE to simpler": lambda e, f, h: _one_se(e),
        "mean of best 2": lambda e, f, h: _best(e, 2),
        "mean of best 3": lambda e, f, h: _best(e, 3),
        "median-score best 3": lambda e, f, h: _best(e, 3, np.median),
        "inverse-error weights": lambda e, f, h: _inverse(e, 99),
        "inverse-error, best 3": lambda e, f, h: _inverse(e, 3),
        "fixed snaive+ridge+lstm": lambda e, f, h: _fixed(("seasonal naive", "ridge",
                                                             "lstm")),
        "fixed ridge+lstm": lambda e, f, h: _fixed(("ridge", "lstm")),
        "fixed snaive+ridge": lambda e, f, h: _fixed(("seasonal naive", "ridge")),
        "best 3 within 1.1x": lambda e, f, h: _within(e, 3, 1.1),
        "best 3 within 1.2x": lambda e, f, h: _within(e, 3, 1.2),
        "best 3 within 1.5x": lambda e, f, h: _within(e, 3, 1.5),
        "gated 5%, best 3 within 1.2x": lambda e, f, h: _within(e, 3, 1.2, 0.05),
        "gated 0%, best 3 within 1.2x": lambda e, f, h: _within(e, 3, 1.2, 0.0),
        "gated 5% most folds, 3 in 1.2x": lambda e, f, h: _within(e, 3, 1.2, 0.05, True),
        "gated 5%, best 3 within 1.5x": lambda e, f, h: _within(e, 3, 1.5, 0.05),
        "gated 0%, best 3 within 1.5x": lambda e, f, h: _within(e, 3, 1.5, 0.0),
        "gated 5%, best 3 within 2x": lambda e, f, h: _within(e, 3, 2.0, 0.05),
        "best 3 within 2x": lambda e, f, h: _within(e, 3, 2.0),
    }


def _library(err):
    """The rule of this version's AutoForecaster (its defaults), on the cached scores."""
    auto = AutoForecaster()
    auto.scores_ = {c: float(np.mean(np.concatenate(v))) for c, v in err.items()}
    members = auto._choose()
    return {c: 1 / len(members) for c in members}


def _trim(x):
    x = np.sort(x)
    cut = int(0.1 * len(x))
    return float(np.mean(x[cut:len(x) - cut]))


def _winner(folds, horizon, stat):
    """The rule before: best baseline or combination vs best network by a margin."""
    pairs = [("seasonal naive", "ridge"), ("ridge", "lstm"), ("seasonal naive", "lstm")]
    comb = dict(folds)
    for a, b in pairs:
        comb[a + " + " + b] = [(x, (fa + fb) / 2) for (x, fa), (_, fb)
                               in zip(folds[a], folds[b])]
    per = {k: [np.abs(a - f).reshape(-1, horizon).mean(1) for a, f in v]
           for k, v in comb.items()}
    score = {k: stat(np.concatenate(v)) for k, v in per.items()}
    fold = {k: [np.mean(x) for x in v] for k, v in per.items()}
    nets = {k: v for k, v in score.items() if "lstm" in k}
    base = {k: v for k, v in score.items() if "lstm" not in k}
    bb, bn = min(base, key=base.get), min(nets, key=nets.get)
    pick = bb
    if nets[bn] < 0.95 * base[bb] and 2 * np.sum(np.less(fold[bn], fold[bb])) > len(fold[bb]):
        pick = bn
    parts = pick.split(" + ")
    return {p: 1 / len(parts) for p in parts}


def _one_se(err):
    allv = {k: np.concatenate(v) for k, v in err.items()}
    best = min(allv, key=lambda k: allv[k].mean())
    se = allv[best].std(ddof=1) / np.sqrt(len(allv[best]))
    for k in SIMPLE:
        if k in allv and allv[k].mean() <= allv[best].mean() + se:
            return {k: 1.0}
    return {best: 1.0}


def _best(err, k, stat=np.mean):
    score = {c: stat(np.concatenate(v)) for c, v in err.items()}
    top = sorted(score, key=score.get)[:k]
    return {c: 1 / len(top) for c in top}


def _inverse(err, k):
    score = {c: np.mean(np.concatenate(v)) for c, v in err.items()}
    top = sorted(score, key=score.get)[:k]
    w = {c: 1 / score[c] for c in top}
    total = sum(w.values())
    return {c: v / total for c, v in w.items()}


def _fixed(members):
    return {c: 1 / len(members) for c in members}


def _within(err, k, ratio, margin=None, folds=False):
    """Mean of the best k whose error is within ``ratio`` of the best; with
    ``margin``, a network is admitted only if it beats the best baseline by it
    (and, with ``folds``, on most folds)."""
    score = {c: np.mean(np.concatenate(v)) for c, v in err.items()}
    if margin is not None:
        bb = min((c for c in score if not _is_net(c)), key=score.get)
        fold = {c: [np.mean(x) for x in v] for c, v in err.items()}

        def ok(c):
            if not _is_net(c):
                return True
            wins = 2 * np.sum(np.less(fold[c], fold[bb])) > len(fold[c])
            return score[c] < (1 - margin) * score[bb] and (wins or not folds)
        score = {c: v for c, v in score.items() if ok(c)}
    best = min(score.values())
    top = sorted((c for c in score if score[c] <= ratio * best), key=score.get)[:k]
    return {c: 1 / len(top) for c in top}


def replay(cache, only=None):
    files = sorted(cache.glob("*.pkl"))
    results = {}
    for path in files:
        with open(path, "rb") as fh:
            data = pickle.load(fh)
        if only and not any(w in data["name"] for w in only):
            continue
        h = data["horizon"]
        res = {}
        for label, rule in {"naive": None, "ridge": None, "lstm": None,
                            **_rules()}.items():
            err = []
            for row in data["rows"]:
                if rule is None:
                    fc = row["forecasts"]["seasonal naive" if label == "naive" else label]
                else:
                    per = {c: [np.abs(a - f).reshape(-1, h).mean(1) for a, f in v]
                           for c, v in row["folds"].items()}
                    w = rule(per, row["folds"], h)
                    fc = sum(wt * row["forecasts"][c] for c, wt in w.items())
                err.append(np.abs(row["actual"] - fc))
            res[label] = float(np.mean(np.concatenate(err))) / data["unit"]
        results[data["name"]] = res
    _print(results)
    return results


def _is_net(name):
    return name.startswith(("lstm", "gru"))


def _print(results):
    if not results:
        print("no cached series: run with --collect first")
        return
    labels = list(next(iter(results.values())))
    width = max(len(x) for x in labels)
    print(f"{'rule':<{width}} " + " ".join(f"{s.split(' (')[0][:11]:>11}" for s in results)
          + "   gmean  worst vs best baseline")
    for label in labels:
        rel_naive = [r[label] / r["naive"] for r in results.values()]
        rel_best = [r[label] / min(r["naive"], r["ridge"]) for r in results.values()]
        print(f"{label:<{width}} " + " ".join(f"{r[label]:11.3f}" for r in results.values())
              + f"   {np.exp(np.mean(np.log(rel_naive))):.3f}  {max(rel_best) - 1:+.1%}"
              + f" ({sum(x > 1.05 for x in rel_best)} over 5%)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collect", action="store_true")
    parser.add_argument("--series", nargs="+", metavar="WORD")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args()
    if args.collect:
        with threadpool_limits(1):
            collect(args.series, args.seed, args.folds, args.cache)
    replay(args.cache, args.series)


if __name__ == "__main__":
    main()
