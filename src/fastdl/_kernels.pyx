# cython: language_level=3
"""Compiled kernels of the "cython" engine.

Two layers, as in scikit-learn's ``_loss.pyx.tp``:

* elementwise loops in ``_fastmath.h`` (bias + activation, dZ with db, the output
  layer's cost with dZ[L]), compiled for AVX-512, AVX2 and baseline x86-64 and chosen
  when the module loads; every matrix product goes through scipy's ``cython_blas``
  (one BLAS for the whole engine: numpy's and scipy's OpenBLAS copies slow each other
  down when their calls interleave);
* :class:`Workspace`, which runs a whole training iteration (forward, cost, backward,
  update of every layer) in ONE call without the GIL, on buffers allocated once.

Layout: row-major ``(n, m)`` matrices, one example per column. BLAS is column-major,
so a row-major product C = op(A) op(B) is computed as Cᵀ = op(B)ᵀ op(A)ᵀ by swapping
the operands; an F-ordered X (a row-per-example array seen transposed) is the same
memory with the transpose flag flipped, so it is never copied.

The small ``def`` functions at the end expose each kernel alone, for the tests.
No kernel validates its input: the Python layer has done that once.
"""
from libc.math cimport INFINITY, NAN, ceil
from libc.stdint cimport uint32_t, uint64_t
from libc.string cimport memcpy, memset
from libc.stdlib cimport calloc, free
from scipy.linalg.cython_blas cimport sgemm, dgemm, sgemv, dgemv, ssyrk, dsyrk
from cpython.pycapsule cimport PyCapsule_GetPointer
from numpy.random cimport bitgen_t

cimport numpy as cnp
import numpy as np

cnp.import_array()

ctypedef fused floating:
    float
    double

cdef extern from *:
    """
    #ifndef FASTDL_DEBUG
    #define FASTDL_DEBUG 0
    #endif
    """
    int FASTDL_DEBUG

cdef extern from "_fastmath.h" nogil:
    enum:
        FDL_LINEAR, FDL_SIGMOID, FDL_TANH, FDL_RELU, FDL_LEAKY_RELU, FDL_SOFTMAX, FDL_CUSTOM,
        FDL_EXP
        FDL_HAVE_LIBMVEC, FDL_FAULT_G, FDL_FAULT_GPRIME
    ctypedef int (*fdl_fn_d)(double, double*) noexcept nogil
    ctypedef int (*fdl_fn_f)(float, float*) noexcept nogil
    ctypedef struct fdl_fault:
        int status
        double z
    void fdl_forward_d(int, double, int, int, const double*, const double*, double*, double*,
                       const double*, double*, fdl_fn_d, fdl_fn_d, fdl_fault*)
    void fdl_forward_f(int, float, int, int, const float*, const float*, float*, float*,
                       const float*, float*, fdl_fn_f, fdl_fn_f, fdl_fault*)
    void fdl_backward_d(int, double, int, int, int, int, double, int, int, const double*,
                        const double*, const double*, const double*, double*, double*, double*)
    void fdl_backward_f(int, float, int, int, int, int, double, int, int, const float*,
                        const float*, const float*, const float*, float*, double*, float*)
    double fdl_softmax_d(int, int, const double*, const double*, const double*, Py_ssize_t,
                         Py_ssize_t, const double*, double*, double*)
    double fdl_softmax_f(int, int, const float*, const float*, const float*, Py_ssize_t,
                         Py_ssize_t, const float*, float*, float*)
    double fdl_output_d(int, double, int, int, const double*, const double*, const double*,
                        Py_ssize_t, Py_ssize_t, const double*, double, double*, double*,
                        fdl_fn_d, fdl_fn_d, fdl_fault*)
    double fdl_output_f(int, float, int, int, const float*, const float*, const float*,
                        Py_ssize_t, Py_ssize_t, const float*, double, float*, float*,
                        fdl_fn_f, fdl_fn_f, fdl_fault*)
    double fdl_sum_d(const double*, size_t)
    double fdl_sum_f(const float*, size_t)
    void fdl_prefetch(const void*)
    double fdl_sumsq_d(const double*, size_t)
    double fdl_sumsq_f(const float*, size_t)
    void fdl_axpy_update_d(double*, const double*, double, size_t)
    void fdl_axpy_update_f(float*, const float*, float, size_t)
    int fdl_all_within_d(const double*, size_t, double, double)
    int fdl_all_within_f(const float*, size_t, float, float)
    void fdl_momentum_update_d(double*, const double*, double*, double, double, double, int,
                               size_t)
    void fdl_momentum_update_f(float*, const float*, float*, float, float, float, int, size_t)
    void fdl_adam_update_d(double*, const double*, double*, double*, double, double, double,
                           double, double, double, double, double, size_t)
    void fdl_adam_update_f(float*, const float*, float*, float*, float, float, float, float,
                           float, float, float, float, size_t)

