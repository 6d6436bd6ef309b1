"""The checks every layout of a series goes through: sorted, unique labels, and
numeric, finite values; shared by the windowing helpers, the panel reader, the
metrics and the returns."""
from numbers import Real

import numpy as np
import pandas as pd

__all__ = ["check_numeric", "check_order", "real_numbers", "rows_by_series"]


def check_order(index, what, labels="index labels", order="by its index", hint="",
                sort="sort it with .sort_index() first"):
    """Raise unless ``index`` is unique and increasing, naming the first offender
    (``hint`` ends the message on repeated labels, ``sort`` the one on disorder)."""
    if not index.is_unique:
        dup = index[index.duplicated()][0]
        raise ValueError(f"{what} has duplicated {labels}, e.g. {dup!r}{hint}")
    if not index.is_monotonic_increasing:
        pos = int(np.flatnonzero(~(index[1:] > index[:-1]))[0]) + 1
        raise ValueError(f"{what} is not sorted {order}: {index[pos]!r} comes after "
                         f"{index[pos - 1]!r}; {sort}")


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
                             f"(dtype {values.dtype}){_first_text(values)}")
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


def _first_text(values):
    """Where a column of objects first holds what is no number: ``": 'n/a' at
    ('s03', Timestamp(...))"``, the row's label (a panel's names its series), or
    nothing where every value reads as a number."""
    numbers = pd.to_numeric(values, errors="coerce")
    bad = np.flatnonzero(numbers.isna().to_numpy() & values.notna().to_numpy())
    if not len(bad):
        return ""
    return f": {values.iloc[bad[0]]!r} at {values.index[bad[0]]!r}"


def real_numbers(values, name):
    """``values`` (a Series, a DataFrame or an array-like) as a float64 ndarray of
    its shape, missing values NaN; refused unless it holds real numbers: numeric
    dtypes but bool and complex, or objects that are numbers or missing. A plain
    conversion to float would read True as 1.0 and "101" as 101.0, so the objects
    are read before it, as they are."""
    dtypes = (list(values.dtypes) if isinstance(values, pd.DataFrame) else [values.dtype]
              if isinstance(values, pd.Series) else [np.asarray(values).dtype])
    for dtype in dtypes:
        if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_complex_dtype(dtype) or not (
                pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_object_dtype(dtype)):
            raise ValueError(f"{name} must be numbers, got dtype {dtype}; convert them "
                             "first (.astype(float))")
    if any(pd.api.types.is_object_dtype(d) for d in dtypes):
        raw = (values.to_numpy() if isinstance(values, (pd.Series, pd.DataFrame))
               else np.asarray(values))
        for v in np.asarray(raw, dtype=object).ravel():
            if isinstance(v, (bool, np.bool_)) or not (
                    v is None or v is pd.NA or isinstance(v, Real)):
                raise ValueError(f"{name} must be numbers, got {v!r}; convert them "
                                 "first (.astype(float))")
    if isinstance(values, (pd.Series, pd.DataFrame)):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(values, dtype=np.float64)


def rows_by_series(index):
    """The series of a long index (a MultiIndex (id, ..., time)): ``(ids, rows)``,
    ``rows[k]`` the positions of series ``ids[k]``'s rows in row order, the ids in
    order of first appearance (a missing id one of them), from one stable sort."""
    codes, ids = pd.factorize(index.droplevel(-1), use_na_sentinel=False)
    if not len(ids):
        return ids, []
    order = np.argsort(codes, kind="stable")
    return ids, np.split(order, np.cumsum(np.bincount(codes, minlength=len(ids)))[:-1])
