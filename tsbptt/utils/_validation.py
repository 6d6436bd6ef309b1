"""The input checks that every entry point shares.

Each check raises a ``ValueError`` (or ``TypeError`` for a wrong kind of object)
that names the argument and shows the bad value, before any work starts, so that
the estimators, the forecasting layer, the model files and the command line
refuse bad input with the same words. scikit-learn's helpers (``check_array``,
``validate_data``, the parameter constraints) do the rest; these cover what they
do not: complex values hidden in targets or pandas columns, integers that are
also booleans, windows longer than the series, and scaling statistics that
overflow.
"""
import contextlib
import contextvars
import functools
import math
import os
import sys
import warnings
from numbers import Integral, Real

import numpy as np

__all__ = ["check_int", "check_memory", "check_positive_int", "check_real",
           "check_window_length",
           "is_positive_int", "mean_std", "refuse_bool_numbers", "reject_complex",
           "user_stacklevel"]


def check_int(name, value, minimum, maximum=None):
    """``value`` as an int in ``[minimum, maximum]``; booleans are not integers.

    Parameters
    ----------
    name : str
        The argument's name, for the message.
    value : object
    minimum : int
    maximum : int or None, default=None

    Returns
    -------
    int
    """
    if not isinstance(value, Integral) or isinstance(value, (bool, np.bool_)) \
            or value < minimum or (maximum is not None and value > maximum):
        bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise ValueError(f"{name} must be an integer {bound}, got {value!r}")
    return int(value)


def check_real(name, value, low=None, high=None, *, closed="both"):
    """``value`` as a finite float in the interval from ``low`` to ``high``;
    booleans are not numbers.

    Parameters
    ----------
    name : str
        The argument's name, for the message.
    value : object
    low, high : float or None, default=None
        The bounds; None: unbounded on that side.
    closed : {'both', 'left', 'right', 'neither'}, default='both'
        Which bounds the value may equal.

    Returns
    -------
    float
    """
    left = closed in ("both", "left")
    right = closed in ("both", "right")
    ok = (isinstance(value, Real) and not isinstance(value, (bool, np.bool_))
          and math.isfinite(value)
          and (low is None or (value >= low if left else value > low))
          and (high is None or (value <= high if right else value < high)))
    if not ok:
        lo = "" if low is None else f"{'[' if left else '('}{low}"
        hi = "" if high is None else f"{high}{']' if right else ')'}"
        bound = (f"in {lo}, {hi}" if low is not None and high is not None
                 else f"{'>=' if left else '>'} {low}" if low is not None
                 else f"{'<=' if right else '<'} {high}" if high is not None else "finite")
        raise ValueError(f"{name} must be a number {bound}, got {value!r}")
    return float(value)


def is_positive_int(value):
    """Whether ``value`` is an integer >= 1 (booleans are not integers)."""
    return (isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))
            and value >= 1)


def check_positive_int(name, value, *, allow_none=False):
    """``value`` as a positive int; the one check of "a positive integer".

    Parameters
    ----------
    name : str
        The argument's name, for the message.
    value : object
    allow_none : bool, default=False
        Let None through (an option that is off).

    Returns
    -------
    int or None

    Raises
    ------
    ValueError
        ``"{name} must be a positive integer[ or None], got {value!r}"``.
    """
    if value is None and allow_none:
        return None
    if not is_positive_int(value):
        raise ValueError(f"{name} must be a positive integer"
                         f"{' or None' if allow_none else ''}, got {value!r}")
    return int(value)


def refuse_bool_numbers(est):
    """Raise if a numeric parameter of ``est`` is a boolean.

    scikit-learn's ``Interval(Integral, ...)`` constraints accept ``True`` (a
    ``bool`` is an ``Integral``); tsbptt refuses it wherever a number is meant,
    as ``check_int`` does. Call after ``est._validate_params()``.
    """
    from sklearn.utils._param_validation import Interval

    for name, constraints in est._parameter_constraints.items():
        value = getattr(est, name, None)
        if isinstance(value, (bool, np.bool_)) \
                and not any(c in ("boolean", "verbose") for c in constraints
                            if isinstance(c, str)) \
                and any(isinstance(c, Interval) for c in constraints):
            raise ValueError(f"The {name!r} parameter of {type(est).__name__} must be "
                             f"a number, not a boolean; got {value!r}")