# Which build this is: FASTDL_DEBUG=1 at build time turns Cython's bounds checks on.
BOUNDSCHECK = bool(FASTDL_DEBUG)
# Whether exp/log1p/tanh loops call libmvec's vector versions (glibc >= 2.35, x86-64).
VECTOR_MATH = bool(FDL_HAVE_LIBMVEC)

ACTIVATION_CODES = {"linear": FDL_LINEAR, "sigmoid": FDL_SIGMOID, "tanh": FDL_TANH,
                    "relu": FDL_RELU, "leaky_relu": FDL_LEAKY_RELU, "softmax": FDL_SOFTMAX,
                    "exp": FDL_EXP, "custom": FDL_CUSTOM}

# What one call of Workspace.run does.
cdef enum:
    MODE_FORWARD = 0    # A[L] into `out`
    MODE_COST = 1       # J
    MODE_GRADIENTS = 2  # J, and dW, db into the workspace's gradient buffers
    MODE_STEP = 3       # J, then (if J is accepted) backup copy and gradient-descent update
FORWARD, COST, GRADIENTS, STEP = MODE_FORWARD, MODE_COST, MODE_GRADIENTS, MODE_STEP

# The update rule of MODE_STEP: plain gradient descent is folded into the dW GEMM; the
# others compute dW, then update W, b and their state (velocities, moments) in one pass.
cdef enum:
    OPT_GD = 0
    OPT_MOMENTUM = 1
    OPT_ADAM = 2
OPTIMIZER_CODES = {"gd": OPT_GD, "momentum": OPT_MOMENTUM, "adam": OPT_ADAM}

# The most examples per block of the backward pass, and the fewest a block is cut to
# for memory's sake (see _backward_pass and _block_width). Measured on the 2-core
# development machine, [784, 256, 128, 1] at m = 4096 (float64), peak array memory of
# fit over the minimum: 1.42x with the memory rule alone (blocks of 2464), 1.24x at
# 1024, 1.18x at 512; one step 56.5, 57.0 and 56.5 ms (medians of 9, inside the noise).
cdef enum:
    FDL_BACKWARD_BLOCK = 1024
    FDL_MIN_BLOCK = 64
BACKWARD_BLOCK, MIN_BLOCK = FDL_BACKWARD_BLOCK, FDL_MIN_BLOCK


# -- typed dispatch to the C loops (one name for both precisions) ---------------------

cdef inline void _forward(int act, floating slope, int n, int m, const floating* lin,
                          const floating* b, floating* A, floating* G, const floating* mask,
                          floating* Am, void* g, void* gprime, fdl_fault* fault) noexcept nogil:
    if floating is double:
        fdl_forward_d(act, slope, n, m, lin, b, A, G, mask, Am, <fdl_fn_d>g, <fdl_fn_d>gprime,
                      fault)
    else:
        fdl_forward_f(act, slope, n, m, lin, b, A, G, mask, Am, <fdl_fn_f>g, <fdl_fn_f>gprime,
                      fault)


