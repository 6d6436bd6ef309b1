"""Small parts of the Forecaster: names, job grouping, states, warnings.

Kept apart from :mod:`tsbptt.forecasting` so that the estimator class stays
readable; nothing here is public.
"""
import threading
import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from ..utils._validation import is_quieted, user_stacklevel
from ._panel import Entry






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


def _warn_once(notes, budgeted=False, said=None):
    """One ConvergenceWarning for the members of a Forecaster fit that did not
    converge, from the caller's ``fit`` line.

    ``notes``: (fit label or None, message) pairs, one per warning a member gave;
    the summary counts the fits, quotes the first message and names each fit.
    ``budgeted``: ``training='auto'`` set the members' epochs and early stopping,
    so the advice is the way out of that budget, not max_iter (replaced by it).
    ``said``: (who, advice) in place of the Forecaster's own, for a forecaster fitted
    by another object whose parameters the advice must name (AutoForecaster)."""
    if not notes or is_quieted("convergence"):
        return
    fits = list(dict.fromkeys(label for label, _ in notes))
    first = " ".join(notes[0][1].split())
    which = "its model fit" if len(fits) == 1 else f"{len(fits)} of its model fits"
    more = f"; {len(notes)} warnings in all" if len(notes) > len(fits) else ""
    named = [label for label in fits if label is not None]
    where = f" in {', '.join(named)}" if named else ""
    advice = ("training='auto' set its epochs (at most 40, the forecasting budget, "
              "in place of max_iter's default): to train longer, pass "
              "training='as_given' with the network's own max_iter" if budgeted else
              "raise max_iter, or stop by tol or early_stopping")
    who = "Forecaster"
    if said is not None:
        who, advice = said
    warnings.warn(f"{who}: {which} did not converge ({first}{more}){where}; "
                  f"{advice}", ConvergenceWarning, stacklevel=user_stacklevel())


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


def _kept(entry, keep):
    """A copy of the last ``keep`` steps of ``entry``: what a fitted forecaster keeps
    of a series (and what its file holds). It kept the caller's own objects, so an
    edit of them after fit changed its forecasts."""
    X = None if entry.X is None else entry.X.iloc[-keep:].copy()
    return Entry(entry.key, entry.y.iloc[-keep:].copy(), X, entry.n_filled)


def _joined(old, new, keep):
    """The last ``keep`` steps of entry ``old`` continued by entry ``new``."""
    # values and labels joined apart: pd.concat per series took 0.7 ms
    y = pd.Series(np.concatenate([old.y.to_numpy(), new.y.to_numpy()])[-keep:],
                  index=old.y.index.append(new.y.index)[-keep:], name=old.y.name)
    X = None if old.X is None else pd.concat([old.X.iloc[-keep:], new.X]).iloc[-keep:]
    return Entry(old.key, y, X, old.n_filled)
