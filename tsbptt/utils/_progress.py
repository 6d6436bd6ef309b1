"""Training progress: epoch, losses, elapsed time and time left.

Long fits show their progress on a terminal and stay quiet otherwise:

- ``verbose=0``: nothing at all.
- ``verbose=1``: one line redrawn in place (``'\\r'``), only when the stream is a
  terminal or a Jupyter notebook's output (a ``tqdm.auto`` bar there when tqdm is
  installed; else the line, which notebooks redraw too); logs and CI output stay
  clean. The line is shortened to the terminal's width (a
  wrapped line cannot be redrawn in place).
- Either way, a fit that showed progress ends with why it stopped
  (:func:`stop_reason`).
- ``verbose>=2``: one line per epoch, terminal or not (the information of
  scikit-learn's MLP ``Iteration k, loss = ...`` lines, kept for logs).
"""
import math
import shutil
import sys
import time

__all__ = ["ProgressReporter", "format_duration", "stop_reason"]


def format_duration(seconds):
    """Short human-readable duration: ``'7s'``, ``'1m05s'``, ``'1h02m'``.

    Parameters
    ----------
    seconds : float
        Non-negative; NaN or infinite gives ``'?'``.

    Returns
    -------
    str
    """
    if seconds is None or not math.isfinite(seconds):
        return "?"
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    h, rest = divmod(s, 3600)
    return f"{h}h{rest // 60:02d}m"


def stop_reason(stopped, epochs, max_iter, early_stopping=False):
    """Why a training run ended, in words.

    Parameters
    ----------
    stopped : str or None
        The last epoch record's ``stopped`` (see :func:`tsbptt.engine.train`).
    epochs : int
        Epochs run.
    max_iter : int
    early_stopping : bool, default=False
        Whether a validation tail was monitored.

    Returns
    -------
    str
    """
    if stopped == "converged":
        if early_stopping:
            return (f"stopped early after {epochs} epochs: the validation loss stopped "
                    "improving (the best weights are kept)")
        return f"converged after {epochs} epochs: the loss stopped improving by tol"
    if stopped == "non-finite":
        return (f"stopped at epoch {epochs}: the loss became NaN or infinite (the best "
                "weights so far are kept; try a lower learning rate)")
    if stopped == "interrupted":
        return f"interrupted at epoch {epochs} (the best weights so far are kept)"
    if epochs >= max_iter:
        return f"ran all {max_iter} epochs (max_iter) without converging"
    return f"stopped after {epochs} epochs"


def _isatty(stream):
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _notebook(stream):
    """Whether ``stream`` is a Jupyter kernel's output (ipykernel's OutStream)."""
    return type(stream).__module__.split(".")[0] == "ipykernel"


