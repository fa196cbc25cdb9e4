"""The record a training run returns."""
from dataclasses import dataclass, field


@dataclass
class History:
    """What happened during ``Network.fit``.

    Attributes
    ----------
    costs : list of float
        The training cost J before each iteration's update.
    times : list of float
        Seconds elapsed since the start of ``fit``, at the end of each iteration.
    stop_reason : str
        ``"finished"``, or ``"diverged"`` when the cost stopped being finite.
    """

    costs: list = field(default_factory=list)
    times: list = field(default_factory=list)
    stop_reason: str = "finished"

    @property
    def iterations(self):
        """How many iterations ran."""
        return len(self.costs)

    def __repr__(self):
        last = f", final cost {self.costs[-1]:.6g}" if self.costs else ""
        return f"History({self.iterations} iterations{last}, stop_reason={self.stop_reason!r})"