cdef inline void _backward(int act, floating slope, int n, int w, int ldd, int lda,
                           double norm, bint first, bint last, const floating* dA,
                           const floating* A, const floating* G, const floating* mask,
                           floating* dZ, double* dbsum, floating* db) noexcept nogil:
    if floating is double:
        fdl_backward_d(act, slope, n, w, ldd, lda, norm, first, last, dA, A, G, mask, dZ,
                       dbsum, db)
    else:
        fdl_backward_f(act, slope, n, w, ldd, lda, norm, first, last, dA, A, G, mask, dZ,
                       dbsum, db)


cdef inline double _softmax(int n, int m, const floating* lin, const floating* b,
                            const floating* Y, Py_ssize_t ys0, Py_ssize_t ys1, floating* A,
                            floating* dZ) noexcept nogil:
    if floating is double:
        return fdl_softmax_d(n, m, lin, b, Y, ys0, ys1, NULL, A, dZ)
    else:
        return fdl_softmax_f(n, m, lin, b, Y, ys0, ys1, NULL, A, dZ)


cdef inline double _output(int act, floating slope, int n, int m, const floating* lin,
                           const floating* b, const floating* Y, Py_ssize_t ys0, Py_ssize_t ys1,
                           const floating* w, double norm, floating* dZ, floating* db,
                           void* g, void* gprime, fdl_fault* fault) noexcept nogil:
    if floating is double:
        return fdl_output_d(act, slope, n, m, lin, b, Y, ys0, ys1, w, norm, dZ, db,
                            <fdl_fn_d>g, <fdl_fn_d>gprime, fault)
    else:
        return fdl_output_f(act, slope, n, m, lin, b, Y, ys0, ys1, w, norm, dZ, db,
                            <fdl_fn_f>g, <fdl_fn_f>gprime, fault)


cdef inline double _sum(const floating* w, size_t size) noexcept nogil:
    if floating is double:
        return fdl_sum_d(w, size)
    else:
        return fdl_sum_f(w, size)


cdef inline double _sumsq(const floating* W, size_t size) noexcept nogil:
    if floating is double:
        return fdl_sumsq_d(W, size)
    else:
        return fdl_sumsq_f(W, size)


cdef inline void _update(floating* theta, const floating* d, floating lr, size_t size) noexcept nogil:
    if floating is double:
        fdl_axpy_update_d(theta, d, lr, size)
    else:
        fdl_axpy_update_f(theta, d, lr, size)


cdef inline void _momentum(floating* theta, const floating* d, floating* v, double beta,
                           double lr, bint nesterov, size_t size) noexcept nogil:
    if floating is double:
        fdl_momentum_update_d(theta, d, v, beta, 1 - beta, lr, nesterov, size)
    else:
        fdl_momentum_update_f(theta, d, v, <float>beta, <float>(1 - beta), <float>lr, nesterov,
                              size)


cdef inline void _adam(floating* theta, const floating* d, floating* v, floating* s, Call* c,
                       size_t size) noexcept nogil:
    if floating is double:
        fdl_adam_update_d(theta, d, v, s, c.beta1, 1 - c.beta1, c.beta2, 1 - c.beta2, c.lr,
                          c.c1, c.c2, c.eps, size)
    else:
        fdl_adam_update_f(theta, d, v, s, <float>c.beta1, <float>(1 - c.beta1), <float>c.beta2,
                          <float>(1 - c.beta2), <float>c.lr, <float>c.c1, <float>c.c2,
                          <float>c.eps, size)


cdef inline void _gemm(bint trans_a, bint trans_b, int M, int N, int K, floating alpha,
                       const floating* A, int lda, const floating* B, int ldb, floating beta,
                       floating* C, int ldc) noexcept nogil:
    """Row-major C (M×N) = alpha op(A) op(B) + beta C through column-major BLAS.

    Row-major memory read column-major is the transpose, so compute
    Cᵀ = op(B)ᵀ op(A)ᵀ: swap the operands and their dimensions, keep the flags.
    A product with one output row or column (a one-unit layer, m = 1) is a
    matrix-vector product: OpenBLAS's GEMM takes ~3x as long as GEMV there.
    """
    cdef char* ta = b"T" if trans_a else b"N"
    cdef char* tb = b"T" if trans_b else b"N"
    if M == 1 or N == 1:
        _gemv_for_gemm[floating](trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)
    elif floating is double:
        dgemm(tb, ta, &N, &M, &K, &alpha, <double*>B, &ldb, <double*>A, &lda, &beta, C, &ldc)
    else:
        sgemm(tb, ta, &N, &M, &K, &alpha, <float*>B, &ldb, <float*>A, &lda, &beta, C, &ldc)


