"""The epoch loop behind ``Network.fit``: batches, dropout masks, early stopping,
divergence, interruption, progress and callbacks.

The loop stays in Python (one engine call per batch) so that progress, early stopping
and Ctrl-C stay simple; the work inside each call is the engine's.
"""
import math
import numbers
import signal
import threading
import time
import warnings
from contextlib import contextmanager

import numpy as np

from . import _dual
from ._optimizers import Momentum
from ._batches import Batches, DropoutMasks, IndexBatches
from ._progress import Progress
from ._validation import all_finite

try:  # numpy checks without a build (as in _validation)
    from ._kernels import all_pairs_finite as _all_pairs_finite
except Exception:  # pragma: no cover
    _all_pairs_finite = None
from .history import History

# A finite cost this many times the first one (or 1, if larger) counts as divergence.
EXPLOSION_FACTOR = 1e4


class DivergenceWarning(RuntimeWarning):
    """Training stopped because the cost stopped being finite or exploded."""


class DivergenceError(FloatingPointError):
    """The cost stopped being finite or exploded; the last good parameters were kept."""


def divergence_message(learning_rate, J=None, X=None):
    """Why training stopped. ``X`` is given when the very first cost was bad: then the
    learning rate is not to blame (nothing was updated yet), the scale of the inputs is."""
    if X is not None:
        values = X if isinstance(X, np.ndarray) else X.matrix().data
        largest = float(np.max(np.abs(values))) if values.size else 0.0
        return (f"the cost at the starting parameters is {J!r}: the forward pass overflows "
                f"{X.dtype.name} (the largest |x| in X is {largest:.3g}); standardise X (zero "
                f"mean, unit variance per feature)"
                + (" or use dtype='float64'" if X.dtype == np.float32 else "")
                + "; the parameters were left as they were")
    return (f"the cost is no longer finite or has exploded: training diverged, most likely "
            f"because learning_rate={learning_rate!r} is too large; the parameters of the last "
            f"good iteration were kept")


def _columns(X, index):
    """Examples ``index`` of a dense or sparse X (for messages)."""
    return X[:, index] if isinstance(X, np.ndarray) else X.take(index)


def params_finite(params):
    """Whether every W[l] and b[l] is finite (one compiled pass per array)."""
    if _all_pairs_finite is not None and type(params) is list:
        finite = _all_pairs_finite(params)
        if finite is not None:
            return finite
    return all(all_finite(W) and all_finite(b) for W, b in params)


@contextmanager
def deferred_interrupt():
    """Turn the first Ctrl-C into a flag checked between batches, so a batch is never cut
    in half; a second Ctrl-C interrupts at once. Outside the main thread, signals cannot
    be caught and the flag is never set."""
    state = {"interrupted": False}
    if threading.current_thread() is not threading.main_thread():
        yield state
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):
        if state["interrupted"]:
            signal.signal(signal.SIGINT, previous)
            raise KeyboardInterrupt
        state["interrupted"] = True

    signal.signal(signal.SIGINT, handler)
    try:
        yield state
    finally:
        signal.signal(signal.SIGINT, previous)


