"""The Forecaster's strategies: how windows are made, models fitted and forecasts run.

``'direct'``: one model reads the window ending at the origin and outputs every
horizon step at once. ``'recursive'``: a one-step model whose forecasts are fed
back as the newest row of the window. ``'stateful'``: a recurrent model trained on
each whole series (truncated BPTT) whose hidden state is carried to the origin and
then forward over its own forecasts.

:class:`_Strategies` is a mixin of :class:`tsbptt.forecasting.Forecaster`; it reads
the fitted attributes the Forecaster sets (``lags_``, ``channels_``,
``feature_names_``, ...) and works on :class:`tsbptt.forecasting._panel_scaling._Scaled`
series. Nothing here is public.
"""
import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import clone
from sklearn.utils import get_tags

from . import transforms
from ._gram import chunk_rows, fits_by_chunks, gram_of_chunks, ridge_from_gram, run_sums
from ._parts import _by_series, _joined, _stack_states
from ._sequence_diff import DifferencedSequenceModel
from ._window_model import MAX_WINDOWS, WindowModel, apply_budget, is_network
from ..estimators import RecurrentState, capabilities
from ..utils._validation import check_memory

#: Copies of the windows (float64, n_windows x lags * channels) a WindowModel's fit
#: holds at its peak: the windows, their normalised and lag-input forms, the centred
#: copies and decomposition of the leave-one-out ridges (peak RSS over one copy:
#: 9.4-9.9 with an LSTM, 100 and 60 series with series_id; a check counting 2 let a
#: 700-series fit through that died in a MemoryError at 14 GB).
WINDOW_MODEL_COPIES = 10


def _set_channels(est, n_channels):
    """Set ``n_channels`` on an estimator that declares it reads channels, and on
    every network nested in ``est`` (a VotingRegressor's members, a Pipeline's last
    step): a nested one left at 1 would read each window's channels as extra time
    steps."""
    params = est.get_params()
    keys = ["n_channels"] if capabilities(est).channels else []
    keys += [k for k in params if k.endswith("__n_channels")
             and is_network(params[k[:-len("__n_channels")]])]
    if keys:
        est.set_params(**{k: n_channels for k in keys})


def _key_order(keys):
    """The positions of ``keys`` (series ids) sorted by key, or where they do not
    compare (ints among strings), by their types' names and their reprs."""
    try:
        return np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.intp)
    except TypeError:
        return np.array(sorted(range(len(keys)), key=lambda i: (
            type(keys[i]).__name__, repr(keys[i]))), dtype=np.intp)


def _time_order(times, sample=None):
    """The windows of all series (``times``: each series' window times, one array
    per series, increasing) in time order, ties in the order of ``times``: the indices into
    their concatenation, or with ``sample`` (a function of the number of windows
    giving ranks in that order) those at the sampled ranks only.

    That is ``np.argsort(np.concatenate(times), kind='stable')[sample(n)]``. When
    every series has the same window times (an aligned panel on a regular grid:
    the same first time and count), rank ``r`` is window ``r // S`` of series ``r
    % S``, with no sort of the millions of windows.
    """
    counts = np.array([len(t) for t in times])
    n = int(counts.sum())
    ranks = np.arange(n) if sample is None else sample(n)
    if len(times) and (counts == counts[0]).all() and counts[0]:
        first = np.array([t[0] for t in times])
        if (first == first[0]).all():
            S = len(times)
            return (ranks % S) * counts[0] + ranks // S
    when = np.concatenate(times)
    grid = _grid_positions(when, times)
    order = np.argsort(when if grid is None else grid, kind="stable")
    return order if sample is None else order[ranks]