def reject_complex(value, name):
    """Raise if ``value`` (array-like, Series or DataFrame) holds complex numbers.

    NumPy would otherwise drop the imaginary parts with only a ComplexWarning.
    """
    dtypes = getattr(value, "dtypes", None)
    if dtypes is not None and not hasattr(value, "dtype"):  # a DataFrame
        dtypes = list(dtypes)
    else:
        dtype = getattr(value, "dtype", None)
        if dtype is None:
            try:
                dtype = np.asarray(value).dtype
            except (TypeError, ValueError):  # ragged: the caller's own checks say so
                return
        dtypes = [dtype]
    bad = [d for d in dtypes if getattr(d, "kind", None) == "c"]  # pandas' dtypes too
    if bad:
        # scikit-learn's words first: its estimator checks look for them
        raise ValueError(f"Complex data not supported: {name} has complex values (dtype "
                         f"{bad[0]}); tsbptt works on real numbers: pass the real part "
                         "(.real), or the real and imaginary parts as two real columns")


def reject_masked(value, name):
    """Raise if ``value`` is a NumPy masked array with a masked entry: NumPy and
    scikit-learn read the values behind the mask (a fill value of 9.97e36 as data)."""
    if np.ma.is_masked(value):
        first = np.unravel_index(int(np.flatnonzero(np.ma.getmaskarray(value))[0]),
                                 np.shape(value))
        raise ValueError(f"{name} has masked values (the first at {tuple(map(int, first))}); "
                         "the values behind a mask would be read as data: fill them "
                         "(.filled(...)) or leave those samples out")


def plain_label(value):
    """A label as the user wrote it, for messages: 7 and ('b', 7), not np.int64(7)."""
    if isinstance(value, tuple):
        return tuple(plain_label(v) for v in value)
    return value.item() if isinstance(value, np.generic) else value


