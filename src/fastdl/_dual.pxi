# Included by _kernels.pyx: the first layer in dual form.
#
# Under gradient descent (and momentum) every change of W[1] is a combination of the
# training examples, dW[1] = (1/m)(dZ[1] Xᵀ + λ W[1]), so during a fit on a fixed X of M
# examples W[1] = s·W[1]₀ + U Xᵀ, U (n[1], M). With P₀ = W[1]₀ X and G = Xᵀ X computed
# once, and Q = U G kept up to date, a batch B costs
#     Z[1][:, B] = s·P₀[:, B] + Q[:, B] + b[1]                       n[1]·|B|
#     U[:, B] −= (α/Σw) dZ[1],  Q −= (α/Σw) dZ[1] G[B, :]             n[1]·|B|·M
# instead of n[1]·n_x·|B| twice: for M < n_x, far less. L2 (c = 1 − αλ/Σw) scales s, U and
# Q; momentum keeps its velocity in the same form (v = a·W[1]₀ + R Xᵀ, with R G), and
# ‖W[1]‖² = s²‖W[1]₀‖² + 2s⟨P₀, U⟩ + ⟨Q, U⟩. W[1] itself is materialised on demand.


cdef inline void _dual_linear(Dual* d, int n, int m, floating* H) noexcept nogil:
    """H = s·P₀[:, B] + Q[:, B]: W[1] A[0] of the batch, without touching X."""
    cdef int i, j
    cdef Py_ssize_t k
    cdef floating s = <floating>d.s[0]
    cdef const floating* P0 = <floating*>d.P0
    cdef const floating* Q = <floating*>d.Q
    for i in range(n):
        for j in range(m):
            k = <size_t>i * d.M + d.idx[j]
            H[<size_t>i * m + j] = s * P0[k] + Q[k]


cdef inline double _dot(const floating* a, const floating* b, size_t size) noexcept nogil:
    cdef double total = 0
    cdef size_t k
    for k in range(size):
        total += <double>a[k] * <double>b[k]
    return total


cdef double _dual_sumsq(Dual* d, int n, floating* precision=NULL) noexcept nogil:
    """‖W[1]‖² = s²‖W₀‖² + 2s⟨P₀, U⟩ + ⟨Q, U⟩, in double."""
    cdef size_t size = <size_t>n * d.M
    cdef double s = d.s[0]
    return (s * s * d.w0sq + 2 * s * _dot[floating](<floating*>d.P0, <floating*>d.U, size)
            + _dot[floating](<floating*>d.Q, <floating*>d.U, size))


cdef void _dual_backup(Dual* d, int n, floating* precision=NULL) noexcept nogil:
    cdef size_t size = <size_t>n * d.M * sizeof(floating)
    d.s_save[0] = d.s[0]
    memcpy(d.U_save, d.U, size)
    memcpy(d.Q_save, d.Q, size)


cdef void _dual_update(Layer* lay, Call* c, floating* precision=NULL) noexcept nogil:
    """The first layer's update from its whole dZ[1] (in lay.H): s, U, Q (and momentum's
    a, R, RG) in place of W[1], and b[1] as usual."""
    cdef Dual* d = c.dual
    cdef int n = lay.n, m = c.m, M = d.M, i, j
    cdef size_t k, row
    cdef const floating* dZ = <floating*>lay.H
    cdef floating* U = <floating*>d.U
    cdef floating* Q = <floating*>d.Q
    cdef floating* G = <floating*>d.G
    cdef floating* rows = <floating*>d.rows
    cdef double lam = c.l2 / c.norm, lr = c.lr
    cdef floating decay = <floating>(1 - lr * lam)
    for j in range(m):  # the batch's rows of G (symmetric: its columns too)
        memcpy(rows + <size_t>j * M, G + <size_t>d.idx[j] * M, <size_t>M * sizeof(floating))
    if c.opt == OPT_GD:
        # Q = (1 − αλ/Σw) Q − (α/Σw) dZ[1] G[B, :]; U and s decay alike, and U[:, B] moves.
        _gemm[floating](False, False, n, M, m, <floating>(-lr / c.norm), dZ, m, rows, M,
                        decay, Q, M)
        if lam != 0:
            for k in range(<size_t>n * M):
                U[k] *= decay
            d.s[0] *= 1 - lr * lam
        for i in range(n):
            row = <size_t>i * M
            for j in range(m):
                U[row + d.idx[j]] -= <floating>(lr / c.norm) * dZ[<size_t>i * m + j]
        _update[floating](<floating*>lay.b, <floating*>lay.db, <floating>lr, n)
        return
    _gemm[floating](False, False, n, M, m, <floating>(1.0 / c.norm), dZ, m, rows, M, 0,
                    <floating*>d.E, M)
    _dual_momentum[floating](d, n, m, lam, lr, c.beta1, c.nesterov, dZ, <floating>(1.0 / c.norm))
    _momentum[floating](<floating*>lay.b, <floating*>lay.db, <floating*>lay.vb, c.beta1, lr,
                        c.nesterov, n)


