"""Docstring pieces the six estimators share, filled in by :func:`fill_doc`.

Each estimator's docstring is written out in its class; the ~30 parameters that
every estimator has are described once here, so that a change to one of them is
made in one place and ``help(LSTMRegressor)`` still shows every parameter.
"""

import re

__all__ = ["fill_doc"]

COMMON_PARAMETERS = """\
num_layers : int, default=1
    Number of stacked recurrent layers; each layer's outputs are the next
    layer's inputs. Ignored (must be 1 or ``len(hidden_size)``) when
    ``hidden_size`` is a tuple.
bidirectional : bool, default=False
    Run each layer forward and backward in time and concatenate the two.
    Not with truncated BPTT (``bptt_steps``), ``checkpoint_every`` or the
    streaming methods, which need the past only.
dropout : float, default=0.0
    Inverted dropout, in [0, 1), on the outputs of every recurrent layer but
    the last and on the dense head's input, during training only.
optimizer : {'adam', 'adamw', 'sgd', 'rmsprop', 'adagrad', 'adadelta'}, \
default='adam'
    The update rule, with PyTorch's formulas (``torch.optim``).
learning_rate : float, default=0.001
    The step size, > 0: what MLPRegressor calls ``learning_rate_init`` and
    PyTorch ``lr``. It is constant; there is no schedule (MLPRegressor's
    ``learning_rate`` names its schedule, a different thing).
momentum : float, default=0.9
    Momentum of 'sgd' and 'rmsprop', in [0, 1); ignored by the others.
nesterov : bool, default=False
    Nesterov momentum for 'sgd'; ignored by the others.
batch_size : int, default=32
    Sequences per minibatch (the last one of an epoch may be smaller).
max_iter : int, default=200
    Most epochs (passes over the training sequences) that ``fit`` runs.
tol : float, default=1e-4
    An epoch improves when its loss (the validation loss with
    ``early_stopping``) is below the best so far by more than ``tol``; after
    ``n_iter_no_change`` epochs without improvement training stops. With
    ``tol=0`` and no early stopping, every one of ``max_iter`` epochs runs.
n_iter_no_change : int, default=10
    Epochs without improvement (see ``tol``) before training stops.
early_stopping : bool, default=False
    Hold out the last ``validation_fraction`` of the samples, in time order,
    score them after every epoch and keep the weights of the epoch with the
    lowest validation loss. Each ``fit`` call keeps the best of its own epochs:
    a warm start's validation tail is that of its own data, not comparable with
    an earlier call's.
validation_fraction : float, default=0.1
    The share of the samples, in (0, 1), that ``early_stopping`` holds out.
validation_gap : int, default=0
    Samples dropped between the training part and the validation tail, so
    that overlapping windows cannot leak validation targets into training.
bptt_steps : int or None, default=None
    k2 of truncated BPTT: gradients flow back at most this many steps. None
    backpropagates through every step of each sequence (full BPTT).
bptt_stride : int or None, default=None
    k1 of truncated BPTT: the weights are updated every ``bptt_stride``
    steps, through the last ``bptt_steps`` steps (1 <= k1 <= k2). None is
    ``bptt_steps`` (disjoint windows). Needs ``bptt_steps``. With one target
    per sequence only the last window has a loss, so the stride changes
    nothing but the number of forward passes; it matters with per-step targets.
clip_norm : float or None, default=None
    Scale the gradients down so that their global L2 norm is at most this
    (PyTorch's ``clip_grad_norm_``). None: no clipping.
clip_value : float or None, default=None
    Clip every gradient entry to [-clip_value, clip_value] (PyTorch's
    ``clip_grad_value_``). None: no clipping.
clip_step : float or None, default=None
    Clip dL/dh_t element-wise to [-clip_step, clip_step] at every time step
    before it flows further back (exploding gradients inside the sequence).
    None: no clipping.
weight_decay : float, default=0.0
    L2 penalty added to the gradients of the weights (not the biases),
    ``g + weight_decay * w``; decoupled from the gradient for 'adamw', as in
    PyTorch. MLPRegressor's ``alpha`` plays this part.
l1 : float, default=0.0
    L1 penalty: ``l1 * sign(w)`` added to the gradients of the weights.
checkpoint_every : int or None, default=None
    Gradient checkpointing: keep the recurrent states only every this many
    steps and recompute the rest in the backward pass, trading compute for
    memory (memory for ~sqrt(T) steps with ``checkpoint_every`` ~ sqrt(T)).
    The gradients are those without checkpointing: bitwise when it is a
    multiple of 16 (the kernels sum weight gradients in blocks of 16 steps),
    equal up to rounding otherwise. With ``dropout`` between layers
    (``num_layers`` >= 2) the masks are drawn piece by piece, so a checkpointed
    fit draws other masks: exact gradients of another, equally valid draw, not
    the same fit. None keeps every step.
n_channels : int, default=1
    For 2D X only: each row holds ``n_timesteps * n_channels`` values,
    time-major (column ``t * n_channels + c``), split into that many features
    per step. Ignored for 3D X and lists.
per_step : {'auto', True, False}, default='auto'
    Whether ``y`` holds one target per time step (sequence labelling) rather
    than one per sequence. ``'auto'`` reads it from the shapes: with 3D X a y
    of shape (n_samples, n_timesteps[, n_outputs]), with a list X a list of
    targets as long as their sequences. A regressor's 2D y as wide as X has
    time steps is then ambiguous (as many outputs per sequence?): ``'auto'``
    reads it per step and warns; say which with True or False.
scale_inputs : bool, default=True
    Standardise every input feature with the mean and standard deviation of
    the training data (weighted by ``sample_weight``).
shuffle : bool, default=True
    Shuffle the training sequences before every epoch (the order of the time
    steps inside a sequence is never changed).
n_threads : int or None, default=None
    OpenMP threads of the kernels. None uses what the OpenMP runtime allows
    (``OMP_NUM_THREADS``, threadpoolctl limits), at most the available cores;
    ``-k`` uses all cores but ``k - 1``. Results are bitwise the same for any
    value.
dtype : {'float32', 'float64'}, default='float32'
    Precision of the weights and of the computation.
random_state : int, RandomState instance or None, default=None
    Seeds the initial weights, the shuffling and the dropout masks. The same
    int gives bitwise identical weights and predictions, any thread count.
verbose : int, default=0
    0: silent; 1: one progress line redrawn in place on a terminal or
    notebook; 2 or more: one line per epoch.
warm_start : bool, default=False
    ``fit`` continues from the current weights (and scaling) and the
    optimizer's moments instead of starting afresh; ``max_iter`` more epochs
    run. A new ``learning_rate`` applies from the next epoch; a changed
    ``optimizer``, ``weight_decay``, ``l1``, ``momentum`` or ``nesterov``
    starts a new optimizer with them (as does ``partial_fit``); a changed
    network shape is refused."""

