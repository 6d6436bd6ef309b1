"""Small parts of the Forecaster: one scaled series, conformal ranks, job grouping.

Kept apart from :mod:`tsbptt.forecasting` so that the estimator class stays
readable; nothing here is public.
"""
import threading
import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from ._panel import Entry


class _Scaled:
    """One series, scaled, with its future-known channels over ``n + n_future`` steps.

    Attributes: ``key``, ``index`` (n,), ``y`` (n,), ``past`` (n, p), ``fut``
    (n + n_future, q) and ``static`` (k,).
    """

    def __init__(self, key, index, y, past, fut, static):
        self.key, self.index, self.y = key, index, y
        self.past, self.fut, self.static = past, fut, static

    def channels(self, t, lead, y=None):
        """Channel rows for the time steps ``t`` (an int array): (len(t), C)."""
        def take(a, rows):  # a zero-width block has no rows to run out of
            return a[rows] if a.shape[1] else np.empty((len(rows), 0))

        yv = self.y[t] if y is None else y
        return np.column_stack([yv, take(self.past, t), take(self.fut, t + lead),
                                np.broadcast_to(self.static, (len(t), len(self.static)))])


def _conformal_quantile(abs_residuals, coverage):
    """Per column, the ceil((m + 1) * coverage)-th smallest of m residuals: the
    split-conformal bound (Lei et al., 2018), valid for exchangeable errors."""
    m = abs_residuals.shape[0]
    rank = int(np.ceil((m + 1) * coverage - 1e-9))  # 1e-9: 10 * 0.9 is 9, not 9.000...1
    if rank > m:
        needed = int(np.ceil(coverage / (1 - coverage) - 1e-9))
        raise ValueError(f"coverage={coverage} needs at least {needed} calibration "
                         f"windows, there are {m}: use a larger calibration fraction or "
                         "a longer series")
    return np.sort(abs_residuals, axis=0)[rank - 1]


def _names(value):
    """A parameter that names columns or features: None, one name, or several."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _by_series(jobs):
    """(series, positions in ``jobs``, origins) for each series the (series, origin)
    jobs hold, so per-series work is done once per series, not once per job."""
    groups = {}
    for j, (s, o) in enumerate(jobs):
        groups.setdefault(id(s), (s, [], []))
        groups[id(s)][1].append(j)
        groups[id(s)][2].append(o)
    return [(s, np.array(pos), np.array(origins)) for s, pos, origins in groups.values()]


def _stack_states(states_list):
    """A list of per-row states (each a list of per-layer tuples) -> one batch."""
    return [tuple(np.ascontiguousarray(np.concatenate([s[layer][j] for s in states_list]))
                  for j in range(len(states_list[0][layer])))
            for layer in range(len(states_list[0]))]


def _warn_once(notes):
    """One ConvergenceWarning for the members of a Forecaster fit that did not
    converge, from the caller's ``fit`` line.

    ``notes``: (fit label or None, message) pairs, one per warning a member gave;
    the summary counts the fits, quotes the first message and names each fit."""
    if not notes:
        return
    fits = list(dict.fromkeys(label for label, _ in notes))
    first = " ".join(notes[0][1].split())
    which = "its model fit" if len(fits) == 1 else f"{len(fits)} of its model fits"
    more = f"; {len(notes)} warnings in all" if len(notes) > len(fits) else ""
    named = [label for label in fits if label is not None]
    where = f" in {', '.join(named)}" if named else ""
    warnings.warn(f"Forecaster: {which} did not converge ({first}{more}){where}; raise "
                  "max_iter, or stop by tol or early_stopping", ConvergenceWarning,
                  stacklevel=3)


_collectors = threading.local()  # .stack: the lists collecting in this thread


class _MemberWarnings:
    """Context manager: the ConvergenceWarnings that reach display in this thread
    within it (scikit-learn members': an MLP, an ensemble's estimators) are appended
    to ``notes`` as (None, message) instead of shown; other warnings pass through.

    No ``warnings.catch_warnings``: it swaps the process-wide filters and display
    hook, so two fits in two threads could leave them swapped for good. Instead one
    pass-through hook on ``warnings.showwarning`` is put in place (again only where
    something replaced it) and never taken out; it diverts only warnings raised
    in a thread that is inside this context. The user's filters still apply first:
    an ignored warning, or a repeat the 'default' action hides, is not counted.
    """

    def __init__(self, notes):
        self.notes = notes

    def __enter__(self):
        if not getattr(warnings.showwarning, "_tsbptt_collector", False):
            warnings.showwarning = _diverting(warnings.showwarning)
        stack = getattr(_collectors, "stack", None)
        if stack is None:
            stack = _collectors.stack = []
        stack.append(self.notes)
        return self.notes

    def __exit__(self, *exc_info):
        _collectors.stack.pop()
        return False


def _diverting(show):
    """``show`` (a ``warnings.showwarning``) with this thread's ConvergenceWarnings
    diverted to the innermost :class:`_MemberWarnings` while one is active."""
    def showwarning(message, category, filename, lineno, file=None, line=None):
        stack = getattr(_collectors, "stack", None)
        if stack and issubclass(category, ConvergenceWarning):
            stack[-1].append((None, str(message)))
        else:
            show(message, category, filename, lineno, file, line)

    showwarning._tsbptt_collector = True
    return showwarning


def _joined(old, new, keep):
    """The last ``keep`` steps of entry ``old`` continued by entry ``new``."""
    y = pd.concat([old.y.iloc[-keep:], new.y.rename(old.y.name)]).iloc[-keep:]
    X = None if old.X is None else pd.concat([old.X.iloc[-keep:], new.X]).iloc[-keep:]
    return Entry(old.key, y, X, old.n_filled)