def physical_memory():
    """This machine's physical memory in bytes, or None where it cannot be read."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return None


def check_memory(shapes, dtype, copies, what, held, hint=""):
    """Raise if ``copies`` arrays of each of ``shapes`` cannot fit in this machine's
    physical memory: a clear error before allocating, not a MemoryError during.

    Parameters
    ----------
    shapes : iterable of tuple of int
    dtype : numpy dtype
    copies : int
        How many arrays of each shape the work holds at once.
    what : str
        The setting responsible, for the message (e.g. ``"hidden_size=1000000"``).
    held : str
        What the arrays are, for the message (``"its sensitivities"``).
    hint : str, default=""
        What to change, appended to the message.
    """
    n_bytes = copies * np.dtype(dtype).itemsize * sum(math.prod(s) for s in shapes)
    total = physical_memory()
    if total is not None and n_bytes > total:
        raise ValueError(f"{what} needs {n_bytes / 2**30:.3g} GiB for {held}, more than "
                         f"this machine's {total / 2**30:.3g} GiB of memory{hint}")


def check_window_length(n_steps, lags, horizon, gap=None, what="the series",
                        lags_said=None):
    """Raise unless ``n_steps`` can hold one window of ``lags`` inputs, ``gap``
    skipped steps (None: 0, not shown) and ``horizon`` targets; cheap, so it runs
    before any allocation whose size depends on ``lags``. ``lags_said``: how the
    message names the lags (where they were chosen, not given), else
    ``lags={lags}``."""
    need = lags + (gap or 0) + horizon
    if n_steps < need:
        gap_part = "" if gap is None else f", gap={gap}"
        said = f"lags={lags}" if lags_said is None else lags_said
        raise ValueError(f"{what} has {n_steps} steps, too short for {said}"
                         f"{gap_part} and horizon={horizon} (needs at least {need})")


#: The spread below which an input column (a network's inputs, a Forecaster's
#: covariates and static features) is taken for rounding noise around 0, not
#: variation, whatever its mean: a computed zero, sin(2 pi k) over many k, say, is
#: ~1e-13 and scaled up to unit size would be noise the model reads as a signal.
#: A target has no such floor: it is what is forecast, in whatever unit.
INPUT_NOISE_FLOOR = 1e-12


class SmallSpreadWarning(UserWarning):
    """An input column (a network's input, a Forecaster's covariate or static
    feature) varies by at most :data:`INPUT_NOISE_FLOOR` and is left unscaled, taken
    for rounding noise around 0; give it in a larger unit if it is real variation,
    or filter this warning (``warnings.simplefilter("ignore", SmallSpreadWarning)``)
    where it is known noise."""


#: The messages of SmallSpreadWarning already given in this call (None: outside
#: :func:`small_spread_once`, where each is given every time).
_SMALL_SPREAD_SEEN = contextvars.ContextVar("tsbptt_small_spread_seen", default=None)


@contextlib.contextmanager
def small_spread_once(seen=None):
    """Within it, each SmallSpreadWarning message is given once: a backtest refits
    at every origin, and the same note came once an origin. ``seen``: the messages
    given so far by the caller of parallel jobs (:func:`small_spread_said`), whose
    threads share them."""
    token = None
    if _SMALL_SPREAD_SEEN.get() is None:
        token = _SMALL_SPREAD_SEEN.set(set() if seen is None else seen)
    try:
        yield
    finally:
        if token is not None:
            _SMALL_SPREAD_SEEN.reset(token)


_QUIETED = contextvars.ContextVar("tsbptt_quieted", default=frozenset())


@contextlib.contextmanager
def quieted(*kinds):
    """Within it, in this thread (context) only, tsbptt's own warnings of the named
    ``kinds`` ('convergence', 'undefined mase') are not given: the caller reads
    those results itself. ``warnings.catch_warnings`` would swap the process-wide
    filters, and two fits in two threads could leave one's 'ignore' in place for
    good, hiding every later ConvergenceWarning of the process."""
    token = _QUIETED.set(_QUIETED.get() | frozenset(kinds))
    try:
        yield
    finally:
        _QUIETED.reset(token)


def is_quieted(kind):
    """Whether warnings of ``kind`` are quieted here (:func:`quieted`)."""
    return kind in _QUIETED.get()


def quieted_kinds():
    """The kinds quieted here, for jobs sent to other threads or processes to
    quiet again (a context variable does not travel with them)."""
    return _QUIETED.get()


def small_spread_said():
    """The SmallSpreadWarning messages given so far here (a set, shared with jobs
    sent to other threads), or None outside :func:`small_spread_once`."""
    return _SMALL_SPREAD_SEEN.get()


def small_spread_once_in(func):
    """``func`` run within :func:`small_spread_once` (what refits many times)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with small_spread_once():
            return func(*args, **kwargs)
    return wrapper


def warn_small_spread(what, where):
    """Say that ``what`` (columns, named) vary by at most INPUT_NOISE_FLOOR
    (``where``: more detail, or '') in a :class:`SmallSpreadWarning`, once within
    :func:`small_spread_once`; the warning names the user's line."""
    message = (f"{what} vary by at most {INPUT_NOISE_FLOOR:g}{where}: taken for rounding "
               "noise and left unscaled; if that is real variation, give them in a "
               "larger unit")
    seen = _SMALL_SPREAD_SEEN.get()
    if seen is not None:
        if message in seen:
            return
        seen.add(message)
    warnings.warn(message, SmallSpreadWarning, stacklevel=user_stacklevel())


