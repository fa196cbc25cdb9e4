"""fastdl: fast fully-connected L-layer neural networks on the CPU.

The layout convention, used everywhere: **one example per column**. ``X`` has shape
``(n_x, m)``, ``Y`` shape ``(n_y, m)``; ``W[l]`` is ``(n[l], n[l−1])``, ``b[l]`` is
``(n[l], 1)``, and ``Z[l]``, ``A[l]`` are ``(n[l], m)`` with ``A[0] = X``. Data stored
one example per row (scikit-learn's layout) is passed as its transpose, ``X.T``,
which is the same memory and costs no copy.
"""
from . import activations, datasets, jit
from ._backends import BACKENDS, available_backends
from ._guard import NetworkBusyError
from ._io import load
from ._limits import memory_limit, set_memory_limit
from .gradcheck import gradient_check
from .history import History
from .jit import custom_activation
from .network import DivergenceError, DivergenceWarning, Network
from ._search import search
from ._search_result import SearchResult
from .workflow import diagnose, diagnose_network, recommended_split, train_dev_test_split

__version__ = "0.1.0"

__all__ = [
    "BACKENDS",
    "DivergenceError",
    "DivergenceWarning",
    "History",
    "Network",
    "NetworkBusyError",
    "SearchResult",
    "activations",
    "available_backends",
    "custom_activation",
    "datasets",
    "diagnose",
    "diagnose_network",
    "gradient_check",
    "jit",
    "load",
    "memory_limit",
    "recommended_split",
    "search",
    "set_memory_limit",
    "train_dev_test_split",
]
