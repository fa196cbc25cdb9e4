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


# -- W[1] held transposed (WT, n_x × n[1]), as a fit on sparse X holds it ----------------------
#
# Each stored value (feature f, example j, value x) then reads and writes one contiguous
# run of n[1] numbers, WT[f, :], instead of n[1] entries n_x apart: the products cost
# n[1]·nnz with the memory traffic of the touched rows alone.

DEF AHEAD = 16  # stored values ahead whose rows are prefetched


cdef inline void _prefetch_row(const void* base, int row, int n, size_t item) noexcept nogil:
    """Ask for the cache lines of row ``row`` (n values of ``item`` bytes) of base."""
    cdef const char* start = <const char*>base + <size_t>row * n * item
    cdef size_t k, size = <size_t>n * item
    for k in range(0, size, 64):
        fdl_prefetch(start + k)


cdef void _sparse_linear_t(int n, int m, const floating* WT, Call* c, floating* H,
                           double* acc) noexcept nogil:
    """H[:, j] = Σ_p x_p WT[f_p, :] for each example j of the batch."""
    cdef int i, j, p, col, end
    cdef const floating* row
    cdef const floating* data = <floating*>c.sp_data
    cdef double x
    for j in range(m):
        col = c.sp_idx[j] if c.sp_idx != NULL else j
        for i in range(n):
            acc[i] = 0
        end = c.sp_indptr[col + 1]
        for p in range(c.sp_indptr[col], end):
            if p + AHEAD < end:
                _prefetch_row(WT, c.sp_indices[p + AHEAD], n, sizeof(floating))
            row = WT + <size_t>c.sp_indices[p] * n
            x = data[p]
            for i in range(n):
                acc[i] += x * row[i]
        for i in range(n):
            H[<size_t>i * m + j] = <floating>acc[i]


cdef void _sparse_scatter_t(int n, int m, int start, int w, const floating* dZ, floating alpha,
                            Call* c, floating* T, double* acc) noexcept nogil:
    """T[f, :] += alpha · x · dZ[:, j] for each stored value of the block's examples."""
    cdef int i, j, p, col, end
    cdef floating* row
    cdef floating g
    cdef const floating* data = <floating*>c.sp_data
    for j in range(start, start + w):
        col = c.sp_idx[j] if c.sp_idx != NULL else j
        for i in range(n):
            acc[i] = alpha * dZ[<size_t>i * m + j]
        end = c.sp_indptr[col + 1]
        for p in range(c.sp_indptr[col], end):
            if p + AHEAD < end:
                _prefetch_row(T, c.sp_indices[p + AHEAD], n, sizeof(floating))
            row = T + <size_t>c.sp_indices[p] * n
            g = <floating>data[p]
            for i in range(n):
                row[i] += g * <floating>acc[i]


cdef int _touched_rows(int m, Call* c, int* slot, int* feats) noexcept nogil:
    """The distinct features of the batch, in first-seen order, with slot[f] their place
    (slot is −1 everywhere else, and is reset by _forget_rows)."""
    cdef int j, p, col, f, K = 0
    for j in range(m):
        col = c.sp_idx[j] if c.sp_idx != NULL else j
        for p in range(c.sp_indptr[col], c.sp_indptr[col + 1]):
            f = c.sp_indices[p]
            if slot[f] < 0:
                slot[f] = K
                feats[K] = f
                K += 1
    return K


cdef inline void _forget_rows(int K, int* slot, const int* feats) noexcept nogil:
    cdef int k
    for k in range(K):
        slot[feats[k]] = -1