cdef inline void _gemv_for_gemm(bint trans_a, bint trans_b, int M, int N, int K,
                                floating alpha, const floating* A, int lda, const floating* B,
                                int ldb, floating beta, floating* C, int ldc) noexcept nogil:
    """:func:`_gemm` for M == 1 (C is a row: cᵀ = op(B)ᵀ a) or N == 1 (C is a column:
    c = op(A) b). beta == 0 must ignore C's old contents (our buffers start uninitialised,
    and some OpenBLAS versions scale NaN by 0 to NaN), so C is zeroed first."""
    cdef char* t
    cdef int rows, cols, ld, incx, incy
    cdef const floating* mat
    cdef const floating* x
    if M == 1:
        # Row-major op(B) (K×N) read column-major is op(B)ᵀ: no transpose gives op(B)ᵀ a.
        mat, ld, x, incy = B, ldb, A, 1
        incx = lda if trans_a else 1
        t = b"T" if trans_b else b"N"
        rows, cols = (K, N) if trans_b else (N, K)
    else:
        # c = op(A) b: row-major op(A) (M×K) read column-major is op(A)ᵀ, so transpose it.
        mat, ld, x, incy = A, lda, B, ldc
        incx = 1 if trans_b else ldb
        t = b"N" if trans_a else b"T"
        rows, cols = (M, K) if trans_a else (K, M)
    if beta == 0:
        if incy == 1:
            memset(C, 0, <size_t>(N if M == 1 else M) * sizeof(floating))
        else:
            for k in range(M):
                C[<size_t>k * incy] = 0
    if floating is double:
        dgemv(t, &rows, &cols, &alpha, <double*>mat, &ld, <double*>x, &incx, &beta, C, &incy)
    else:
        sgemv(t, &rows, &cols, &alpha, <float*>mat, &ld, <float*>x, &incx, &beta, C, &incy)


cdef inline bint _accept(double J, double limit) noexcept nogil:
    """Whether a cost allows the update: finite and at most ``limit``. NaN fails ``<=``,
    which is why the build must never assume finite math (-ffinite-math-only)."""
    return J <= limit and J - J == 0


# -- the whole iteration --------------------------------------------------------------

cdef struct Layer:
    int n, n_prev, act
    void* W           # parameters, owned by the Network, updated in place
    void* b
    void* W_save      # backup copies (NULL: no backup this call)
    void* b_save
    void* H           # (n, cap): W A_prev, then A in place, then dZ in place (backward)
    void* G           # (n, cap): g'(z), for custom hidden activations only (see fdl_forward)
    void* dW          # (n, n_prev): gradients mode only
    void* db          # (n,): always; the update reads it after the cost check
    double* dbsum     # (n,): db's running sums over the blocks of the backward pass
    void* mask        # this call's dropout mask (n, m), or NULL
    void* drawn       # (n, cap): the masks this layer draws itself (keep < 1), or NULL
    double keep       # the keep probability of the masks drawn here (1: no dropout)
    void* Am          # (n, cap): A * mask, what the next layer reads under dropout
    void* g           # custom activations: T (*)(T) for g and g'(z)
    void* gprime
    void* vW          # optimizer state: velocities / first moments (momentum, Adam)
    void* vb
    void* sW          # second moments (Adam)
    void* sb


