"""Sparse X: validated once per call, then handed to the engines without densifying.

A scipy.sparse X of shape (n_x, m) is kept in CSC form, one example per column: a
rows-per-example CSR matrix transposed is exactly that, with no copy; CSR and COO are
converted once per call, never per batch. Batches are sets of column indices into the
same arrays (:class:`SparseColumns` with an ``index``), so an epoch's shuffle copies
nothing. The compiled engine reads the CSC arrays directly (int32 indices, data of the
network's dtype) in sparse × dense kernels; the numpy engine multiplies with scipy.sparse,
as the reference.
"""
import numpy as np

_INT32_MAX = np.iinfo(np.int32).max


def is_sparse(X):
    """Whether ``X`` is a scipy.sparse matrix or array (without importing scipy.sparse)."""
    return hasattr(X, "tocsc") and hasattr(X, "nnz") and getattr(X, "ndim", 2) == 2


class SparseColumns:
    """Columns (examples) of a validated CSC matrix: all of them, or those in ``index``.

    ``indptr``, ``indices`` (int32, sorted, no duplicates) and ``data`` (the network's
    dtype, finite) are the arrays of the whole matrix; ``shape`` is (n_x, examples here).
    """

    def __init__(self, indptr, indices, data, n_x, m, index=None):
        self.indptr, self.indices, self.data = indptr, indices, data
        self.n_x, self.m_all, self.index = n_x, m, index
        self.dtype = data.dtype
        self.shape = (n_x, m if index is None else len(index))
        self.ndim = 2

    def take(self, index):
        """The batch of examples ``index`` (intp, 1-D), sharing these arrays."""
        return SparseColumns(self.indptr, self.indices, self.data, self.n_x, self.m_all, index)

    def matrix(self):
        """A scipy.sparse csc_array of these columns (the numpy engine's operand)."""
        import scipy.sparse

        whole = scipy.sparse.csc_array((self.data, self.indices, self.indptr),
                                       shape=(self.n_x, self.m_all))
        return whole if self.index is None else whole[:, self.index]

    def dense(self):
        """Only for tests and tiny inputs: the dense (n_x, m) array."""
        return self.matrix().toarray()


def check_sparse_X(X, n_x, dtype):
    """``X`` as :class:`SparseColumns` of shape (n_x, m) and ``dtype``, or a clear error."""
    if getattr(X, "ndim", 2) != 2:
        raise ValueError(f"X must be 2-D with one example per column; got a {X.ndim}-D sparse array")
    if X.shape[1] == 0:
        raise ValueError(f"X is empty: it has shape {X.shape}, with no examples (m = 0)")
    if X.shape[0] != n_x:
        hint = "; fastdl takes one example per column, so pass X.T" if X.shape[1] == n_x else ""
        raise ValueError(f"X has shape {X.shape} but the network expects (n_x, m) = ({n_x}, m){hint}")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"X must hold real numbers; got a sparse matrix of dtype {X.dtype}")
    if X.nnz > _INT32_MAX:
        raise ValueError(f"X has {X.nnz} stored entries, more than the engine's 32-bit indices hold")
    csc = X.tocsc()  # no copy when X is CSC, or CSR seen transposed (X_rows.T)
    if not csc.has_canonical_format:
        csc = csc.copy()
        csc.sum_duplicates()  # sorts the indices too: fixed once, here
    data = _finite_data(csc, dtype)
    return SparseColumns(csc.indptr.astype(np.int32, copy=False),
                         csc.indices.astype(np.int32, copy=False), data, X.shape[0], X.shape[1])


def _finite_data(csc, dtype):
    """The stored values as ``dtype``; a NaN, an infinity or a value that overflows the
    dtype is named by its (row, column)."""
    with np.errstate(over="ignore", invalid="ignore"):
        data = csc.data.astype(dtype, copy=False)
    finite = np.isfinite(data)
    if finite.all():
        return data
    p = int(np.argmin(finite))
    row, column = int(csc.indices[p]), int(np.searchsorted(csc.indptr, p, side="right") - 1)
    value = csc.data[p]
    if np.isfinite(value):
        raise ValueError(f"X holds {float(value)!r} at [{row}, {column}], beyond the range of "
                         f"{np.dtype(dtype).name}; rescale X or use dtype='float64'")
    raise ValueError(f"X holds NaN or infinite values, e.g. at [{row}, {column}]; clean or "
                     f"impute them first")


class Transposed:
    """A network's first layer while a fit on sparse X holds it transposed (its
    ``Network._form``): WT = W[1]ᵀ (n_x, n[1]), whose rows the compiled sparse products read
    contiguously, and WT's backup in the memory of W[1]'s. W[1] is written from WT when read.
    """

    def __init__(self, net):
        W = net._params[0][0]
        self.engine = net._engine
        self.WT = np.ascontiguousarray(W.T)
        self.WT_save = net._backup[0][0].reshape(W.shape[1], W.shape[0])  # a view: no copy
        self.dirty = self.stale = False
        params, backup = list(net._params), list(net._backup)
        params[0], backup[0] = (self.WT, params[0][1]), (self.WT_save, backup[0][1])
        self.params, self.backup = params, backup

    def materialize(self, W):
        if self.dirty:
            np.copyto(W, self.WT.T)
            self.dirty = False

    def restore_backup(self):
        if not self.engine.restore_rows(self.WT):  # only the rows the last step changed
            np.copyto(self.WT, self.WT_save)
        self.dirty = True

    def snapshot(self, into=None):
        if into is None:
            return self.WT.copy()
        np.copyto(into, self.WT)
        return into

    def restore(self, snapshot):
        np.copyto(self.WT, snapshot)
        self.dirty = True
