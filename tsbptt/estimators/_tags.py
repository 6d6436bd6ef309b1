"""What an estimator can do, declared by the estimator: tsbptt's capability tags.

The layers above (the Forecaster, the window model) adapt to the estimator they
are given: a recurrent network gets a training budget and window scaling, a model
with the quantile loss can give intervals, and so on. They ask
:func:`capabilities`, never the estimator's parameter names.

The protocol: an estimator declares what it can do with a method
``__tsbptt_capabilities__(self) -> Capabilities`` (as scikit-learn's
``__sklearn_tags__``). An estimator without it (any scikit-learn regressor) can do
none of these things, and is used as a plain regressor on flat windows.
"""
from dataclasses import dataclass

__all__ = ["Capabilities", "capabilities"]


@dataclass(frozen=True)
class Capabilities:
    """The capabilities of an estimator; all False for one that declares none.

    Attributes
    ----------
    recurrent : bool
        A tsbptt recurrent network: it trains by epochs with the parameters of
        :data:`tsbptt.forecasting._window_model.BUDGET` and reads windows as
        sequences.
    channels : bool
        ``n_channels`` splits a 2D window row into (steps, features), time-major.
    quantile_loss : bool
        ``loss='quantile'`` with ``quantiles=(...)`` trains one output per level,
        and ``predict_quantiles`` returns them.
    stateful : bool
        ``predict_sequence`` runs on from given recurrent states (a long series
        fed in pieces).
    reports_progress : bool
        It takes a progress label (``_progress_label``) and can defer its
        ConvergenceWarning to its caller (``_defer_convergence_warning``).
    stream : bool
        It learns one stream online: the rows of X are consecutive observations,
        its state carried from row to row, not independent samples.
    """

    recurrent: bool = False
    channels: bool = False
    quantile_loss: bool = False
    stateful: bool = False
    reports_progress: bool = False
    stream: bool = False


def capabilities(estimator):
    """The :class:`Capabilities` that ``estimator`` declares (none if it declares none).

    Parameters
    ----------
    estimator : estimator instance

    Returns
    -------
    Capabilities
    """
    declare = getattr(estimator, "__tsbptt_capabilities__", None)
    return declare() if callable(declare) else Capabilities()
