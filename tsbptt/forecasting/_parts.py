"""Small parts of the Forecaster: names, job grouping, states, warnings.

Kept apart from :mod:`tsbptt.forecasting` so that the estimator class stays
readable; nothing here is public.
"""
import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

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


def _warn_once(notes):
    """One ConvergenceWarning for the members of a Forecaster fit that did not
    converge (``notes``: their messages), from the caller's ``fit`` line."""
    if notes:
        first = " ".join(notes[0].split())
        which = "its model fit" if len(notes) == 1 else f"{len(notes)} of its model fits"
        warnings.warn(f"Forecaster: {which} did not converge ({first}); raise max_iter, "
                      "or stop by tol or early_stopping", ConvergenceWarning, stacklevel=3)


def _joined(old, new, keep):
    """The last ``keep`` steps of entry ``old`` continued by entry ``new``."""
    y = pd.concat([old.y.iloc[-keep:], new.y.rename(old.y.name)]).iloc[-keep:]
    X = None if old.X is None else pd.concat([old.X.iloc[-keep:], new.X]).iloc[-keep:]
    return Entry(old.key, y, X, old.n_filled)