cdef void _sparse_backward_t(Layer* lay, Call* c, int start, int w, bint first, bint last,
                             floating* precision=NULL) noexcept nogil:
    """The first layer's share of one backward block with W[1] held as WT (lay.W).

    Plain gradient descent without L2 updates the touched rows of WT block by block, after
    saving them (the backup of this step: the rest of WT does not change). Momentum and Adam
    without L2 gather dW's touched rows into a compact buffer, then make one pass over WT
    and their state (untouched rows have dW = 0: their moments still decay), writing the
    backup of WT in the same pass. L2 and gradients mode use the dense dW buffer.
    """
    cdef Sparse* s = c.sp
    cdef int n = lay.n, K, k, i
    cdef size_t size = <size_t>n * lay.n_prev
    cdef floating* WT = <floating*>lay.W
    cdef floating* rows = <floating*>s.rows
    cdef floating* dW = <floating*>lay.dW
    cdef floating decay
    if first:
        s.saved_rows = False  # this step's backup, if any, is the whole of WT (by default)
    if c.mode == MODE_STEP and c.l2 == 0:
        if first:
            s.K = K = _touched_rows(c.m, c, s.slot, s.feats)
            if c.opt == OPT_GD:
                s.saved_rows = c.backup
                if c.backup:
                    for k in range(K):
                        memcpy(rows + <size_t>k * n, WT + <size_t>s.feats[k] * n,
                               <size_t>n * sizeof(floating))
            else:
                memset(rows, 0, <size_t>K * n * sizeof(floating))
        if c.opt == OPT_GD:
            _sparse_scatter_t[floating](n, c.m, start, w, <floating*>lay.H,
                                        <floating>(-c.lr / c.norm), c, WT, s.acc)
            if last:
                _forget_rows(s.K, s.slot, s.feats)
                _update[floating](<floating*>lay.b, <floating*>lay.db, <floating>c.lr, n)
            return
        _sparse_gather_t[floating](n, c.m, start, w, <floating*>lay.H,
                                   <floating>(1.0 / c.norm), c, rows, s.slot, s.acc)
        if last:
            _sparse_pass_t[floating](lay, c)
            _forget_rows(s.K, s.slot, s.feats)
        return
    if first:
        if c.l2 != 0:
            decay = <floating>(c.l2 / c.norm)
            for k in range(<int>size):
                dW[k] = decay * WT[k]
        else:
            memset(dW, 0, size * sizeof(floating))
    _sparse_scatter_t[floating](n, c.m, start, w, <floating*>lay.H, <floating>(1.0 / c.norm),
                                c, dW, s.acc)
    if c.mode == MODE_STEP and last:
        _apply_update[floating](lay, c)


cdef void _sparse_gather_t(int n, int m, int start, int w, const floating* dZ, floating alpha,
                           Call* c, floating* rows, const int* slot, double* acc) noexcept nogil:
    """rows[slot[f], :] += alpha · x · dZ[:, j]: dW's touched rows, compactly."""
    cdef int i, j, p, col
    cdef floating* row
    cdef floating g
    cdef const floating* data = <floating*>c.sp_data
    for j in range(start, start + w):
        col = c.sp_idx[j] if c.sp_idx != NULL else j
        for i in range(n):
            acc[i] = alpha * dZ[<size_t>i * m + j]
        for p in range(c.sp_indptr[col], c.sp_indptr[col + 1]):
            row = rows + <size_t>slot[c.sp_indices[p]] * n
            g = <floating>data[p]
            for i in range(n):
                row[i] += g * <floating>acc[i]


cdef void _sparse_pass_t(Layer* lay, Call* c, floating* precision=NULL) noexcept nogil:
    """One pass over WT's rows: the update of momentum or Adam with dW = the compact row or
    0, the backup written on the way (c.backup), then b[1] as usual."""
    cdef Sparse* s = c.sp
    cdef int n = lay.n, f, k, n_x = lay.n_prev
    cdef floating* WT = <floating*>lay.W
    cdef floating* save = <floating*>lay.W_save
    cdef floating* rows = <floating*>s.rows
    cdef floating* zero = <floating*>s.zeros
    cdef const floating* d
    cdef size_t o
    for f in range(n_x):
        o = <size_t>f * n
        k = s.slot[f]
        d = rows + <size_t>k * n if k >= 0 else zero
        if c.backup:
            memcpy(save + o, WT + o, <size_t>n * sizeof(floating))
        if c.opt == OPT_MOMENTUM:
            _momentum[floating](WT + o, d, <floating*>lay.vW + o, c.beta1, c.lr, c.nesterov, n)
        else:
            _adam[floating](WT + o, d, <floating*>lay.vW + o, <floating*>lay.sW + o, c, n)
    if c.opt == OPT_MOMENTUM:
        _momentum[floating](<floating*>lay.b, <floating*>lay.db, <floating*>lay.vb, c.beta1,
                            c.lr, c.nesterov, n)
    else:
        _adam[floating](<floating*>lay.b, <floating*>lay.db, <floating*>lay.vb,
                        <floating*>lay.sb, c, n)