cdef struct Dual:
    # The first layer in dual form (see _dual.pxi): W[1] = s·W[1]₀ + U Xᵀ over the M
    # training examples, with P₀ = W[1]₀ X, G = Xᵀ X and Q = U G kept, so that a batch's
    # Z[1] = s·P₀[:, B] + Q[:, B] + b[1] costs n[1]·|B| and its update n[1]·|B|·M.
    int M
    const Py_ssize_t* idx   # the batch's example indices (m of them)
    void* P0          # (n1, M)
    void* Q           # (n1, M): U G
    void* U           # (n1, M)
    void* G           # (M, M)
    void* rows        # (cap, M): the batch's rows of G, gathered
    void* E           # (n1, M): the batch's dZ[1] G[B, :] / Σw (momentum)
    void* R           # (n1, M): momentum's velocity, in the same form (v = a·W₀ + R Xᵀ)
    void* RG          # (n1, M): R G
    double* s         # [s, a]: W₀'s coefficient in W[1] and in the velocity
    double w0sq       # ‖W[1]₀‖²
    double* s_save    # the backup of [s], U and Q (not of W[1], which is not kept up to date)
    void* U_save
    void* Q_save


cdef struct Sparse:
    # The buffers of a fit on sparse X with W[1] held transposed (see _sparse.pxi).
    int* slot         # (n_x,): a feature's place among the batch's touched rows, or −1
    int* feats        # (cap,): the batch's distinct features
    void* rows        # (cap, n1): their saved rows of WT (gd), or dW's rows (momentum, Adam)
    void* zeros       # (n1,): dW of an untouched row
    double* acc       # (n1,): one example's sums
    int K             # the batch's distinct features
    bint saved_rows   # the last accepted step saved its touched rows (its backup)


cdef struct Call:
    int mode, m, ldx
    bint xt           # X is stored transposed (F order): flip the BLAS flag
    void* X
    void* Y
    Py_ssize_t ys0, ys1
    void* w           # per-example weights (m,), or NULL
    double norm       # what sums over examples are divided by: m, or the sum of the weights
    double lr, l2, limit
    void* out
    bint backup
    int opt           # OPT_*: the update rule of MODE_STEP
    bint nesterov     # momentum with Nesterov's look-ahead
    int block         # the backward pass's column block (examples per block)
    void* dA          # (max hidden n, block): dA[l] of one block, for each hidden layer in turn
    double beta1, beta2, eps, c1, c2  # momentum's beta is beta1; c1, c2: Adam's corrections
    bitgen_t* gen     # numpy's bit generator for the dropout masks drawn here, or NULL
    Dual* dual        # the first layer in dual form (X is then the batch's indices), or NULL
    bint sparse       # X is CSC (the sp_* arrays) instead of a dense matrix
    const int* sp_indptr   # (M + 1,) column starts of the whole matrix
    const int* sp_indices  # (nnz,) row (feature) of each stored value, sorted per column
    void* sp_data          # (nnz,) the stored values
    const Py_ssize_t* sp_idx  # the batch's columns (m of them), or NULL: columns 0..m−1
    bint sp_wt        # W[1] is held transposed (n_x, n1) in layer 0's W, with c.sp's buffers
    Sparse* sp
    double J          # the result of the call
    fdl_fault fault   # the first failure of a custom activation, if any
    int fault_layer   # ... and in which layer (0-based)


cdef inline void* _input_of(Layer* layers, int l, Call* c, int* ld, bint* trans) noexcept nogil:
    """A[l−1] as layer l (0-based) reads it: X, or the previous layer's (masked) A."""
    if l == 0:
        ld[0], trans[0] = c.ldx, c.xt
        return c.X
    ld[0], trans[0] = c.m, False
    if layers[l - 1].mask != NULL:
        return layers[l - 1].Am
    return layers[l - 1].H