cdef void _dual_momentum(Dual* d, int n, int m, double lam, double lr, double beta,
                         bint nesterov, const floating* dZ, floating inv_norm) noexcept nogil:
    """Momentum on W[1] = s W₀ + U Xᵀ, with dW[1] = a_d W₀ + D Xᵀ, a_d = λs/Σw and
    D = scatter(dZ[1])/Σw + (λ/Σw) U: v = a W₀ + R Xᵀ moves as v does (R G with it, from
    D G = E + (λ/Σw) Q), then s −= α·a_step, U −= α·R_step, Q −= α·RG_step."""
    cdef size_t k, size = <size_t>n * d.M
    cdef int i, j
    cdef floating* U = <floating*>d.U
    cdef floating* Q = <floating*>d.Q
    cdef floating* R = <floating*>d.R
    cdef floating* RG = <floating*>d.RG
    cdef const floating* E = <floating*>d.E
    cdef floating b = <floating>beta, rest = <floating>(1 - beta), rate = <floating>lr
    cdef floating l = <floating>lam, grad, velocity, h
    cdef double a_d = lam * d.s[0]
    for k in range(size):
        grad = l * U[k]
        velocity = b * R[k] + rest * grad
        R[k] = velocity
        U[k] -= rate * (b * velocity + rest * grad if nesterov else velocity)
        grad = l * Q[k] + E[k]
        velocity = b * RG[k] + rest * grad
        RG[k] = velocity
        Q[k] -= rate * (b * velocity + rest * grad if nesterov else velocity)
    # dZ[1]'s own part of D, scattered into the batch's columns: R gains (1 − β)h, and the
    # step (1 − β)h, or with Nesterov's look-ahead β(1 − β)h + (1 − β)h.
    for i in range(n):
        for j in range(m):
            k = <size_t>i * d.M + d.idx[j]
            h = dZ[<size_t>i * m + j] * inv_norm
            R[k] += rest * h
            U[k] -= rate * (rest * h * (1 + b) if nesterov else rest * h)
    d.s[1] = beta * d.s[1] + (1 - beta) * a_d
    d.s[0] -= lr * (beta * d.s[1] + (1 - beta) * a_d if nesterov else d.s[1])


