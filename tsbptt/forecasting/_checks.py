"""The checks every layout of a series goes through: sorted, unique labels, and
numeric, finite values; shared by the windowing helpers and the panel reader."""
import numpy as np
import pandas as pd

__all__ = ["check_numeric", "check_order"]


def check_order(index, what, labels="index labels", order="by its index", hint=""):
    """Raise unless ``index`` is unique and increasing, naming the first offender."""
    if not index.is_unique:
        dup = index[index.duplicated()][0]
        raise ValueError(f"{what} has duplicated {labels}, e.g. {dup!r}{hint}")
    if not index.is_monotonic_increasing:
        pos = int(np.flatnonzero(~(index[1:] > index[:-1]))[0]) + 1
        raise ValueError(f"{what} is not sorted {order}: {index[pos]!r} comes after "
                         f"{index[pos - 1]!r}; sort it with .sort_index() first")


def check_numeric(frame, what, finite=True, hint=""):
    """Raise unless every column of ``frame`` is numeric (not bool) and, with
    ``finite``, free of missing and infinite values; ``hint`` ends the latter."""
    for col in frame.columns:
        values = frame[col]
        if pd.api.types.is_bool_dtype(values):  # a flag (a holiday): say how to pass it
            raise ValueError(f"column {col!r} of {what} is boolean (dtype {values.dtype}); "
                             "pass it as numbers: .astype(float)")
        if not pd.api.types.is_numeric_dtype(values):
            raise ValueError(f"column {col!r} of {what} is not numeric "
                             f"(dtype {values.dtype})")
        if pd.api.types.is_complex_dtype(values):
            raise ValueError(f"column {col!r} of {what} has complex values (dtype "
                             f"{values.dtype}); pass the real part (.real), or the real "
                             "and imaginary parts as two real columns")
        if not finite:
            continue
        bad = ~np.isfinite(values.to_numpy(dtype=np.float64, na_value=np.nan))
        if bad.any():
            raise ValueError(f"column {col!r} of {what} has a missing or infinite value "
                             f"at {frame.index[np.flatnonzero(bad)[0]]!r}{hint}")