class EpochRunner:
    """Takes a network through batches, one engine call each, with dropout and the
    divergence guard: what ``fit`` runs every epoch, and what the scikit-learn estimators
    run in their own loops. It lives as long as the optimizer's state (across the calls of
    ``partial_fit``).

    The guard: a step whose cost is not finite, or above EXPLOSION_FACTOR times the first
    accepted cost (or 1), updates nothing; :meth:`epoch` then puts back the parameters of
    the last step that was accepted and returns None, with :attr:`refused` saying why.
    """

    def __init__(self, net, optimizer, *, l2=0.0, keep_prob=None, mean="weight", report=None):
        self.net, self.optimizer, self.l2 = net, optimizer, l2
        self.report = report  # (J, X_batch, w_batch) -> the batch cost to average, or None
        keep_prob = keep_prob or [1.0] * (net.L - 1)
        self.masks = DropoutMasks(net._spec.layer_dims, keep_prob, net.dtype, net._rng)
        # The compiled engine draws the same masks inside its call (no numpy calls per batch).
        self.compiled_dropout = (self.masks.active and getattr(net._engine, "draws_dropout", False))
        self.dropout = {"dropout": keep_prob, "rng": net._rng} if self.compiled_dropout else {}
        self.limit = math.inf
        self.refused = None  # (J, the batch's X when no step had been accepted yet)
        self.by_count = mean == "count"
        self.dual = None  # the first layer's dual Session, when the fit uses it

    def epoch(self, batches, interrupt=None):
        """Train on every batch once; the mean batch cost (weighted by each batch's total
        example weight, or with ``mean="count"`` by its number of examples), or None on
        divergence. A batch whose weights are all 0 is skipped. (The loop runs once per
        batch: its arguments go by position.)"""
        net, step, optimizer = self.net, self.net._engine.step, self.optimizer
        form = net._form  # W[1] in another form: dual (a table) or transposed (W[1]ᵀ)
        params, backup = (net._params, net._backup) if form is None or self.dual is not None \
            else (form.params, form.backup)
        l2, draw = self.l2, None if self.compiled_dropout else self.masks.draw
        keep, rng = self.dropout.get("dropout"), self.dropout.get("rng")
        session = self.dual
        table = None if session is None else session.table
        transposed = form is not None and session is None
        plain = table is None and keep is None and not transposed
        total = seen = 0.0
        for X_batch, Y_batch, w_batch in batches:
            size = X_batch.shape[-1]  # (n_x, m), or the m indices of a dual batch
            if w_batch is not None:
                weight = float(np.sum(w_batch, dtype=np.float64))
                if weight == 0:
                    continue
                size = size if self.by_count else weight
            masks = None if draw is None else draw(X_batch.shape[-1])
            if plain:
                J = step(params, X_batch, Y_batch, optimizer, backup, l2, masks, self.limit,
                         w_batch)
            else:
                J = step(params, X_batch, Y_batch, optimizer, backup, l2, masks, self.limit,
                         w_batch, keep, rng, table, transposed)
            if not (J <= self.limit and J - J == 0):  # = accepted(): nothing was updated
                first = X_batch if session is None else _columns(session.X, X_batch)
                self.refused = (J, first if self.limit == math.inf else None)
                net._restore_backup()
                return None
            if form is not None:
                form.dirty = True
            net._backup_valid = True
            if self.limit == math.inf:
                self.limit = EXPLOSION_FACTOR * max(J, 1.0)
            total += (J if self.report is None else self.report(J, X_batch, w_batch)) * size
            seen += size
            if interrupt is not None and interrupt["interrupted"]:
                break
        return total / seen