cdef double _iterate(floating slope, Layer* layers, int L, Call* c) noexcept nogil:
    """Forward, cost, backward and update for every layer; returns J (0 when predicting).

    Gradient descent is folded into the dW GEMM: W := (1 − αλ/m) W − (α/m) dZ A_prevᵀ,
    with beta carrying the L2 decay (1 without L2); with per-example weights, dZ[L] carries
    them and every 1/m is 1/Σw (``c.norm``), so weight 2 is the example twice and weight 0
    leaves it out. Momentum and Adam compute dW, then
    update W, b and their state in one pass per layer. dA_prev = Wᵀ dZ is computed first, from
    the pre-update W, and there is no dA[0]. Nothing is updated before J is known and
    found finite and within ``limit``, and the backup is copied just before. A custom
    activation that fails (its Python function raised) ends the call at once with NaN and
    ``c.fault`` set; all user code runs in the forward and output passes, so nothing has
    been updated then.
    """
    cdef int l, m = c.m, ld
    cdef bint trans
    cdef Layer* lay
    cdef const floating* P
    cdef floating* out
    cdef double J, reg = 0
    for l in range(L):
        lay = &layers[l]
        if c.gen != NULL and l < L - 1 and lay.keep < 1:
            _draw_mask[floating](c.gen, <floating*>lay.mask, <size_t>lay.n * m, lay.keep)
        if l == 0 and c.dual != NULL:
            _dual_linear[floating](c.dual, lay.n, m, <floating*>lay.H)
        elif l == 0 and c.sparse and c.sp_wt:
            _sparse_linear_t[floating](lay.n, m, <floating*>lay.W, c, <floating*>lay.H, c.sp.acc)
        elif l == 0 and c.sparse:
            _sparse_linear[floating](lay.n, m, <floating*>lay.W, lay.n_prev, c, <floating*>lay.H)
        else:
            P = <floating*>_input_of(layers, l, c, &ld, &trans)
            _gemm[floating](False, trans, lay.n, m, lay.n_prev, 1, <floating*>lay.W, lay.n_prev,
                            P, ld, 0, <floating*>lay.H, m)
        if l == L - 1 and c.mode != MODE_FORWARD:
            break
        out = <floating*>c.out if l == L - 1 else <floating*>lay.H
        if lay.act == FDL_SOFTMAX:
            _softmax[floating](lay.n, m, <floating*>lay.H, <floating*>lay.b, NULL, 0, 0, out, NULL)
        else:
            _forward[floating](lay.act, slope, lay.n, m, <floating*>lay.H, <floating*>lay.b, out,
                               <floating*>lay.G if c.mode >= MODE_GRADIENTS else NULL,
                               <floating*>lay.mask, <floating*>lay.Am, lay.g, lay.gprime,
                               &c.fault)
        if c.fault.status:
            c.fault_layer = l
            return NAN
    if c.mode == MODE_FORWARD:
        return 0
    c.norm = _sum[floating](<floating*>c.w, m) if c.w != NULL else m
    lay = &layers[L - 1]
    J = _output[floating](lay.act, slope, lay.n, m, <floating*>lay.H, <floating*>lay.b,
                          <floating*>c.Y, c.ys0, c.ys1, <floating*>c.w, c.norm,
                          <floating*>lay.H, <floating*>lay.db,
                          lay.g, lay.gprime if c.mode >= MODE_GRADIENTS else NULL, &c.fault)
    if c.fault.status:  # nothing is updated: every call of user code is behind us
        c.fault_layer = L - 1
        return NAN
    if c.l2 != 0:
        for l in range(L):
            if l == 0 and c.dual != NULL:
                reg += _dual_sumsq[floating](c.dual, layers[0].n)
            else:
                reg += _sumsq[floating](<floating*>layers[l].W,
                                        <size_t>layers[l].n * layers[l].n_prev)
        J += c.l2 / (2.0 * c.norm) * reg
    if c.mode == MODE_COST or (c.mode == MODE_STEP and not _accept(J, c.limit)):
        return J
    if c.mode == MODE_STEP and c.backup:
        for l in range(L):
            lay = &layers[l]
            if l == 0 and c.dual != NULL:
                _dual_backup[floating](c.dual, lay.n)
            elif l == 0 and c.sparse and c.sp_wt and c.l2 == 0:
                pass  # saved as the update goes (_sparse_backward_t): only its rows change
            else:
                memcpy(lay.W_save, lay.W, <size_t>lay.n * lay.n_prev * sizeof(floating))
            memcpy(lay.b_save, lay.b, <size_t>lay.n * sizeof(floating))
    _backward_pass[floating](slope, layers, L, c)
    return J