COMMON_ATTRIBUTES = """\
network_ : tsbptt.engine.network.Network
    The trained network: recurrent layers and a dense head.
params_ : dict of str to ndarray
    The learned weights, by name (the live arrays of ``network_``: edited in place,
    they change what ``predict`` and ``predict_sequence`` return; streams and
    ``predict_step`` read copies made after each fit, see ``stream``).
n_features_in_ : int
    Number of features seen during ``fit`` (the width of 2D X).
feature_names_in_ : ndarray of shape (n_features_in_,)
    Names of the features seen during ``fit``; only for a DataFrame X whose
    column names are all strings.
input_kind_ : {'2d', '3d', 'list'}
    The form of X at ``fit``; ``predict`` expects the same form.
n_channels_ : int
    ``n_channels`` at ``fit``.
dtype_ : str
    ``dtype`` at ``fit``.
per_step_ : bool
    Whether targets were given at every step (sequence labelling).
input_mean_, input_scale_ : ndarray of shape (n_input_features,)
    The input standardisation (0 and 1 with ``scale_inputs=False``).
n_iter_ : int
    Epochs run (over every call of ``fit`` and ``partial_fit``).
t_ : int
    Training samples seen, as MLPRegressor counts them.
loss_ : float
    The training loss of the last epoch (NaN when none completed: a fit stopped
    by Ctrl-C or a non-finite loss in its first epoch).
loss_curve_ : list of float
    The training loss of every epoch.
best_loss_ : float
    The lowest training loss reached. After a fit that diverged (stopped on a
    non-finite loss or update, with a warning) the network keeps the weights this
    loss was read on (the start of its epoch; with ``early_stopping``, those of the
    best validation score), not those of ``loss_``, which describes the last epoch
    run.
validation_scores_ : list of float or None
    The score on the validation tail after every epoch; None without
    ``early_stopping`` (a regressor's R^2 is NaN on a tail of one sample, where it
    is undefined; early stopping watches the tail's loss, not this score). After
    warm starts that switched ``early_stopping`` on or off, or ``partial_fit``
    calls (which validate nothing), it still holds one score per epoch, NaN where
    an epoch had no validation.
best_validation_score_ : float or None
    The validation score of the epoch whose weights were kept, among the last
    ``fit`` call's epochs (``validation_scores_`` holds every call's); None
    when that call had no validation.
history_ : list of dict
    One record per epoch: losses, learning rate, gradient norms, clipping
    counts, time, and why training stopped."""