class Trainer:
    """One ``fit`` call: holds the options, runs the epochs, fills the History."""

    def __init__(self, net, X, Y, optimizer, options):
        self.net, self.X, self.Y, self.optimizer = net, X, Y, optimizer
        self.o = options
        self.history = History()
        self.base_rate = optimizer.learning_rate
        self.batches = Batches.shuffled(X, Y, options.batch_size, options.shuffle, net._rng,
                                        options.sample_weight)
        self.runner = EpochRunner(net, optimizer, l2=options.l2, keep_prob=options.keep_prob)
        self.best = None  # (dev cost, epoch, parameter snapshot)
        self.dual = _dual.resolve(options.first_layer, net, optimizer, X.shape[1],
                                  options.epochs, options.dev is not None,
                                  None if isinstance(X, np.ndarray) else len(X.data))
        self.dual_batches = False
        self.transposed = (not self.dual and not isinstance(X, np.ndarray)
                           and getattr(net._engine, "transposes_sparse", False))

    def _start_dual(self):
        """Train the first layer in dual form: the table (P₀, G), the index batches."""
        net, X = self.net, self.X
        if isinstance(X, np.ndarray) and not (X.flags.c_contiguous or X.flags.f_contiguous):
            X = np.ascontiguousarray(X)  # once per fit, for the products that build the table
        table = net._engine.dual_start(net._params, X, self.batches.size,
                                       isinstance(self.optimizer, Momentum))
        net._form = self.runner.dual = _dual.Session(table, X)
        if not self.dual_batches:
            self.dual_batches = True
            self.batches = IndexBatches(self.Y, self.batches.size, self.batches.order,
                                        self.o.sample_weight)

    def _start_transposed(self):
        """A fit on sparse X in the compiled engine holds W[1] transposed (fastdl._sparse)."""
        from ._sparse import Transposed

        self.net._form = Transposed(self.net)

    def _end_dual(self):
        """W[1] materialised, the network back to its plain form."""
        if self.net._form is not None:
            self.net._sync()
            self.net._form = self.runner.dual = None

    def run(self):
        """Train; returns the History. Whatever ends the run (the last epoch, divergence,
        Ctrl-C, a callback, an exception from a callback or a custom activation), the
        network is left with finite parameters from a step that was taken whole, and the
        History (also ``net.history``) says why it stopped."""
        net, o, history = self.net, self.o, self.history
        net.history = history
        self.optimizer.start(net._params)
        progress = Progress(o.epochs, o.verbose)
        try:
            if self.dual:
                self._start_dual()
            elif self.transposed:
                self._start_transposed()
            self._epochs(progress)
            self._check_last_update()
            if self.best is not None and o.restore_best and o.patience is not None:
                net._restore_snapshot(self.best[2])
        except BaseException as error:
            self._failed(error)
            raise
        finally:
            progress.close()
            self._end_dual()
        return history

    def _epochs(self, progress):
        o, history = self.o, self.history
        start = time.perf_counter()
        with deferred_interrupt() as interrupt:
            for epoch in range(o.epochs):
                self.optimizer.learning_rate = self.base_rate / (1 + o.lr_decay * (epoch // o.decay_every))
                if self.net._form is not None and self.net._form.stale:
                    self._end_dual()  # parameters were set meanwhile: start again from them
                    self._start_dual() if self.dual else self._start_transposed()
                cost = self.runner.epoch(self.batches, interrupt)
                if cost is None:
                    self._diverged(*self.runner.refused)
                    break
                history.costs.append(cost)
                history.times.append(time.perf_counter() - start)
                history.learning_rates.append(self.optimizer.learning_rate)
                stop = self._after_epoch(epoch, progress, interrupt)
                if stop:
                    history.stop_reason = stop
                    break

    def _diverged(self, J=None, X_first=None, stacklevel=5):
        """Stop: the last good parameters are back; say so (warn or raise, as asked)."""
        self.net._restore_backup()
        self.history.stop_reason = "diverged"
        message = divergence_message(self.base_rate, J, X_first)
        if self.o.on_divergence == "raise":
            raise DivergenceError(message)
        warnings.warn(f"epoch {len(self.history.costs)}: {message}", DivergenceWarning,
                      stacklevel=stacklevel)

    def _check_last_update(self):
        """The last update's cost is never computed: if it made a parameter non-finite,
        go back to the parameters before it and report divergence."""
        self.net._sync()
        if params_finite(self.net._params):
            return
        self._diverged(stacklevel=5)

    def _failed(self, error):
        """An exception is leaving fit: record why in the History, and never leave
        non-finite parameters behind (the step in flight updated nothing)."""
        history = self.history
        if isinstance(error, DivergenceError):
            return
        history.stop_reason = "interrupted" if isinstance(error, KeyboardInterrupt) else "error"
        history.error = f"{type(error).__name__}: {error}"
        self.net._sync()
        if not params_finite(self.net._params):
            self.net._restore_backup()
        if hasattr(error, "add_note"):
            error.add_note(f"fastdl: fit stopped after {history.iterations} epochs; the network "
                           f"keeps the parameters of its last complete step, and net.history "
                           f"holds the History")

    def _after_epoch(self, epoch, progress, interrupt):
        """Dev scores, early stopping, printing, callbacks; the stop reason or None."""
        net, o, history = self.net, self.o, self.history
        stop = None
        if o.dev is not None:
            X_dev, Y_dev = o.dev
            net._sync()  # a dual fit's W[1], materialised to score the dev set
            dev_cost = net._engine.cost(net._params, X_dev, Y_dev)
            history.dev_costs.append(dev_cost)
            if net._is_classifier:
                history.dev_accuracy.append(net._accuracy_checked(X_dev, Y_dev))
            if self.best is None or dev_cost < self.best[0]:
                self.best = (dev_cost, epoch, net._snapshot(self.best[2] if self.best else None))
                history.best_epoch = epoch
            elif o.patience is not None and epoch - self.best[1] >= o.patience:
                stop = "early stopping"
        if o.print_every and (epoch % o.print_every == 0 or epoch == o.epochs - 1):
            print(f"Cost after iteration {epoch}: {history.costs[-1]:.6f}", flush=True)
        progress.update(epoch, history)
        for callback in o.callbacks:
            if callback(history) is True and stop is None:
                stop = "stopped by a callback"
        if interrupt["interrupted"]:
            stop = "interrupted"
        return stop


class FitOptions:
    """``fit``'s keyword arguments, validated once before any training starts."""

    def __init__(self, net, *, epochs, print_every, batch_size, shuffle, lr_decay, decay_every,
                 l2, keep_prob, dev, patience, restore_best, on_divergence, verbose, callbacks,
                 sample_weight=None, first_layer="auto"):
        from . import _validation as v
        from ._dual import FIRST_LAYER

        self.epochs = v.check_positive("epochs", epochs, integer=True)
        self.print_every = None if print_every is None else v.check_positive(
            "print_every", print_every, integer=True)
        self.batch_size = None if batch_size is None else v.check_positive(
            "batch_size", batch_size, integer=True)
        self.shuffle = bool(shuffle)
        self.lr_decay = v.check_non_negative("lr_decay", lr_decay)
        self.decay_every = v.check_positive("decay_every", decay_every, integer=True)
        self.l2 = v.check_non_negative("l2", l2)
        self.keep_prob = _check_keep_prob(keep_prob, net.L)
        self.sample_weight = sample_weight  # validated with X and Y
        self.first_layer = v.check_choice("first_layer", first_layer, FIRST_LAYER)
        self.dev = None if dev is None else _check_dev(net, dev)
        self.patience = None if patience is None else v.check_positive("patience", patience, integer=True)
        if self.patience is not None and self.dev is None:
            raise ValueError("patience needs a dev set: pass dev=(X_dev, Y_dev) to stop early on it")
        self.restore_best = bool(restore_best)
        self.on_divergence = v.check_choice("on_divergence", on_divergence, ("raise", "warn"))
        if verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1 or 2; got {verbose!r}")
        self.verbose = verbose
        self.callbacks = v.check_callbacks(callbacks)


def _check_keep_prob(keep_prob, L):
    """One keep probability per hidden layer, each in (0, 1]: one number (numpy scalars and
    0-d arrays too) for every hidden layer, or a sequence of one per hidden layer."""
    if isinstance(keep_prob, (numbers.Real, np.generic)) or getattr(keep_prob, "ndim", None) == 0:
        values = [keep_prob] * (L - 1)
    elif isinstance(keep_prob, (str, bytes)) or not hasattr(keep_prob, "__iter__"):
        raise ValueError(f"keep_prob must be a number in (0, 1], or a list of one per hidden "
                         f"layer; got {keep_prob!r}")
    else:
        values = list(keep_prob)
    if len(values) != L - 1:
        raise ValueError(f"keep_prob has {len(values)} values but the network has {L - 1} hidden layers")
    checked = []
    for layer, p in enumerate(values, start=1):
        p = p.item() if getattr(p, "ndim", None) == 0 else p
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 < p <= 1:
            raise ValueError(f"keep_prob for hidden layer {layer} must be in (0, 1]; got {p!r}")
        checked.append(float(p))
    return checked


def _check_dev(net, dev):
    if not isinstance(dev, (tuple, list)) or len(dev) != 2:
        raise TypeError(f"dev must be a pair (X_dev, Y_dev); got {type(dev).__name__}")
    try:
        return net._check_XY(*dev)
    except ValueError as error:
        raise ValueError(f"dev set: {error}") from None