DEF UNIT_BITS = 21  # three units a 64-bit draw
DEF UNIT_MASK = (1 << UNIT_BITS) - 1


cdef void _draw_mask(bitgen_t* gen, floating* mask, size_t count, double keep) noexcept nogil:
    """Inverted dropout's D/keep for ``count`` units in C order, exactly as
    fastdl._batches.DropoutMasks draws them: each 64-bit draw of the generator gives three
    units, its bits 0-20, 21-41 and 42-62 u, kept when u < ⌈keep·2²¹⌉ (so each is kept with
    probability keep, to 2⁻²¹) and then worth 1/keep in the dtype. Three units a draw
    make a third fewer calls of the generator than two (whose draws were half of what
    dropout added to a [2, 16, 8, 1] step); the values are written as bit patterns (1/keep's,
    or zero's) because the outcomes are random by design: a branch would mispredict, and an
    int-to-float conversion chain each store to the one before (measured: 2.4 against 4.5 ns
    a unit)."""
    cdef size_t k, i, whole = count - count % 3
    cdef uint64_t r, threshold = <uint64_t>ceil(keep * <double>(1 << UNIT_BITS))
    cdef uint64_t bits64
    cdef uint32_t bits32
    cdef floating scale = <floating>(1.0 / keep)
    cdef uint64_t* out64 = <uint64_t*>mask
    cdef uint32_t* out32 = <uint32_t*>mask
    if floating is double:
        memcpy(&bits64, &scale, 8)
    else:
        memcpy(&bits32, &scale, 4)
    for k in range(0, whole, 3):
        r = gen.next_uint64(gen.state)
        if floating is double:
            out64[k] = bits64 & (0 - <uint64_t>((r & UNIT_MASK) < threshold))
            out64[k + 1] = bits64 & (0 - <uint64_t>(((r >> UNIT_BITS) & UNIT_MASK) < threshold))
            out64[k + 2] = bits64 & (0 - <uint64_t>(((r >> (2 * UNIT_BITS)) & UNIT_MASK) < threshold))
        else:
            out32[k] = bits32 & (0 - <uint32_t>((r & UNIT_MASK) < threshold))
            out32[k + 1] = bits32 & (0 - <uint32_t>(((r >> UNIT_BITS) & UNIT_MASK) < threshold))
            out32[k + 2] = bits32 & (0 - <uint32_t>(((r >> (2 * UNIT_BITS)) & UNIT_MASK) < threshold))
    if whole < count:
        r = gen.next_uint64(gen.state)
        for i in range(count - whole):
            mask[whole + i] = scale if ((r >> (i * UNIT_BITS)) & UNIT_MASK) < threshold else 0