def _grid_positions(when, times):
    """``when`` (datetime64 or integer times) as 16-bit positions on one grid of the
    series' step, which sort as the times do (NumPy sorts 16-bit keys stably by
    radix, 3x faster than 64-bit times); None when some time is off that grid, the
    grid is longer than 65,536 steps or the times are not numbers."""
    if when.dtype.kind not in "iM" or not len(when):
        return None
    t = when.view(np.int64)
    step = next((int(a[1].view(np.int64) - a[0].view(np.int64)) for a in times
                 if len(a) > 1), 0)
    lo, hi = int(t.min()), int(t.max())
    if step <= 0 or (hi - lo) // step >= 2 ** 16:  # in Python ints: no overflow
        return None
    shifted = t - lo
    if (shifted % step).any():
        return None
    return (shifted // step).astype(np.uint16)


def _window_starts(lens, n_win, has, H, L, which=None):
    """Where windows start in every series' channel rows (those a window can read,
    ``n - H`` per series, one series after another) and where their targets start
    in the concatenated values: two int arrays, for the windows ``which`` (indices
    into all series' windows, one series after another; None: all of them).

    ``n_win`` windows per series of ``lens`` steps, ``has`` the series with some,
    in the order their rows and windows are laid one after another.
    """
    read, wins = lens[has] - H, n_win[has]
    row_at, y_at = np.cumsum(read) - read, (np.cumsum(lens) - lens + L)[has]
    if which is None:
        local = np.arange(wins.sum()) - np.repeat(np.cumsum(wins) - wins, wins)
        return np.repeat(row_at, wins) + local, np.repeat(y_at, wins) + local
    ends = np.cumsum(wins)
    k = np.searchsorted(ends, which, side="right")  # each window's series, in has
    local = which - (ends - wins)[k]
    return row_at[k] + local, y_at[k] + local


def _step_once(model, states, positions, rows):
    """One forecast step of ``model`` from the rows ``positions`` of ``states`` on
    ``rows`` (len(positions), C), as a forecast takes it; the result is dropped."""
    mine = [tuple(a[positions] for a in layer) for layer in states]
    if hasattr(model, "stream"):
        model.stream(RecurrentState.from_states(mine)).step(rows)
    else:
        model.predict_sequence(rows[:, None, :], mine)


def _unreadable(entry, exc):
    """The refusal of new values of ``entry`` that the model cannot read."""
    where = "y_new" if entry.key is None else f"series {entry.key!r} of y_new"
    return ValueError(f"the model cannot read the new values of {where} "
                      f"({entry.y.index[0]!r} to {entry.y.index[-1]!r}): {exc}. Nothing "
                      "was updated: correct the values, or refit with them in the "
                      "training data (the scaling is fitted there)")



#: The most standard deviations from its training mean that a stateful forecast
#: fed back may reach (in the units the model reads: the series standardised by
#: its training mean and spread). A trend carried on for dozens of times the
#: history stays inside; a forecast feeding on its own error (4e36 after 24 steps)
#: does not.
FED_BACK_LIMIT = 100.0

class _Strategies:
    """Windows, model fits and forecasts of the three strategies (a mixin)."""

    @property
    def _lead(self):
        """Steps the model forecasts at once, which is also how far ahead of its row
        a future-known channel is read."""
        return self.horizon if self.strategy == "direct" else 1

    def _new_estimator(self, n_steps=None, label=None, n_windows=None):
        est = clone(self.estimator)
        est._quiet_small_spread = True  # the Forecaster names its covariates itself
        self._member_label = f"{label or 'model fit'} ({type(est).__name__})"
        if capabilities(est).reports_progress:
            est._defer_convergence_warning = True  # one warning per Forecaster fit
            if label is not None:
                est._progress_label = self._member_label
        network = is_network(est)
        if network and self.training == "auto":
            apply_budget(est, stateful=self.strategy == "stateful", n_windows=n_windows)
        params = est.get_params()
        if self.strategy == "stateful":
            both = [k for k in ("bidirectional", "early_stopping") if params.get(k)]
            if both:
                raise ValueError("strategy='stateful' needs bidirectional=False and "
                                 "early_stopping=False (one sequence per series); got "
                                 + ", ".join(f"{k}=True" for k in both))
            if "bptt_steps" in params and params["bptt_steps"] is None:
                est.set_params(bptt_steps=min(self.lags_, n_steps))
            if params.get("per_step") == "auto":  # y is per step: say so (no warning)
                est.set_params(per_step=True)
            if (self.training == "auto" and "washout" in params and params["washout"] == 0
                    and not network):  # a reservoir: its first lags states are transient
                est.set_params(washout=min(self.lags_, n_steps // 2))
        else:
            _set_channels(est, len(self.channels_))
        if self.interval == "quantile":
            a = (1 - self.coverage) / 2
            est.set_params(loss="quantile", quantiles=(a, 0.5, 1 - a))
        diff = transforms.difference_of(transforms.check_transform(self.transform))
        if self.strategy == "stateful":
            return DifferencedSequenceModel(est) if diff else est
        linear = self.linear and network
        if (self.scaling_ != "window" and not diff and not linear and self.n_seeds == 1
                and self.max_time is None):
            return est
        window = self.scaling_ == "window"
        return WindowModel(
            est, n_channels=len(self.channels_),
            center="last" if window or diff else None, scale_windows=window,
            season=self.season_ if diff == "seasonal_diff" else None, linear=linear,
            validation_fraction=params.get("validation_fraction", 0.2)
            if params.get("early_stopping") else 0.2,
            max_windows=MAX_WINDOWS if network and self.training == "auto" else None,
            n_seeds=self.n_seeds, max_time=self.max_time)

    def _windows(self, s, origins):
        """Flattened input windows ending at ``origins``: (len(origins), lags * C)."""
        t = origins[:, None] - self.lags_ + 1 + np.arange(self.lags_)[None, :]
        rows = s.channels(t.ravel(), self._lead)
        return rows.reshape(len(origins), -1)

    def _fit_model(self, data, last, label=None):
        """Fit a new model on each series' steps up to ``last[i]`` (inclusive);
        ``label`` names the fit in the model's progress lines."""
        if self.strategy == "stateful":
            T = last[0]
            # one sequence per series, in the order of their keys (as the windows
            # below): the batches, their shuffle and a reservoir's readout sums
            # follow it, so a panel given in another order fits the same model
            order = _key_order([s.key for s in data])
            X3 = np.stack([data[i].channels(np.arange(T), 1) for i in order])
            Y = np.stack([data[i].y[1:T + 1] for i in order])
            return self._noted(self._new_estimator(T, label).fit(X3, Y))
        H, L = self._lead, self.lags_
        lens = np.array([len(s.y) for s in data])
        # windows per series (none: a series that starts after a calibration cut-off)
        n_win = np.maximum(np.asarray(last) - H - L + 2, 0)
        # the series with windows, in an order of their keys, not the caller's: the
        # windows' time order breaks its ties by it, and a network's subsample,
        # validation tail and shuffle follow that order (a panel given in another
        # order gave other forecasts)
        has = np.flatnonzero(n_win)
        has = has[_key_order([data[i].key for i in has])]
        ys = [s.y for s in data]
        est = self._new_estimator(label=label, n_windows=int(n_win.sum()))
        C = len(self.channels_)
        rows = None if C == 1 else [  # y alone: the windows are runs of the values
            data[i].channels(np.arange(lens[i] - H), H) for i in has]
        n_windows, width = int(n_win.sum()), L * C
        # the normal equations, never the whole design matrix, where they are the
        # smaller: their (p + H)^2 numbers grow past the windows' n p when p > n
        if fits_by_chunks(est) and width <= n_windows:
            check_memory([(width + H, width + H)], np.float64, 2, self._lags_in_words(),
                         "the normal equations of its windows")
            starts, y_starts = _window_starts(lens, n_win, has, H, L)
            return self._noted(self._ridge_by_chunks(est, rows, ys, starts, y_starts,
                                                     [n_win[i] for i in has], has))
        # windows gathered once in time order across series, so a model's validation
        # tail is the latest; only those a window model reads
        order = _time_order([data[i].times[L - 1:L - 1 + n_win[i]] for i in has],
                            est.sample_rows if isinstance(est, WindowModel) else None)
        starts, y_starts = _window_starts(lens, n_win, has, H, L, order)
        check_memory([(len(starts), width)], np.float64,
                     WINDOW_MODEL_COPIES if isinstance(est, WindowModel) else 2,
                     self._lags_in_words(), f"its {len(starts)} windows")
        ys = np.concatenate(ys)
        if rows is None:
            Xw = sliding_window_view(ys, L)[y_starts - L]
        else:  # strided views over all the channel rows, one series after another
            windows = sliding_window_view(np.concatenate(rows), L, axis=0)  # (-, C, L)
            Xw = windows[starts].transpose(0, 2, 1).reshape(-1, L * C)
        Y = sliding_window_view(ys, H)[y_starts]
        Xw = pd.DataFrame(Xw, columns=self.feature_names_, copy=False)
        # a window model weighs each window against its own series' (a smooth series
        # among noisy ones is not a flat window)
        by_series = {} if not isinstance(est, WindowModel) else {
            "groups": np.searchsorted(np.cumsum(lens), y_starts, side="right")}
        # one target as a column for the wrappers that take columns only
        # (MultiOutputRegressor, RegressorChain: they failed with IndexError)
        one = H == 1 and get_tags(est).target_tags.single_output
        try:
            return self._noted(est.fit(Xw, Y[:, 0] if one else Y, **by_series))
        except ValueError as exc:
            # scikit-learn's refusal of a 2D y (column_or_1d), not any other error
            if (H == 1 or get_tags(self.estimator).target_tags.multi_output
                    or "1d array" not in str(exc)):
                raise
            name = type(self.estimator).__name__
            raise ValueError(
                f"{name} fits a single target, but strategy='direct' with horizon={H} "
                f"trains {H} targets per window, one per step ({name} refused them: "
                f"{exc}). Use strategy='recursive' (a one-step {name}, its forecasts "
                f"fed back), or MultiOutputRegressor({name}(...)) (one model per "
                "step)") from exc

    def _ridge_by_chunks(self, est, rows, ys, starts, y_starts, n_win, has):
        """A plain ``Ridge`` fitted from the normal equations of the windows
        ``_fit_model`` lays out (:mod:`._gram`): ``n_win`` windows of each series
        ``has`` lists (``rows``: their channel rows)."""
        H, L, C = self._lead, self.lags_, len(self.channels_)
        # One shift of the values, not one per chunk of windows, taken from the
        # values the windows read: a calibration fit must not depend on the steps
        # after its cut-off, and a shift far from the windows' own values (an
        # outlier after the cut) cost the Gram matrix digits (_gram.py).
        read = np.concatenate([ys[i][:w + L + H - 1] for i, w in zip(has, n_win)])
        c_y = read.mean() if len(read) else 0.0
        ys = np.concatenate(ys) - c_y
        step = chunk_rows(L * C + H)
        if C == 1:  # y alone: a window and its targets are one run of L + H values
            runs = sliding_window_view(ys, L + H)
            chunks = (runs[y_starts[a:a + step] - L] for a in range(0, len(y_starts), step))
            G, _, n = gram_of_chunks(chunks, L + H, sums=False)
            s = run_sums(ys, y_starts - L, L + H)
            shift = np.full(L + H, c_y)
        else:
            c_rows = np.concatenate([r[:w + L - 1] for r, w in zip(rows, n_win)]).mean(axis=0)
            rows = np.concatenate(rows)
            windows = sliding_window_view(rows - c_rows, L, axis=0)  # (-, C, L)
            targets = sliding_window_view(ys, H)

            def chunk(a):
                b = min(a + step, len(starts))
                Z = np.empty((b - a, L * C + H))
                Z[:, :L * C] = windows[starts[a:b]].transpose(0, 2, 1).reshape(b - a, -1)
                Z[:, L * C:] = targets[y_starts[a:b]]
                return Z

            G, s, n = gram_of_chunks((chunk(a) for a in range(0, len(starts), step)),
                                     L * C + H)
            shift = np.concatenate([np.tile(c_rows, L), np.full(H, c_y)])
        return ridge_from_gram(est, G, s, n, shift, self.feature_names_, H == 1)

    def _lags_in_words(self):
        """What sets a window's width, for a memory error's message."""
        C = len(self.channels_)
        return f"lags={self.lags_}" if C == 1 else f"lags={self.lags_} with {C} channels"

    def _noted(self, model):
        """A fitted member, its deferred convergence note moved to the Forecaster's
        list; later fits of the member warn as usual again."""
        # a window model keeps the network's template (estimator) and the fitted
        # network (estimator_): neither may defer the warnings of a later fit
        members = ((model.estimator, model.estimator_)
                   if isinstance(model, (WindowModel, DifferencedSequenceModel)) else (model,))
        note = vars(members[-1]).pop("_convergence_note", None)
        notes = getattr(self, "_convergence_notes", None)
        if notes is not None:
            if note is not None:
                notes.append((None, note))
            label = getattr(self, "_member_label", None)  # this fit's, for the summary
            notes[:] = [(label if lab is None else lab, msg) for lab, msg in notes]
        for member in members:
            for hint in ("_defer_convergence_warning", "_quiet_small_spread"):
                vars(member).pop(hint, None)
        return model

    def _states_before(self, model, jobs):
        """A stateful model's states before each job's origin (after steps 0 .. o - 1
        of its series): each series is read once, in pieces between its origins."""
        per_job = [None] * len(jobs)
        for s, pos, origins in _by_series(jobs):
            states, done = None, 0
            for o, j in sorted(zip(origins.tolist(), pos.tolist())):
                if o > done:
                    piece = s.channels(np.arange(done, o), 1)[None]
                    states = model.predict_sequence(piece, states)[1]
                    done = o
                per_job[j] = states
        return _stack_states(per_job)

    def _forecast(self, model, jobs, steps, states=None):
        """Standardised forecasts of ``steps`` steps after each (series, origin) job:
        (len(jobs), steps). ``states`` (stateful) are the states before each origin."""
        if self.strategy == "direct":
            return self._direct(model, jobs, "predict").reshape(len(jobs), -1)[:, :steps]
        out = np.empty((len(jobs), steps))
        if self.strategy == "recursive":
            window = self._job_windows(jobs)
            C = len(self.channels_)
            for k in range(steps):
                out[:, k] = np.ravel(model.predict(pd.DataFrame(
                    window, columns=self.feature_names_)))
                if k + 1 < steps:  # the next row, its y the forecast just made
                    window = np.hstack([window[:, C:], self._job_rows(jobs, k + 1,
                                                                      out[:, k])])
            return out
        # stateful: the origin's own row, then the forecasts fed back one by one; a
        # tsbptt network runs them as a stream (one compiled call per step, the bits
        # of predict_sequence), another model by predict_sequence
        rows = self._job_rows(jobs, 0)
        stream = (model.stream(RecurrentState.from_states(states))
                  if hasattr(model, "stream") else None)
        for k in range(steps):
            if stream is not None:
                out[:, k] = stream.step(rows)
            else:
                pred, states = model.predict_sequence(rows[:, None, :], states)
                out[:, k] = pred[:, -1]
            # a forecast fed back can grow on itself: a stateful ESN on hourly
            # spikes reached 4e36 in 24 steps (standardised units: the series'
            # training mean and spread, the same in predict and history=)
            np.clip(out[:, k], -FED_BACK_LIMIT, FED_BACK_LIMIT, out=out[:, k])
            if k + 1 < steps:
                rows = self._job_rows(jobs, k + 1, out[:, k])
        return out

    def _job_windows(self, jobs):
        """The flattened window ending at each job's origin, in job order."""
        L = self.lags_
        if len(self.channels_) == 1 and jobs and min(o for _, o in jobs) >= L - 1:
            # y alone: each window is a slice of its series
            return np.stack([s.y[o - L + 1:o + 1] for s, o in jobs])
        out = np.empty((len(jobs), L * len(self.channels_)))
        for s, pos, origins in _by_series(jobs):
            out[pos] = self._windows(s, origins)
        return out

    def _job_rows(self, jobs, after, y=None):
        """The channel row ``after`` steps past each job's origin (one-step lead), with
        ``y`` (one value per job) in its target channel instead of the series'."""
        out = np.empty((len(jobs), len(self.channels_)))
        for s, pos, origins in _by_series(jobs):
            out[pos] = s.channels(origins + after, 1, y=None if y is None else y[pos])
        return out

    def _direct(self, model, jobs, method):
        X = pd.DataFrame(self._job_windows(jobs), columns=self.feature_names_)
        return np.asarray(getattr(model, method)(X), dtype=np.float64)

    def _carried_states(self, new):
        """``states_`` moved over the new steps of the updated series (one sequence
        each, as :meth:`_states_before` reads them).

        Every new step must be one the model can read: the steps before the last
        are read here, and the last ones are tried here, once, all series in one
        step, as the next forecast reads them (their future-known channels, not
        known yet, stand in from their own step). A value finite in float64 but not
        in a float32 network once scaled (1e39) is so refused now, by name, rather
        than by every later forecast until a refit."""
        states = [tuple(a.copy() for a in layer) for layer in self.states_]
        model = self.estimator_
        lasts, positions = [], []
        for e in new:
            i = self._positions[e.key]
            # the rows from the old origin to the step before the new one; a row reads
            # its future-known channels one step ahead, inside the new values
            part = self._scaled(_joined(self.tails_[e.key], e, len(e.y) + 1))
            rows = part.channels(np.arange(len(e.y)), 1)[None]
            mine = [tuple(a[i:i + 1] for a in layer) for layer in states]
            try:
                _, after = model.predict_sequence(rows, mine)
            except ValueError as exc:
                raise _unreadable(e, exc) from exc
            for layer, s in zip(states, after):
                for a, b in zip(layer, s):
                    a[i:i + 1] = b
            lasts.append(part.channels(np.array([len(e.y)]), 0))
            positions.append(i)
        try:
            _step_once(model, states, positions, np.vstack(lasts))
        except ValueError:  # which series: each alone (the refusal's path only)
            for e, i, last in zip(new, positions, lasts):
                try:
                    _step_once(model, states, [i], last)
                except ValueError as exc:
                    raise _unreadable(e, exc) from exc
            raise
        return states

