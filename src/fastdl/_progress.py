"""Progress reporting for ``fit``: quiet, a tqdm bar on a terminal, or plain log lines."""
import sys
import time


def _bar(total, stream):
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="epoch", leave=True, dynamic_ncols=True, file=stream)


class Progress:
    """``verbose=0`` says nothing; ``1`` draws a bar on a terminal, else a line every tenth
    of the run (logs and CI get no control characters); ``2`` writes one line per epoch.
    """

    def __init__(self, epochs, verbose, stream=None):
        self.epochs = epochs
        self.verbose = verbose
        self.stream = stream if stream is not None else sys.stdout
        self.start = time.perf_counter()
        is_terminal = getattr(self.stream, "isatty", lambda: False)()
        self.bar = _bar(epochs, self.stream) if verbose == 1 and is_terminal else None
        self.every = 1 if verbose == 2 else max(1, epochs // 10)

    def update(self, epoch, history):
        """Report the epoch just finished (``epoch`` counts from 0)."""
        if not self.verbose:
            return
        scores = {"cost": history.costs[-1]}
        if history.dev_costs:
            scores["dev_cost"] = history.dev_costs[-1]
        if history.dev_accuracy:
            scores["dev_acc"] = history.dev_accuracy[-1]
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v:.4g}" for k, v in scores.items()}, refresh=False)
            self.bar.update(1)
            return
        done = epoch + 1
        if done % self.every and done != self.epochs:
            return
        elapsed = time.perf_counter() - self.start
        eta = elapsed / done * (self.epochs - done)
        text = ", ".join(f"{k} {v:.6g}" for k, v in scores.items())
        print(f"epoch {done}/{self.epochs}: {text} ({elapsed:.1f} s, ETA {eta:.1f} s)",
              file=self.stream, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()