def below_floor(mean, std, n, floor):
    """Where a spread is left unscaled by ``floor`` alone: it varies by the relative
    bound of :func:`scale_or_unit` but is at most ``floor`` (bool ndarray, for a
    warning: tiny real variation and rounding noise around 0 look alike)."""
    std = np.asarray(std, dtype=np.float64)
    return np.atleast_1d((std > _rounding_spread(mean, n)) & (std <= floor))


def _rounding_spread(mean, n):
    """scikit-learn's bound on the spread of ``n`` equal values about ``mean`` that
    the two-pass formulas' rounding leaves: ``n * eps * |mean|``."""
    return (np.asarray(n, np.float64) * np.finfo(np.float64).eps
            * np.abs(np.asarray(mean, dtype=np.float64)))


def scale_or_unit(mean, std, n, floor=0.0):
    """``std`` (a copy) with 1 where it is the rounding of a constant, not variation.

    The bound is scikit-learn's for a constant feature (StandardScaler's): the
    error of the two-pass formulas over ``n`` values, a spread of at most
    ``n * eps * |mean|``. It is relative to the level, so a target of any unit
    that varies is scaled (an absolute 1e-12 left y in units of 1e-13 unscaled:
    a network's forecasts were noise), and so is 1e15 + v. Inputs take
    ``floor=INPUT_NOISE_FLOOR`` as well.

    Parameters
    ----------
    mean, std : float or ndarray
        Means and standard deviations, broadcast together.
    n : int or ndarray
        How many values each was computed over (broadcast with them).
    floor : float, default=0.0
        A spread at most this is constant too, whatever the mean.

    Returns
    -------
    ndarray of float64
    """
    std = np.array(std, dtype=np.float64, ndmin=1)
    bound = np.maximum(_rounding_spread(mean, n), floor)
    std[np.broadcast_to(std <= bound, std.shape)] = 1.0
    return std


def mean_std(values, weights=None):
    """Weighted mean and (population) standard deviation of the rows of ``values``.

    Finite values near the float64 limit (``1e300``) overflow the plain formulas
    (a sum of squares, even a sum) into ``inf`` or ``NaN``; for them the statistics
    are computed on the values divided by their largest magnitude and scaled back.
    Ordinary data takes the plain formulas, bit for bit.

    Parameters
    ----------
    values : ndarray of shape (n_rows,) or (n_rows, n_columns), finite
    weights : ndarray of shape (n_rows,) or None

    Returns
    -------
    mean, std : float or ndarray of shape (n_columns,)
        Non-finite only if the spread itself exceeds the float64 range.
    """
    if values.size == 0:  # no columns (or no rows): what NumPy's mean and std give
        return np.mean(values, axis=0), np.std(values, axis=0)
    with np.errstate(over="ignore", invalid="ignore"):
        mean = np.average(values, axis=0, weights=weights)
        std = np.sqrt(np.average((values - mean) ** 2, axis=0, weights=weights))
        if np.all(np.isfinite(mean)) and np.all(np.isfinite(std)):
            return mean, std
        big = np.max(np.abs(values), axis=0)
        big = np.where(big > 0, big, 1.0)
        unit = values / big
        mean = np.average(unit, axis=0, weights=weights)
        std = np.sqrt(np.average((unit - mean) ** 2, axis=0, weights=weights))
        return mean * big, std * big


def user_stacklevel():
    """The ``stacklevel`` at which the function calling ``warnings.warn`` (with
    this as its argument) names the first frame outside tsbptt and scikit-learn:
    the user's line, which a fit reaches through either's wrappers at depths that
    differ."""
    # joblib too: a job's warning named joblib's line that called it
    inside = tuple(os.path.dirname(m.__file__) + os.sep
                   for m in (sys.modules.get(name) for name in ("tsbptt", "sklearn",
                                                                "joblib")) if m)
    frame, level = sys._getframe(2), 2  # the caller of the function that warns
    # (a job in a worker thread has no user's frame: its outermost frame then)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(inside):
        frame, level = frame.f_back, level + 1
    return level
