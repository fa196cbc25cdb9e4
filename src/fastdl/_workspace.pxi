# Included by _kernels.pyx: the buffers of one network and the call into _iterate.


cdef bint _matrix_layout(cnp.ndarray X, Call* c):
    """Point ``c`` at X (n_x, m) for BLAS without a copy: row-major with leading dimension
    ``ldx``, or column-major (F order) read as its transpose. False for other strides."""
    cdef Py_ssize_t item = cnp.PyArray_ITEMSIZE(X)
    cdef Py_ssize_t rows = cnp.PyArray_DIMS(X)[0], cols = cnp.PyArray_DIMS(X)[1]
    cdef Py_ssize_t s0 = cnp.PyArray_STRIDES(X)[0], s1 = cnp.PyArray_STRIDES(X)[1]
    c.X = cnp.PyArray_DATA(X)
    if (s1 == item or cols == 1) and (rows == 1 or (s0 > 0 and s0 % item == 0 and s0 // item >= cols)):
        c.xt = False
        c.ldx = <int>(s0 // item if rows > 1 else cols)
        return True
    if (s0 == item or rows == 1) and (cols == 1 or (s1 > 0 and s1 % item == 0 and s1 // item >= rows)):
        c.xt = True
        c.ldx = <int>(s1 // item if cols > 1 else rows)
        return True
    return False


cdef struct BlockRule:
    # What the block width of the backward pass depends on: the network's sizes alone.
    int limit          # the most examples per block (BACKWARD_BLOCK)
    double tallest     # the widest hidden layer (0: no hidden layer, no dA buffer)
    double weights     # entries of all W and b
    double units       # Σ n[l] over the layers: activations per example


cdef BlockRule _block_rule(layer_dims, int limit):
    cdef BlockRule rule
    dims = list(layer_dims)
    rule.limit = limit
    rule.tallest = max(dims[1:len(dims) - 1], default=0)
    rule.weights = sum(n * (n_prev + 1) for n_prev, n in zip(dims, dims[1:]))
    rule.units = sum(dims[1:])
    return rule


cdef inline int _block_for(BlockRule* rule, int m) noexcept nogil:
    """Examples per block of the backward pass for a batch of ``m``: see _block_width."""
    cdef int width = min(rule.limit, m)
    cdef double activations = rule.units * m
    if rule.tallest == 0 or rule.tallest * m <= rule.weights + 0.4 * activations:
        return width
    cdef int share = <int>(0.4 * activations / rule.tallest)
    return min(width, max(<int>FDL_MIN_BLOCK, share))


cdef int _largest_block(BlockRule* rule, int capacity) noexcept nogil:
    """The widest block any batch of up to ``capacity`` examples gets: the dA buffer's width.
    _block_for grows with m on each side of the one m where splitting starts, so the widest
    is at ``capacity`` or just before that point."""
    cdef int widest = _block_for(rule, capacity), m, split
    cdef double gap = rule.tallest - 0.4 * rule.units
    if gap > 0:
        split = <int>min(rule.weights / gap, <double>capacity)
        for m in range(split - 1, split + 2):
            if 1 <= m <= capacity:
                widest = max(widest, _block_for(rule, m))
    return widest


def _block_width(layer_dims, int m, int limit):
    """Examples per block of the backward pass for a batch of ``m``.

    Blocks bound the hidden layers' dA buffer: (widest hidden layer) × block entries.
    One block over the whole batch lets gradient descent fold into the dW GEMM with no dW
    buffer; several need one (as many entries as the weights). So a batch is split only
    where its dA would take more than the weights and 2/5 of the activations together,
    and then into blocks whose dA takes at most 2/5 of the activations. Either way the
    training buffers (parameters, backup, activations, dA, dW) stay within 1.5x of what
    the network needs (parameters, gradients, activations; see benchmarks/README.md).
    Never more than ``limit`` (BACKWARD_BLOCK), and never under MIN_BLOCK columns unless
    ``limit`` is: narrower blocks cost more in BLAS calls than their memory is worth (a
    [2, 16, 8, 1] step at m = 32 took 18% longer in two blocks of 16 than in one).

    The width depends on the batch alone, never on the workspace's capacity (the largest
    batch seen so far): the blocks fix the order in which dW and db are summed, and a
    fit's bits must not depend on what the network computed before it.
    """
    cdef BlockRule rule = _block_rule(layer_dims, limit)
    return _block_for(&rule, m)


def _largest_block_width(layer_dims, int capacity, int limit):
    """The widest block of any batch of 1..``capacity`` examples (the dA buffer's width)."""
    cdef BlockRule rule = _block_rule(layer_dims, limit)
    return _largest_block(&rule, capacity)


cdef void* _weights_of(cnp.ndarray weights, dtype, int m) except NULL:
    """The data of m per-example weights; anything else is a caller's bug, refused."""
    if (weights.dtype != dtype or cnp.PyArray_SIZE(weights) != m
            or not cnp.PyArray_IS_C_CONTIGUOUS(weights)):
        raise ValueError(f"weights must be {m} contiguous values of dtype {dtype}")
    return cnp.PyArray_DATA(weights)


class ActivationFault(Exception):
    """A custom activation's Python function raised inside the compiled iteration.

    ``args``: (layer, 0-based; which function, FAULT_G or FAULT_GPRIME; the z it failed at).
    Nothing was updated; the engine turns this into the user's own exception.
    """


FAULT_G, FAULT_GPRIME = FDL_FAULT_G, FDL_FAULT_GPRIME


cdef class Workspace:
    """The buffers of one network for batches of up to ``capacity`` examples, and the
    C table of per-layer pointers that :meth:`run` hands to the compiled iteration.

    Built once per (network, batch size) and reused: a call with m <= capacity uses the
    first n·m entries of each buffer (so a last, smaller mini-batch needs nothing new).
    Each layer's buffer H holds W A_prev, then A, then (training) dZ. The block buffer of
    the hidden layers' dA (see ``_backward_pass``), dropout buffers and gradient buffers
    are allocated on first use, each group all at once: a MemoryError leaves the table as
    it was (no pointer to a buffer that does not exist), and a later call simply tries
    again. Parameters and backups are bound by identity: the table is rebuilt only when
    the list holds different array objects (the bound ones are kept alive, so an identity
    match can never be a recycled address). Not thread-safe: one caller at a time.
    """

    cdef Layer* layers
    cdef readonly int L, capacity, block_limit
    cdef BlockRule rule
    cdef void* _dA
    cdef bint is_double
    cdef double slope
    cdef object dtype
    cdef list _keep       # every array the table points into
    cdef list _bound      # [W1, b1, W2, b2, ...] the table's W, b point at
    cdef list _bound_backup
    cdef list _db         # db[l] arrays, (n[l], 1)
    cdef list _bound_state  # per layer, the optimizer state arrays the table points into
    cdef bint _training, _masked
    cdef list _drawn      # per hidden layer, the buffer of the masks it draws (or None)
    cdef object _bound_keep, _rng, _lock  # the last dropout call's keep list and generator
    cdef Sparse _sp
    cdef object _sp_arrays
    cdef bitgen_t* _gen
    cdef readonly list grads

    def __cinit__(self, layer_dims, codes, double slope, dtype, int capacity, functions=None,
                  int block=BACKWARD_BLOCK):
        cdef int l
        cdef double* sums
        if block < 1:
            raise ValueError(f"block must be a positive number of columns; got {block}")
        self.L = len(layer_dims) - 1
        self.block_limit = block
        self.rule = _block_rule(layer_dims, block)
        self.layers = <Layer*>calloc(self.L, sizeof(Layer))
        if self.layers == NULL:
            raise MemoryError()
        self.capacity, self.slope, self.dtype = capacity, slope, np.dtype(dtype)
        self.is_double = self.dtype == np.float64
        self._keep, self._bound, self._bound_backup = [], [None] * 2 * self.L, [None] * 2 * self.L
        self.grads, self._db, self._drawn = None, [], [None] * self.L
        sums = <double*>cnp.PyArray_DATA(self._array((sum(layer_dims[1:]),), np.float64))
        for l in range(self.L):
            lay = &self.layers[l]
            lay.n, lay.n_prev, lay.act = layer_dims[l + 1], layer_dims[l], codes[l]
            lay.keep = 1.0
            lay.H = self._buffer((lay.n, capacity))
            lay.db = self._buffer((lay.n, 1))
            lay.dbsum = sums
            sums += lay.n
            self._db.append(self._keep[len(self._keep) - 1])
            if lay.act == FDL_CUSTOM:
                lay.g, lay.gprime = <void*><size_t>functions[l][0], <void*><size_t>functions[l][1]
                if l < self.L - 1:  # the output layer's g' is taken in the output pass
                    lay.G = self._buffer((lay.n, capacity))

    def __dealloc__(self):
        free(self.layers)

    @property
    def block(self):
        """The block width of a batch of ``capacity`` examples."""
        return _block_for(&self.rule, self.capacity)

    cdef object _array(self, shape, dtype):
        array = np.empty(shape, dtype=dtype)
        self._keep.append(array)
        return array

    cdef void* _buffer(self, shape):
        return cnp.PyArray_DATA(self._array(shape, self.dtype))

    cdef _start_training(self):
        cdef int l, tallest = 0
        for l in range(self.L - 1):
            tallest = max(tallest, self.layers[l].n)
        if tallest:
            self._dA = self._buffer((tallest, _largest_block(&self.rule, self.capacity)))
        self._training = True

    cdef _gradient_buffers(self):
        # All of them first: a MemoryError part-way must not leave layers without a dW.
        arrays = [np.empty((self.layers[l].n, self.layers[l].n_prev), dtype=self.dtype)
                  for l in range(self.L)]
        self._keep.extend(arrays)
        for l in range(self.L):
            self.layers[l].dW = cnp.PyArray_DATA(arrays[l])
        self.grads = [(dW, db) for dW, db in zip(arrays, self._db)]

    cdef int _bind(self, params, list bound, bint backup) except -1:
        """Point the table at the (W, b) arrays in ``params`` if they are new objects."""
        cdef int l
        for l in range(self.L):
            W, b = params[l]
            if W is bound[2 * l] and b is bound[2 * l + 1]:
                continue
            bound[2 * l], bound[2 * l + 1] = W, b
            if backup:
                self.layers[l].W_save = cnp.PyArray_DATA(W)
                self.layers[l].b_save = cnp.PyArray_DATA(b)
            else:
                self.layers[l].W = cnp.PyArray_DATA(W)
                self.layers[l].b = cnp.PyArray_DATA(b)
        return 0

    cdef int _bind_state(self, state, int opt) except -1:
        """Point the table at an optimizer's state, a list of one tuple per layer:
        (vW, vb) for momentum, (vW, vb, sW, sb) for Adam. Like the parameters, the arrays
        are bound by identity, checked on every call, and kept alive while bound."""
        cdef int l, k, width = 2 if opt == OPT_MOMENTUM else 4
        cdef list bound = self._bound_state
        if not isinstance(state, (list, tuple)) or len(state) != self.L:
            raise ValueError(f"optimizer state must hold one tuple per layer ({self.L})")
        for l in range(self.L):
            arrays = state[l]
            # Lengths first: indexing runs without bounds checks in the release build.
            if bound is not None and len(arrays) == width and len(bound[l]) == width:
                for k in range(width):
                    if arrays[k] is not bound[l][k]:
                        break
                else:
                    continue
            shapes = [(self.layers[l].n, self.layers[l].n_prev), (self.layers[l].n, 1)]
            if len(arrays) != width:
                raise ValueError(f"optimizer state of layer {l + 1} holds {len(arrays)} "
                                 f"arrays; expected {width}")
            for k, array in enumerate(arrays):
                if (not isinstance(array, np.ndarray) or array.dtype != self.dtype
                        or array.shape != shapes[k % 2] or not array.flags.c_contiguous
                        or not array.flags.writeable):
                    raise ValueError(f"optimizer state of layer {l + 1} does not match W, b")
            self.layers[l].vW = cnp.PyArray_DATA(arrays[0])
            self.layers[l].vb = cnp.PyArray_DATA(arrays[1])
            if width == 4:
                self.layers[l].sW = cnp.PyArray_DATA(arrays[2])
                self.layers[l].sb = cnp.PyArray_DATA(arrays[3])
            if bound is None:
                bound = self._bound_state = [()] * self.L
            bound[l] = tuple(arrays)
        return 0

    cdef list _bind_masks(self, masks, keep):
        """Point each hidden layer at its dropout mask: a given one (``masks``), one it
        draws itself (``keep``, a keep probability per hidden layer), or none (NULL).
        Returns what to keep alive. The buffers a layer needs come all at once."""
        cdef int l
        kept = []
        self._masked = masks is not None or keep is not None
        for l in range(self.L - 1):
            lay = &self.layers[l]
            mask = masks[l] if masks is not None and l < len(masks) else None
            p = keep[l] if keep is not None else 1.0
            lay.mask, lay.keep = NULL, 1.0
            if mask is None and p >= 1:
                continue
            if lay.Am == NULL or (mask is None and lay.drawn == NULL):
                Am = self._array((lay.n, self.capacity), self.dtype) if lay.Am == NULL else None
                drawn = (self._array((lay.n, self.capacity), self.dtype)
                         if mask is None and lay.drawn == NULL else None)
                if Am is not None:
                    lay.Am = cnp.PyArray_DATA(Am)
                if drawn is not None:
                    lay.drawn = cnp.PyArray_DATA(drawn)
                    self._drawn[l] = drawn
            if mask is None:
                lay.mask, lay.keep = lay.drawn, p
                continue
            mask = np.ascontiguousarray(mask, dtype=self.dtype)
            kept.append(mask)
            lay.mask = cnp.PyArray_DATA(mask)
        return kept

    def drawn_masks(self, int m):
        """Copies of the masks the hidden layers drew in the last call, for a batch of m
        (None where a layer drew none): what the tests inspect."""
        out = []
        for l in range(self.L - 1):
            lay = &self.layers[l]
            drawn = self._drawn[l]
            if lay.keep >= 1 or drawn is None:
                out.append(None)
            else:  # the first n·m entries, (n, m) row-major, as the iteration used them
                out.append(drawn.reshape(-1)[:lay.n * m].reshape(lay.n, m).copy())
        return out

    def run(self, params, X, Y, int mode, double lr=0.0, double l2=0.0, masks=None,
            double limit=INFINITY, backup=None, out=None, int opt=OPT_GD, state=None,
            double beta1=0.0, double beta2=0.0, double eps=0.0, double c1=1.0, double c2=1.0,
            bint nesterov=False, weights=None, dropout=None, rng=None, dual=None,
            bint transposed=False):
        """One compiled call: A[L] into ``out`` (MODE_FORWARD), or J (MODE_COST), or J with
        gradients in :attr:`grads` (MODE_GRADIENTS), or J and one update with learning
        rate ``lr`` (MODE_STEP) by the rule ``opt`` (OPT_*; momentum and Adam update
        ``state`` too, see :meth:`_bind_state`; momentum's beta is ``beta1``, and c1, c2
        are Adam's bias corrections for this step). ``weights``, a C-contiguous array of m
        per-example weights of the network's dtype with a positive sum, weighs the cost
        and gradients. ``dropout`` (a keep probability per hidden layer) with ``rng`` (a
        numpy Generator) draws inverted-dropout masks inside the call, under the bit
        generator's lock, exactly as ``rng.random`` would (instead of ``masks``). With
        ``dual`` (a :class:`DualTable`, training steps only), X is the batch's example
        indices into the table's training set (intp, 1-D) and the first layer trains in dual
        form. X may also be sparse (fastdl._sparse.SparseColumns: CSC arrays of the whole
        matrix and the batch's columns); with ``transposed`` (a fit's steps), the first
        pair of ``params`` and of ``backup`` holds W[1]ᵀ (n_x, n1), which the sparse products
        read by contiguous rows (see :meth:`restore_rows`). Returns J (0.0 when predicting)."""
        cdef Call c
        cdef double J
        cdef int block
        cdef cnp.ndarray Xa
        cdef cnp.ndarray Ya
        cdef Py_ssize_t item
        c.dual, c.sparse, c.sp_wt, c.sp = NULL, False, False, NULL
        if type(X) is not np.ndarray and hasattr(X, "indptr"):  # fastdl._sparse.SparseColumns
            self._sparse_batch(X, &c)
            if transposed:
                if mode != MODE_STEP:
                    raise ValueError("a transposed W[1] serves training steps only")
                self._sparse_buffers(X, &c)
        elif dual is not None:
            Xa = X
            c.dual = self._dual_batch(dual, Xa, mode)
            c.X, c.ldx, c.xt = NULL, 0, False
            c.m = <int>cnp.PyArray_DIMS(Xa)[0]
        else:
            Xa = X
            if not _matrix_layout(Xa, &c):
                Xa = np.ascontiguousarray(Xa)
                _matrix_layout(Xa, &c)
            c.m = <int>cnp.PyArray_DIMS(Xa)[1]
        c.mode, c.lr, c.l2, c.limit = mode, lr, l2, limit
        self._bind(params, self._bound, False)
        c.out = c.Y = c.w = NULL
        c.backup, c.nesterov, c.norm = False, nesterov, c.m
        c.ys0 = c.ys1 = 0
        c.fault.status, c.fault_layer = 0, -1
        c.gen = NULL
        block = _block_for(&self.rule, c.m)
        if opt not in (OPT_GD, OPT_MOMENTUM, OPT_ADAM):
            raise ValueError(f"unknown optimizer code {opt}")
        c.opt, c.beta1, c.beta2, c.eps, c.c1, c.c2 = opt, beta1, beta2, eps, c1, c2
        if mode == MODE_FORWARD:
            c.out = cnp.PyArray_DATA(out)
        else:
            Ya = Y
            item = cnp.PyArray_ITEMSIZE(Ya)
            if cnp.PyArray_STRIDES(Ya)[0] % item or cnp.PyArray_STRIDES(Ya)[1] % item:
                Ya = np.ascontiguousarray(Ya)
            c.Y = cnp.PyArray_DATA(Ya)
            c.ys0, c.ys1 = cnp.PyArray_STRIDES(Ya)[0] // item, cnp.PyArray_STRIDES(Ya)[1] // item
            if weights is not None:
                c.w = _weights_of(weights, self.dtype, c.m)
            if not self._training:
                self._start_training()
            if self.grads is None and (mode == MODE_GRADIENTS or opt != OPT_GD or c.m > block
                                       or (c.sparse and l2 != 0)):
                self._gradient_buffers()
            if mode == MODE_STEP and opt != OPT_GD:
                self._bind_state(state, opt)
            if mode == MODE_STEP and backup is not None:
                self._bind(backup, self._bound_backup, True)
                c.backup = True
        c.block, c.dA = block, self._dA
        if dropout is not None and (mode == MODE_FORWARD or rng is None or masks is not None):
            raise ValueError("dropout needs a training call, an rng, and no masks")
        if masks is None and dropout is not None and dropout is self._bound_keep:
            kept = None  # the same layers draw as in the last call: the table is set
        elif masks is not None or dropout is not None or self._masked:
            kept = self._bind_masks(masks, dropout)
            self._bound_keep = dropout if masks is None else None
        if dropout is None:
            self._call(&c)
        else:
            if rng is not self._rng:  # bound by identity, like the parameters
                bits = rng.bit_generator
                self._gen = <bitgen_t*>PyCapsule_GetPointer(bits.capsule, "BitGenerator")
                self._rng, self._lock = rng, bits.lock
            c.gen = self._gen
            with self._lock:
                self._call(&c)
        if c.fault.status:
            raise ActivationFault(c.fault_layer, c.fault.status, c.fault.z)
        return c.J

    cdef int _sparse_batch(self, X, Call* c) except -1:
        """Point ``c`` at a sparse X's CSC arrays and its batch's columns (checked here:
        the kernels trust them)."""
        cdef cnp.ndarray indptr = X.indptr, indices = X.indices, data = X.data, index
        cdef Py_ssize_t j, m, M = X.m_all
        cdef const Py_ssize_t* idx = NULL
        if (indptr.dtype != np.int32 or indices.dtype != np.int32 or data.dtype != self.dtype
                or not (indptr.flags.c_contiguous and indices.flags.c_contiguous
                        and data.flags.c_contiguous) or indptr.shape[0] != M + 1
                or X.n_x != self.layers[0].n_prev):
            raise ValueError("a sparse X must be fastdl._sparse.SparseColumns of this network")
        m = M
        if X.index is not None:
            index = X.index
            if cnp.PyArray_TYPE(index) != cnp.NPY_INTP or not index.flags.c_contiguous:
                raise ValueError("a sparse batch's columns must be a contiguous intp array")
            m = index.shape[0]
            idx = <const Py_ssize_t*>cnp.PyArray_DATA(index)
            for j in range(m):
                if idx[j] < 0 or idx[j] >= M:
                    raise ValueError(f"column {idx[j]} is outside the sparse X (m = {M})")
        c.sparse, c.m, c.X, c.ldx, c.xt = True, <int>m, NULL, 0, False
        c.sp_indptr = <const int*>cnp.PyArray_DATA(indptr)
        c.sp_indices = <const int*>cnp.PyArray_DATA(indices)
        c.sp_data, c.sp_idx = cnp.PyArray_DATA(data), idx
        return 0

    cdef int _sparse_buffers(self, X, Call* c) except -1:
        """The buffers of a transposed-W[1] sparse step, sized for this batch's stored values
        (grown, all at once, when a batch needs more)."""
        cdef Py_ssize_t j, nnz = 0, col
        cdef int n = self.layers[0].n, n_x = self.layers[0].n_prev
        for j in range(c.m):
            col = c.sp_idx[j] if c.sp_idx != NULL else j
            nnz += c.sp_indptr[col + 1] - c.sp_indptr[col]
        cap = min(n_x, max(nnz, 1))
        if self._sp_arrays is None or self._sp_arrays[1].shape[0] < cap:
            arrays = (np.full(n_x, -1, dtype=np.int32), np.empty(cap, dtype=np.int32),
                      np.empty((cap, n), dtype=self.dtype), np.zeros(n, dtype=self.dtype),
                      np.empty(n, dtype=np.float64))
            self._sp_arrays = arrays
            self._sp.slot = <int*>cnp.PyArray_DATA(arrays[0])
            self._sp.feats = <int*>cnp.PyArray_DATA(arrays[1])
            self._sp.rows = cnp.PyArray_DATA(arrays[2])
            self._sp.zeros = cnp.PyArray_DATA(arrays[3])
            self._sp.acc = <double*>cnp.PyArray_DATA(arrays[4])
            self._sp.K, self._sp.saved_rows = 0, False
        c.sp, c.sp_wt = &self._sp, True
        return 0

    def restore_rows(self, WT):
        """Undo the last accepted transposed gd step, which saved only the rows it changed;
        False when that step kept no such backup (the caller restores its own copy)."""
        cdef int k, n = self.layers[0].n
        if self._sp_arrays is None or not self._sp.saved_rows:
            return False
        feats, rows = self._sp_arrays[1], self._sp_arrays[2]
        WT[feats[:self._sp.K]] = rows[:self._sp.K]
        return True

    cdef Dual* _dual_batch(self, DualTable table, cnp.ndarray indices, int mode) except NULL:
        """The table, pointed at this batch's example indices (checked: the kernel trusts them)."""
        cdef Dual* d = table.table()
        cdef Py_ssize_t j, m
        cdef const Py_ssize_t* idx
        if mode != MODE_STEP or self.L < 1 or table.n1 != self.layers[0].n or table.dtype != self.dtype:
            raise ValueError("a dual table serves training steps of the network it was made for")
        if (cnp.PyArray_TYPE(indices) != cnp.NPY_INTP or cnp.PyArray_NDIM(indices) != 1
                or not cnp.PyArray_IS_C_CONTIGUOUS(indices)):
            raise ValueError("a dual step takes the batch's example indices: a 1-D intp array")
        m = cnp.PyArray_DIMS(indices)[0]
        if m > table.capacity or m > self.capacity:
            raise ValueError(f"a batch of {m} examples is more than the dual table holds")
        idx = <const Py_ssize_t*>cnp.PyArray_DATA(indices)
        for j in range(m):
            if idx[j] < 0 or idx[j] >= d.M:
                raise ValueError(f"example index {idx[j]} is outside the training set (M = {d.M})")
        d.idx = idx
        return d

    cdef void _call(self, Call* c):
        if self.is_double:
            with nogil:
                c.J = _iterate[double](self.slope, self.layers, self.L, c)
        else:
            with nogil:
                c.J = _iterate[float](<float>self.slope, self.layers, self.L, c)
