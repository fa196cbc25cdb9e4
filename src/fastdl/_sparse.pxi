# Included by _kernels.pyx: the first layer's products with a sparse (CSC) X.
#
# X (n_x, M) is stored by columns, one example each: indptr, indices (the features,
# sorted) and data. A batch is a set of its columns (c.sp_idx). With W[1] row-major, row i
# of W[1] is one contiguous run that every stored value of the batch reads (forward) or
# updates (backward) once: both products cost n[1]·nnz(batch), and the dense X is never
# built. Plain gradient descent updates only the columns of W[1] the batch's features
# reach; anything else (L2, momentum, Adam, gradients) goes through a dense dW.


cdef void _sparse_linear(int n, int m, const floating* W, int n_x, Call* c,
                         floating* H) noexcept nogil:
    """H = W[1] X[:, B], row by row of W[1]."""
    cdef int i, j, p, col
    cdef const floating* row
    cdef const floating* data = <floating*>c.sp_data
    cdef double total
    for i in range(n):
        row = W + <size_t>i * n_x
        for j in range(m):
            col = c.sp_idx[j] if c.sp_idx != NULL else j
            total = 0
            for p in range(c.sp_indptr[col], c.sp_indptr[col + 1]):
                total += row[c.sp_indices[p]] * data[p]
            H[<size_t>i * m + j] = <floating>total


cdef void _sparse_scatter(int n, int m, int start, int w, const floating* dZ, floating alpha,
                          int n_x, Call* c, floating* T) noexcept nogil:
    """T += alpha · dZ[:, start:start+w] X[:, B]ᵀ, into the columns the batch reaches."""
    cdef int i, j, p, col
    cdef floating* row
    cdef floating g
    cdef const floating* data = <floating*>c.sp_data
    for i in range(n):
        row = T + <size_t>i * n_x
        for j in range(start, start + w):
            col = c.sp_idx[j] if c.sp_idx != NULL else j
            g = alpha * dZ[<size_t>i * m + j]
            for p in range(c.sp_indptr[col], c.sp_indptr[col + 1]):
                row[c.sp_indices[p]] += g * data[p]


cdef void _sparse_backward(Layer* lay, Call* c, int start, int w, bint first, bint last,
                           floating* precision=NULL) noexcept nogil:
    """The first layer's share of one backward block (dZ[1] is in lay.H)."""
    cdef size_t k, size = <size_t>lay.n * lay.n_prev
    cdef floating* dW = <floating*>lay.dW
    cdef const floating* W = <floating*>lay.W
    cdef floating decay
    if c.mode == MODE_STEP and c.opt == OPT_GD and c.l2 == 0:
        # W[1] −= (α/Σw) dZ[1] Xᵀ, column by touched column; nothing reads W[1] after the
        # forward pass, so each block updates at once. b waits for the whole db.
        _sparse_scatter[floating](lay.n, c.m, start, w, <floating*>lay.H,
                                  <floating>(-c.lr / c.norm), lay.n_prev, c, <floating*>lay.W)
        if last:
            _update[floating](<floating*>lay.b, <floating*>lay.db, <floating>c.lr, lay.n)
        return
    if first:  # dW = (λ/Σw) W, or 0, before the blocks add (1/Σw) dZ Xᵀ
        if c.l2 != 0:
            decay = <floating>(c.l2 / c.norm)
            for k in range(size):
                dW[k] = decay * W[k]
        else:
            memset(dW, 0, size * sizeof(floating))
    _sparse_scatter[floating](lay.n, c.m, start, w, <floating*>lay.H, <floating>(1.0 / c.norm),
                              lay.n_prev, c, dW)
    if c.mode == MODE_STEP and last:
        _apply_update[floating](lay, c)