cdef class DualTable:
    """The dual state of one fit's first layer, and the products it starts from.

    Built by the engine at the start of a fit (``P₀ = W₀ X`` by GEMM, ``G = Xᵀ X`` by a
    symmetric rank-k update), handed to every step (``Workspace.run(dual=...)``, with the
    batch's example indices for X), and asked for W[1] (:meth:`materialize`) whenever the
    parameters are read or the fit ends.
    """

    cdef Dual d
    cdef readonly object W0, P0, Q, U, G, rows, E, R, RG, scalars, saved, U_save, Q_save
    cdef readonly object dtype
    cdef readonly int M, n1, capacity
    cdef readonly bint momentum

    def __cinit__(self, W0, X, int capacity, bint momentum, products=None):
        cdef Call layout
        cdef cnp.ndarray Xa
        self.dtype, self.momentum = W0.dtype, momentum
        self.n1, self.M, self.capacity = W0.shape[0], X.shape[1], capacity
        if products is None:
            Xa = X
            if not _matrix_layout(Xa, &layout):
                raise ValueError("X must be C- or F-ordered with unit stride along one axis")
        shape = (self.n1, self.M)
        self.W0 = np.array(W0, order="C", copy=True)
        self.P0, self.G = np.empty(shape, self.dtype), np.empty((self.M, self.M), self.dtype)
        self.Q, self.U = np.zeros(shape, self.dtype), np.zeros(shape, self.dtype)
        self.rows, self.E = np.empty((capacity, self.M), self.dtype), np.empty(shape, self.dtype)
        self.R = np.zeros(shape, self.dtype) if momentum else self.E
        self.RG = np.zeros(shape, self.dtype) if momentum else self.E
        self.U_save, self.Q_save = np.empty(shape, self.dtype), np.empty(shape, self.dtype)
        self.scalars, self.saved = np.array([1.0, 0.0]), np.array([1.0])
        if products is not None:  # a sparse X: P₀ and G from scipy.sparse's products
            np.copyto(self.P0, products[0])
            np.copyto(self.G, products[1])
            layout.X = NULL
        if self.dtype == np.float64:
            self._start[double](&layout, X.shape[0])
        else:
            self._start[float](&layout, X.shape[0])

    cdef void _start(self, Call* x, int n_x, floating* precision=NULL):
        cdef Dual* d = &self.d
        cdef int n1 = self.n1, M = self.M
        cdef floating* W0 = <floating*>cnp.PyArray_DATA(self.W0)
        d.M = M
        d.P0, d.Q, d.U, d.G = (cnp.PyArray_DATA(self.P0), cnp.PyArray_DATA(self.Q),
                               cnp.PyArray_DATA(self.U), cnp.PyArray_DATA(self.G))
        d.rows, d.E = cnp.PyArray_DATA(self.rows), cnp.PyArray_DATA(self.E)
        d.R, d.RG = cnp.PyArray_DATA(self.R), cnp.PyArray_DATA(self.RG)
        d.s, d.s_save = <double*>cnp.PyArray_DATA(self.scalars), <double*>cnp.PyArray_DATA(self.saved)
        d.U_save, d.Q_save = cnp.PyArray_DATA(self.U_save), cnp.PyArray_DATA(self.Q_save)
        with nogil:
            if x.X != NULL:
                _gemm[floating](False, x.xt, n1, M, n_x, 1, W0, n_x, <floating*>x.X, x.ldx, 0,
                                <floating*>d.P0, M)
                _gram[floating](<floating*>x.X, x.ldx, x.xt, n_x, M, <floating*>d.G)
            d.w0sq = _sumsq[floating](W0, <size_t>n1 * n_x)

    cdef Dual* table(self):
        return &self.d

    def materialize(self, W_out, X):
        """W[1] = s·W₀ + U Xᵀ, written into ``W_out`` (n1, n_x)."""
        cdef Call x
        cdef cnp.ndarray Xa
        if hasattr(X, "indptr"):  # sparse: scipy.sparse's product
            np.copyto(W_out, self.dtype.type(self.scalars[0]) * self.W0 + self.U @ X.matrix().T)
            return
        Xa = X
        if not _matrix_layout(Xa, &x):
            raise ValueError("X must be C- or F-ordered with unit stride along one axis")
        np.copyto(W_out, self.W0)
        if self.dtype == np.float64:
            self._materialize[double](&x, X.shape[0], W_out)
        else:
            self._materialize[float](&x, X.shape[0], W_out)

    cdef void _materialize(self, Call* x, int n_x, cnp.ndarray W_out, floating* precision=NULL):
        cdef floating* W = <floating*>cnp.PyArray_DATA(W_out)
        cdef floating s = <floating>self.d.s[0]
        with nogil:
            _gemm[floating](False, not x.xt, self.n1, n_x, self.M, 1, <floating*>self.d.U,
                            self.M, <floating*>x.X, x.ldx, s, W, n_x)

    def restore_backup(self):
        """Back to the state the last accepted step copied before updating."""
        self.scalars[0] = self.saved[0]
        np.copyto(self.U, self.U_save)
        np.copyto(self.Q, self.Q_save)

    def snapshot(self, into=None):
        """(s, U, Q) copies (written into a previous snapshot when given)."""
        if into is None:
            return [float(self.scalars[0]), self.U.copy(), self.Q.copy()]
        into[0] = float(self.scalars[0])
        np.copyto(into[1], self.U)
        np.copyto(into[2], self.Q)
        return into

    def restore(self, snapshot):
        self.scalars[0] = snapshot[0]
        np.copyto(self.U, snapshot[1])
        np.copyto(self.Q, snapshot[2])


cdef void _gram(const floating* X, int ldx, bint xt, int n_x, int M, floating* G) noexcept nogil:
    """G = Xᵀ X (M × M) by one symmetric rank-k update, then mirrored to both triangles.
    Row-major X (n_x, M) is column-major Xᵀ (M, n_x): G = A Aᵀ; an F-ordered X is A itself:
    G = Aᵀ A."""
    cdef char* uplo = b"U"
    cdef char* trans = b"T" if xt else b"N"
    cdef floating one = 1, zero = 0
    cdef int i, j
    if floating is double:
        dsyrk(uplo, trans, &M, &n_x, &one, <double*>X, &ldx, &zero, G, &M)
    else:
        ssyrk(uplo, trans, &M, &n_x, &one, <float*>X, &ldx, &zero, G, &M)
    for j in range(M):  # column-major upper triangle: G[i + j·M] for i <= j
        for i in range(j):
            G[<size_t>j + <size_t>i * M] = G[<size_t>i + <size_t>j * M]
