"""The record a training run returns."""
from dataclasses import dataclass, field

STOP_REASONS = ("finished", "early stopping", "diverged", "interrupted", "stopped by a callback",
                "error")


@dataclass
class History:
    """What happened during ``Network.fit``, one entry per epoch.

    Attributes
    ----------
    costs : list of float
        The training cost J of each epoch (full batch: the cost before the epoch's
        update; mini-batches: the example-weighted mean of the batch costs).
    dev_costs, dev_accuracy : list of float
        The cost and, for classifiers, the accuracy on the dev set after each epoch.
    times : list of float
        Seconds elapsed since the start of ``fit``, at the end of each epoch.
    learning_rates : list of float
        The learning rate used in each epoch (it changes with ``lr_decay``).
    best_epoch : int or None
        The epoch with the lowest dev cost.
    stop_reason : str
        One of ``'finished'``, ``'early stopping'``, ``'diverged'``, ``'interrupted'``,
        ``'stopped by a callback'``, ``'error'`` (an exception left ``fit``: a callback's,
        or a custom activation's).
    error : str or None
        With ``'error'`` (or a second Ctrl-C), the exception, as ``"TypeName: message"``.
    """

    costs: list = field(default_factory=list)
    dev_costs: list = field(default_factory=list)
    dev_accuracy: list = field(default_factory=list)
    times: list = field(default_factory=list)
    learning_rates: list = field(default_factory=list)
    best_epoch: int = None
    stop_reason: str = "finished"
    error: str = None

    @property
    def iterations(self):
        """How many epochs ran (with full batches, one iteration each)."""
        return len(self.costs)

    epochs = iterations

    def __repr__(self):
        last = f", final cost {self.costs[-1]:.6g}" if self.costs else ""
        return f"History({self.iterations} epochs{last}, stop_reason={self.stop_reason!r})"

    def plot(self, ax=None, path=None, *, log=False):
        """Draw the train (and dev) cost against epochs; save to ``path`` when given.

        Needs matplotlib (``pip install 'fastdl[plot]'``). Returns the matplotlib Axes.
        """
        from .plot import cost_curve

        return cost_curve(self, ax=ax, path=path, log=log)
