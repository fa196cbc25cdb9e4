"""What :func:`fastdl.search` returns: the trials ranked best first, and a readable table."""
import math
import numbers


def _cell(key, value):
    if value is None:
        return "-"
    if key.endswith("_error"):
        return f"{value:.1%}"
    if key == "seconds":
        return f"{value:.2f}"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, numbers.Integral) or isinstance(value, str):
        return str(value)
    return repr(value)


class SearchResult:
    """The trials of a search, best first.

    Attributes
    ----------
    results : list of dict
        One per trial: ``trial`` (its index), ``params`` (the setting tried), ``seed`` (its
        network's), ``train_error`` and ``dev_error`` (classifiers; None for regression),
        ``train_cost`` and ``dev_cost`` (unregularised), ``seconds``, ``epochs`` (trained),
        ``stop_reason``, and ``rung`` (the last round reached) for successive halving.
        Sorted by dev error (dev cost for regression); a diverged trial comes last.
    best_params : dict
        The setting of the best trial.
    best_network : Network
        The best trial's trained network.
    method, seed, metric : str, int, str
        How the settings were chosen, the root seed they came from (pass it again to
        repeat the search), and the score they were ranked by.
    """

    def __init__(self, results, best_network, *, method, seed, metric):
        self.results = results
        self.best_network = best_network
        self.method, self.seed, self.metric = method, seed, metric

    @property
    def best_params(self):
        return dict(self.results[0]["params"])

    def __len__(self):
        return len(self.results)

    def __repr__(self):
        best = self.results[0]
        return (f"SearchResult(method={self.method!r}, {len(self)} trials, best {self.metric} "
                f"{_cell(self.metric, best[self.metric])}: {best['params']})")

    def _columns(self):
        params = sorted({key for record in self.results for key in record["params"]})
        scores = ["train_error", "dev_error"] if self.metric == "dev_error" else []
        scores += ["train_cost", "dev_cost", "epochs", "seconds", "stop_reason"]
        if self.method == "halving":
            scores.append("rung")
        return params, scores

    def _rows(self):
        params, scores = self._columns()
        header = ["rank", "trial"] + params + scores
        rows = [[str(rank), str(record["trial"])]
                + [_cell(key, record["params"].get(key)) for key in params]
                + [_cell(key, record[key]) for key in scores]
                for rank, record in enumerate(self.results, start=1)]
        return header, rows

    def __str__(self):
        header, rows = self._rows()
        widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]
        lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths))
                 for row in [header] + rows]
        return "\n".join(lines)

    def to_markdown(self):
        """The table as GitHub-flavoured Markdown (numbers right-aligned)."""
        header, rows = self._rows()
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" for _ in header) + "|"]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
        return "\n".join(lines)


def rank_key(record, metric):
    """Diverged or non-finite trials last; halving's later rounds first; then the metric."""
    value, dev_cost = record[metric], record["dev_cost"]
    bad = record["stop_reason"] == "diverged" or value is None or not math.isfinite(value)
    finite = (lambda x: x if x is not None and math.isfinite(x) else math.inf)
    return (bad, -record.get("rung", 0), finite(value), finite(dev_cost), record["trial"])