NAME_TABLE = """\
How the names map to PyTorch and to scikit-learn's MLPRegressor:

====================  ===============================  ========================
tsbptt                PyTorch                          MLPRegressor
====================  ===============================  ========================
hidden_size           ``hidden_size`` of nn.{cell}     ``hidden_layer_sizes``
num_layers            ``num_layers``                   len(hidden_layer_sizes)
bidirectional         ``bidirectional``                --
dropout               ``dropout`` (+ on the head)      --
optimizer             torch.optim class                ``solver``
learning_rate         ``lr``                           ``learning_rate_init``
momentum, nesterov    ``momentum``, ``nesterov``       ``momentum``,
                                                       ``nesterovs_momentum``
weight_decay          ``weight_decay``                 ``alpha``
batch_size            DataLoader ``batch_size``        ``batch_size``
max_iter              epochs                           ``max_iter``
clip_norm             ``clip_grad_norm_``              --
clip_value            ``clip_grad_value_``             --
bptt_steps            detach every k steps             --
early_stopping        --                               ``early_stopping``
tol                   --                               ``tol``
n_iter_no_change      --                               ``n_iter_no_change``
validation_fraction   --                               ``validation_fraction``
====================  ===============================  ========================

MLPRegressor's ``learning_rate`` is the step-size schedule ('constant',
'invscaling', 'adaptive'); here the step size is constant and is called
``learning_rate``. Training stops after ``n_iter_no_change`` epochs without
improvement; MLPRegressor stops after one more."""


def _indent(text, pad):
    return "\n".join(pad + line if line else line for line in text.splitlines())


def fill_doc(**pieces):
    """Class decorator: put the shared pieces into the class's docstring.

    The docstring names them ``{common_parameters}``, ``{common_attributes}``,
    ``{name_table}`` and ``{<name>}`` for each extra piece given here, each alone on
    a line. A piece takes its placeholder's indentation: four spaces as written,
    none from Python 3.13 on, whose compiler strips a docstring's common indentation.
    """
    def decorate(cls):
        cell = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}[cls._cell]
        texts = {"common_parameters": COMMON_PARAMETERS,
                 "common_attributes": COMMON_ATTRIBUTES,
                 "name_table": NAME_TABLE.replace("{cell}", cell.ljust(len("{cell}"))), **pieces}
        doc = cls.__doc__
        if doc is None:  # python -OO: no docstrings
            return cls
        for key, text in texts.items():
            doc = re.sub(r"^([ \t]*)\{" + key + r"\}$",
                         lambda m, text=text: _indent(text, m.group(1)), doc, flags=re.M)
            if "{" + key + "}" in doc:
                raise ValueError(f"{cls.__name__}'s docstring has {{{key}}} where it is "
                                 "not alone on its line")
        cls.__doc__ = doc
        return cls
    return decorate