class ProgressReporter:
    """Report a training run epoch by epoch.

    Parameters
    ----------
    total_epochs : int
        Epochs this run may do (its ``max_iter``); early stopping may end sooner.
    verbose : int
        0: silent. 1: a single line redrawn in place, on a terminal only.
        2 or more: one line per epoch, whatever the stream.
    stream : file-like or None, default=None
        Where to write; None means ``sys.stdout`` looked up at each write (so that
        redirections made after construction, e.g. by pytest, are honoured).
    label : str, default=""
        Prefix of every line, e.g. the estimator's class name.
    clock : callable, default=time.perf_counter
        Returns seconds; replaceable for tests.
    unit : str, default="epoch"
        What is counted: ``"origin"`` for a backtest (no loss shown).

    Notes
    -----
    The epoch counter is the number of :meth:`update` calls of this run, so a warm
    start or ``partial_fit`` counts from 1 up to ``total_epochs`` again. The time
    left is the mean time per epoch so far (validation scoring included) times the
    epochs still to do.
    """

    def __init__(self, total_epochs, verbose, stream=None, label="", *,
                 clock=time.perf_counter, unit="epoch"):
        self.unit = unit
        self.total_epochs = int(total_epochs)
        self.verbose = int(verbose or 0)
        self.label = label
        self._stream = stream
        self._clock = clock
        self._start = clock()
        self._done = 0
        self._width = 0      # length of the line drawn in place (verbose=1)
        self._open = False   # a line drawn in place awaits its newline
        self._bar = None     # a tqdm bar, in a notebook with tqdm installed

    @property
    def stream(self):
        """The stream written to: the one given, else the current ``sys.stdout``."""
        return sys.stdout if self._stream is None else self._stream

    @property
    def enabled(self):
        """Whether anything is written: verbose>=2, or verbose=1 on a terminal."""
        if self.verbose <= 0:
            return False
        return self.verbose >= 2 or _isatty(self.stream) or _notebook(self.stream)

    def format(self, record, elapsed, width=None):
        """The progress line of one epoch (no ``'\\r'``, no newline).

        Parameters
        ----------
        record : dict
            The engine's epoch record: ``train_loss``, and ``val_loss`` and
            ``val_score`` when a validation set is scored (None or missing
            otherwise).
        elapsed : float
            Seconds since the run started.
        width : int or None, default=None
            At most this many characters: the label goes first, then the
            validation score, then the end of the line. None: no limit.

        Returns
        -------
        str
        """
        k, total = self._done, self.total_epochs
        parts = [f"{self.unit} {k}/{total}"]
        if self.unit == "epoch" or "train_loss" in record:
            parts.append(f"loss {_num(record.get('train_loss'))}")
        if record.get("val_loss") is not None:
            parts.append(f"val loss {_num(record['val_loss'])}")
        score = None
        if record.get("val_score") is not None:
            score = f"val score {record['val_score']:.5f}"
            parts.append(score)
        left = elapsed / k * max(total - k, 0) if k else float("nan")
        parts += [f"elapsed {format_duration(elapsed)}", f"left {format_duration(left)}"]
        line = " | ".join(parts)
        line = f"{self.label}: {line}" if self.label else line
        if width is None or len(line) <= width:
            return line
        return self._shorter(parts, score, width)

    @staticmethod
    def _shorter(parts, score, width):
        """The unlabelled line within ``width``: without the validation score if
        need be, else cut."""
        line = " | ".join(parts)
        if len(line) > width and score is not None:
            line = " | ".join(p for p in parts if p != score)
        return line[:max(width, 0)]

    def update(self, record):
        """Report one finished epoch.

        Parameters
        ----------
        record : dict
            The engine's per-epoch record (see :func:`tsbptt.engine.train`).
        """
        self._done += 1
        if not self.enabled:
            return
        width = None if self.verbose >= 2 or _notebook(self.stream) else \
            shutil.get_terminal_size().columns - 1
        line = self.format(record, self._clock() - self._start, width)
        stream = self.stream
        if self.verbose == 1 and _notebook(stream) and self._tqdm_update(line):
            return
        if self.verbose >= 2:
            stream.write(line + "\n")
        else:
            # pad with blanks to wipe the end of a longer previous line
            stream.write("\r" + line.ljust(self._width))
            self._width = len(line)
            self._open = True
        stream.flush()

    def _tqdm_update(self, line):
        """In a notebook, advance a ``tqdm.auto`` bar (a widget) when tqdm is
        installed; False when it is not, for the plain line instead."""
        if self._bar is None:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                return False
            self._bar = tqdm(total=self.total_epochs, desc=self.label or None,
                             unit=self.unit, file=self.stream, leave=True)
        # the bar counts and times; the postfix keeps the losses
        self._bar.set_postfix_str(" | ".join(p for p in line.split(" | ")[1:]
                                             if not p.startswith(("elapsed", "left"))),
                                  refresh=False)
        self._bar.update(1)
        return True

    def close(self, reason=None):
        """End the run: the line drawn in place gets its newline. Idempotent.

        Parameters
        ----------
        reason : str or None, default=None
            Why the run stopped (:func:`stop_reason`): written on a line of its own
            when progress was shown.
        """
        stream = self.stream
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._open:
            self._open = False
            stream.write("\n")
            stream.flush()
        if reason and self._done and self.enabled:
            stream.write(f"{self.label}: {reason}\n" if self.label else f"{reason}\n")
            stream.flush()

    def __call__(self, record):
        self.update(record)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _num(x):
    """A loss for display: 8 significant digits, as scikit-learn's MLP."""
    if x is None:
        return "-"
    return f"{x:.8g}"