cdef void _backward_pass(floating slope, Layer* layers, int L, Call* c) noexcept nogil:
    """dZ[L] (over the output layer's H) and db[L] are ready; walk down the layers (see
    :func:`_iterate`), one block of at most ``c.block`` columns (examples) at a time.

    Each layer's dZ is written over its A, which backprop no longer needs once the layer
    above has used it for its dW. Examples are independent in the backward pass except
    through the sums dW and db, so dA[l] = W[l+1]ᵀ dZ[l+1] is made one column block at a
    time, in one block-sized buffer, not one per layer of the whole batch; dW and db
    accumulate over the blocks. With a single block, gradient descent is folded into the
    dW GEMM; with several, every update waits for the last block (W is still read by the
    dA products of the blocks before it), and it reads dW from the gradient buffers.
    """
    cdef int l, m = c.m, ld, w, start
    cdef bint trans, first, last, fused = c.mode == MODE_STEP and c.opt == OPT_GD and c.block >= m
    cdef Layer* lay
    cdef const floating* P
    cdef floating* dZ
    cdef floating beta
    start = 0
    while start < m:
        w = min(c.block, m - start)
        first, last = start == 0, start + w == m
        for l in range(L - 1, -1, -1):
            lay = &layers[l]
            dZ = <floating*>lay.H + start
            if l < L - 1:  # this block's dA[l], made by the layer above, into dZ[l], db[l]
                _backward[floating](lay.act, slope, lay.n, w, w, m, c.norm, first, last,
                                    <floating*>c.dA, dZ,
                                    <floating*>lay.G + start if lay.G != NULL else NULL,
                                    <floating*>lay.mask + start if lay.mask != NULL else NULL,
                                    dZ, lay.dbsum, <floating*>lay.db)
            if l == 0 and c.dual != NULL:
                continue  # the dual update follows, once dZ[1] is whole
            if l == 0 and c.sparse and c.sp_wt:
                _sparse_backward_t[floating](lay, c, start, w, first, last)
                continue
            if l == 0 and c.sparse:
                _sparse_backward[floating](lay, c, start, w, first, last)
                continue
            P = <floating*>_input_of(layers, l, c, &ld, &trans)
            P += <size_t>start * ld if (l == 0 and trans) else start
            if l > 0:
                _gemm[floating](True, False, lay.n_prev, w, lay.n, 1, <floating*>lay.W,
                                lay.n_prev, dZ, m, 0, <floating*>c.dA, w)
            if fused:
                _gemm[floating](False, not trans, lay.n, lay.n_prev, w, <floating>(-c.lr / c.norm),
                                dZ, m, P, ld, <floating>(1 - c.lr * c.l2 / c.norm),
                                <floating*>lay.W, lay.n_prev)
                _update[floating](<floating*>lay.b, <floating*>lay.db, <floating>c.lr, lay.n)
                continue
            beta = 1
            if first:
                beta = 0
                if c.l2 != 0:  # dW = (1/m) dZ A_prevᵀ + (λ/m) W: W copied in, scaled by beta
                    memcpy(lay.dW, lay.W, <size_t>lay.n * lay.n_prev * sizeof(floating))
                    beta = <floating>(c.l2 / c.norm)
            _gemm[floating](False, not trans, lay.n, lay.n_prev, w, <floating>(1.0 / c.norm),
                            dZ, m, P, ld, beta, <floating*>lay.dW, lay.n_prev)
            if c.mode == MODE_STEP and last:  # every block has used W for its dA
                _apply_update[floating](lay, c)
        start += w
    if c.dual != NULL:
        _dual_update[floating](&layers[0], c)


cdef inline void _apply_update(Layer* lay, Call* c, floating* precision=NULL) noexcept nogil:
    """Layer ``lay``'s update from its dW and db by the rule ``c.opt``, with its state.
    (``precision`` is never read: a fused function needs its type in the signature.)"""
    cdef size_t size = <size_t>lay.n * lay.n_prev
    if c.opt == OPT_GD:
        _update[floating](<floating*>lay.W, <floating*>lay.dW, <floating>c.lr, size)
        _update[floating](<floating*>lay.b, <floating*>lay.db, <floating>c.lr, lay.n)
    elif c.opt == OPT_MOMENTUM:
        _momentum[floating](<floating*>lay.W, <floating*>lay.dW, <floating*>lay.vW, c.beta1,
                            c.lr, c.nesterov, size)
        _momentum[floating](<floating*>lay.b, <floating*>lay.db, <floating*>lay.vb, c.beta1,
                            c.lr, c.nesterov, lay.n)
    else:
        _adam[floating](<floating*>lay.W, <floating*>lay.dW, <floating*>lay.vW,
                        <floating*>lay.sW, c, size)
        _adam[floating](<floating*>lay.b, <floating*>lay.db, <floating*>lay.vb,
                        <floating*>lay.sb, c, lay.n)


include "_dual.pxi"
include "_sparse.pxi"
include "_workspace.pxi"
include "_kernel_wrappers.pxi"
