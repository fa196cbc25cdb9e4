/* Elementwise loops of the "cython" engine, in C so that each can be compiled several
 * times for different CPUs (gcc function multiversioning picks the widest one this
 * CPU runs, once, when the module loads: AVX-512, AVX2 or the baseline x86-64).
 *
 * Layout: every matrix is row-major (n, m) with leading dimension m, one example per
 * column, except Y, which is read through its two strides (any order).
 *
 * Transcendentals: with glibc >= 2.35 on x86-64, exp/log1p/tanh are declared as SIMD
 * functions so the vectoriser calls libmvec's vector versions (<= 4 ulp). We do not
 * use -ffast-math for this (it would also assume no NaN/inf, and the non-finite cost
 * check must keep working); the declarations below are what -ffast-math would add.
 *
 * The file instantiates itself twice, for double (suffix _d) and float (suffix _f).
 */
#ifndef FDL_TEMPLATE
#ifndef FDL_FASTMATH_H
#define FDL_FASTMATH_H

#include <math.h>
#include <stddef.h>
#include <string.h>

/* Activation codes, shared with _kernels.pyx. */
enum { FDL_LINEAR = 0, FDL_SIGMOID = 1, FDL_TANH = 2, FDL_RELU = 3, FDL_LEAKY_RELU = 4,
       FDL_SOFTMAX = 5, FDL_CUSTOM = 6, FDL_EXP = 7 };

/* A custom activation (g or g'), compiled by Numba: writes f(z) to *out and returns 0, or
 * returns non-zero when the Python function raised (Numba cannot unwind into C). */
typedef int (*fdl_fn_d)(double, double *);
typedef int (*fdl_fn_f)(float, float *);

/* The first failure of a custom activation in one call: which function (1: g, 2: g')
 * and the z it failed at, so that the Python layer can raise the user's own exception. */
typedef struct { int status; double z; } fdl_fault;
#define FDL_FAULT_G 1
#define FDL_FAULT_GPRIME 2

static inline void fdl_record(fdl_fault *fault, int status, double z) {
    if (!fault->status) { fault->status = status; fault->z = z; }
}

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) \
    && !defined(FDL_NO_MULTIVERSION)
#define FDL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FDL_CLONES
#endif

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__) \
    && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35)) && !defined(FDL_NO_LIBMVEC)
#define FDL_SIMD __attribute__((__simd__("notinbranch")))
FDL_SIMD extern double exp(double);
FDL_SIMD extern double log1p(double);
FDL_SIMD extern double tanh(double);
FDL_SIMD extern float expf(float);
FDL_SIMD extern float log1pf(float);
FDL_SIMD extern float tanhf(float);
#define FDL_HAVE_LIBMVEC 1
#else
#define FDL_HAVE_LIBMVEC 0
#endif

/* A hint to fetch the cache line at p ahead of its use (the rows a sparse product reads
 * next are known from the column's indices, and otherwise each waits on memory). */
#if defined(__GNUC__)
#define fdl_prefetch(p) __builtin_prefetch((p), 1, 1)
#else
#define fdl_prefetch(p) ((void)0)
#endif

/* ivdep: an output may be the very buffer its input came from (same index), which is
 * safe for elementwise loops but makes the vectoriser add alias checks otherwise. */
#define FDL_IVDEP _Pragma("GCC ivdep")

/* Each inclusion below compiles the body for one T and undefines its macros at the end. */
#define FDL_TEMPLATE
#define T double
#define S(name) name##_d
#define EXP exp
#define LOG1P log1p
#define LOG log
#define TANH tanh
#define FABS fabs
#define SQRT sqrt
#include "_fastmath.h"

#define T float
#define S(name) name##_f
#define EXP expf
#define LOG1P log1pf
#define LOG logf
#define TANH tanhf
#define FABS fabsf
#define SQRT sqrtf
#include "_fastmath.h"
#undef FDL_TEMPLATE

#endif /* FDL_FASTMATH_H */
#else  /* FDL_TEMPLATE: the body, once per type T */

/* A per-example weight (1 when there are none). */
#define FDL_W(j) (w ? w[j] : (T)1)

/* A = g(lin + b) for one of the elementwise activations. A custom activation also writes
 * G = g'(z) when G is given (training: backward then needs no call of user code, so every
 * failure of g or g' shows before anything is updated; G is NULL when predicting), and
 * records its first failure in ``fault``. With a dropout mask, Am = A * mask is what the
 * next layer reads, while A stays unmasked for g'. lin and A may be the same buffer. */
static FDL_CLONES void S(fdl_forward)(int act, T slope, int n, int m, const T *lin,
                                      const T *b, T *A, T *G, const T *mask, T *Am,
                                      S(fdl_fn) g, S(fdl_fn) gprime, fdl_fault *fault) {
    for (int i = 0; i < n; i++) {
        const T *x = lin + (size_t)i * m;
        T *a = A + (size_t)i * m;
        const T bi = b[i];
        switch (act) {
        case FDL_SIGMOID:
            /* Branch on the sign: exp only ever sees -|z| <= 0, so it never overflows. */
            FDL_IVDEP for (int j = 0; j < m; j++) {
                T z = x[j] + bi, e = EXP(-FABS(z));
                a[j] = z >= 0 ? 1 / (1 + e) : e / (1 + e);
            }
            break;
        case FDL_TANH:
            FDL_IVDEP for (int j = 0; j < m; j++) a[j] = TANH(x[j] + bi);
            break;
        case FDL_RELU:
            FDL_IVDEP for (int j = 0; j < m; j++) { T z = x[j] + bi; a[j] = z > 0 ? z : 0; }
            break;
        case FDL_LEAKY_RELU:
            FDL_IVDEP for (int j = 0; j < m; j++) { T z = x[j] + bi; a[j] = z > 0 ? z : z * slope; }
            break;
        case FDL_EXP: /* output layers only: the mean of a Poisson target */
            FDL_IVDEP for (int j = 0; j < m; j++) a[j] = EXP(x[j] + bi);
            break;
        case FDL_CUSTOM: {
            T *gr = G ? G + (size_t)i * m : NULL;
            for (int j = 0; j < m; j++) {
                T z = x[j] + bi, v = 0, d = 0;
                if (g(z, &v)) fdl_record(fault, FDL_FAULT_G, z);
                if (gr && gprime(z, &d)) fdl_record(fault, FDL_FAULT_GPRIME, z);
                a[j] = v;
                if (gr) gr[j] = d;
            }
            break;
        }
        default: /* linear */
            FDL_IVDEP for (int j = 0; j < m; j++) a[j] = x[j] + bi;
        }
        if (mask) {
            const T *d = mask + (size_t)i * m;
            T *am = Am + (size_t)i * m;
            for (int j = 0; j < m; j++) am[j] = a[j] * d[j];
        }
    }
}

/* dZ = dA * g'(Z) (times the dropout mask) and db = rowsum(dZ) / norm, in one pass,
 * for a block of w columns. g' comes from the stored output A where it can:
 * σ' = A(1 − A), tanh' = 1 − A², ReLU' = [A > 0], leaky' = 1 or slope (A > 0 exactly when
 * z > 0, as slope >= 0); a custom activation's g'(z) was stored in G by the forward pass.
 * dA has rows of ldd; A, G, the mask and dZ have rows of lda (the whole batch), so a block
 * of a batch is read in place. dZ may be dA or A itself (the engine writes dZ over A, which
 * backprop no longer needs once dZ is known). The row sums are kept in double in ``dbsum``
 * across the blocks (``first`` starts them, ``last`` writes db): a float32 running sum of
 * millions of examples would lose digits. ``norm`` is m, or the sum of the examples'
 * weights (which dZ[L] already carries). */
#define FDL_DA(j) (d ? da[j] * d[j] : da[j])
static FDL_CLONES void S(fdl_backward)(int act, T slope, int n, int w, int ldd, int lda,
                                       double norm, int first, int last, const T *dA,
                                       const T *A, const T *G, const T *mask, T *dZ,
                                       double *dbsum, T *db) {
    for (int i = 0; i < n; i++) {
        size_t oa = (size_t)i * lda;
        const T *da = dA + (size_t)i * ldd, *a = A + oa, *d = mask ? mask + oa : NULL;
        T *dz = dZ + oa;
        double s = 0;
        switch (act) {
        case FDL_SIGMOID:
            FDL_IVDEP for (int j = 0; j < w; j++) { T v = FDL_DA(j) * (a[j] * (1 - a[j])); dz[j] = v; s += v; }
            break;
        case FDL_TANH:
            FDL_IVDEP for (int j = 0; j < w; j++) { T v = FDL_DA(j) * (1 - a[j] * a[j]); dz[j] = v; s += v; }
            break;
        case FDL_RELU:
            FDL_IVDEP for (int j = 0; j < w; j++) { T v = a[j] > 0 ? FDL_DA(j) : 0; dz[j] = v; s += v; }
            break;
        case FDL_LEAKY_RELU:
            FDL_IVDEP for (int j = 0; j < w; j++) { T v = a[j] > 0 ? FDL_DA(j) : FDL_DA(j) * slope; dz[j] = v; s += v; }
            break;
        case FDL_CUSTOM: {
            const T *gr = G + oa;
            FDL_IVDEP for (int j = 0; j < w; j++) { T v = FDL_DA(j) * gr[j]; dz[j] = v; s += v; }
            break;
        }
        default: /* linear */
            FDL_IVDEP for (int j = 0; j < w; j++) { T v = FDL_DA(j); dz[j] = v; s += v; }
        }
        dbsum[i] = first ? s : dbsum[i] + s;
        if (last) db[i] = (T)(dbsum[i] / norm);
    }
}
#undef FDL_DA

/* Softmax over each column of z = lin + b (rows are classes); the column maximum is
 * subtracted first so every exponent is <= 0. Writes A and, with Y, dZ = A − Y (the
 * collapsed gradient of categorical cross-entropy) and returns Σ −Y log A, with log A
 * taken from the stable log-softmax z − max − log Σ e^(z − max); with weights w, each
 * example's loss and dZ are scaled by its weight.
 * Columns go in chunks of FDL_SOFTMAX_CHUNK, each pass running along a row of the chunk
 * (contiguous, so it vectorises) with the column maxima and sums in small arrays: a column
 * at a time read every class m apart and computed one exponential at a time. Each
 * column's sums still run over the classes in order. */
#ifndef FDL_SOFTMAX_CHUNK
#define FDL_SOFTMAX_CHUNK 64
#endif
static FDL_CLONES double S(fdl_softmax)(int n, int m, const T *lin, const T *b, const T *Y,
                                        ptrdiff_t ys0, ptrdiff_t ys1, const T *w, T *A, T *dZ) {
    double total = 0;
    T zmax[FDL_SOFTMAX_CHUNK], sum[FDL_SOFTMAX_CHUNK], log_sum[FDL_SOFTMAX_CHUNK];
    T shifted[FDL_SOFTMAX_CHUNK], a[FDL_SOFTMAX_CHUNK];
    for (int j0 = 0; j0 < m; j0 += FDL_SOFTMAX_CHUNK) {
        int width = m - j0 < FDL_SOFTMAX_CHUNK ? m - j0 : FDL_SOFTMAX_CHUNK;
        for (int j = 0; j < width; j++) zmax[j] = lin[j0 + j] + b[0];
        for (int i = 1; i < n; i++) {
            const T *row = lin + (size_t)i * m + j0;
            for (int j = 0; j < width; j++) { T z = row[j] + b[i]; zmax[j] = z > zmax[j] ? z : zmax[j]; }
        }
        for (int j = 0; j < width; j++) sum[j] = 0;
        for (int i = 0; i < n; i++) {
            const T *row = lin + (size_t)i * m + j0;
            for (int j = 0; j < width; j++) sum[j] += EXP(row[j] + b[i] - zmax[j]);
        }
        for (int j = 0; j < width; j++) log_sum[j] = LOG(sum[j]);
        for (int i = 0; i < n; i++) {
            const T *row = lin + (size_t)i * m + j0;
            T *A_row = A ? A + (size_t)i * m + j0 : NULL, *dZ_row = dZ ? dZ + (size_t)i * m + j0 : NULL;
            const T *Y_row = Y ? Y + i * ys0 + j0 * ys1 : NULL;
            /* Into local arrays first: dZ is often written over lin, and a loop that stores
             * where it reads gets a scalar copy that the vectoriser's overlap test picks by
             * address (other exponentials, so other bits). */
            for (int j = 0; j < width; j++) {
                shifted[j] = row[j] + b[i] - zmax[j];
                a[j] = EXP(shifted[j]) / sum[j];
            }
            if (Y_row) {
                for (int j = 0; j < width; j++)
                    total -= (double)(FDL_W(j0 + j) * Y_row[j * ys1] * (shifted[j] - log_sum[j]));
                if (dZ_row)
                    for (int j = 0; j < width; j++) dZ_row[j] = FDL_W(j0 + j) * (a[j] - Y_row[j * ys1]);
            }
            if (A_row)
                for (int j = 0; j < width; j++) A_row[j] = a[j];
        }
    }
    return total;
}

/* The output layer in one pass over z = lin + b: the cost J, dZ[L] and
 * db[L] = (1/m) rowsum(dZ[L]) (A[L] itself is not stored: prediction uses fdl_forward).
 * A sigmoid output uses cross-entropy from z, max(z, 0) − z·y + log1p(e^(−|z|)), which
 * never takes log(0), and dZ = A − Y; any other elementwise output uses
 * (1/2m) Σ (A − Y)² with dZ = (A − Y)·g'(Z); an exp output (the mean of a count) uses half
 * the Poisson deviance, y log(y/a) − y + a, with dZ = A − Y. With weights w, each example's
 * loss and dZ are scaled by its weight, and J and db are divided by ``norm`` (m, or the
 * sum of the weights) rather than m. Losses and db are summed in double. A custom
 * output records its first failure in ``fault`` (the caller then discards the result); its
 * g' may be NULL when only the cost is wanted (dZ then means nothing). dZ may be lin
 * itself: the engine writes dZ[L] over W[L] A[L−1], which nothing reads afterwards. */
static FDL_CLONES double S(fdl_output)(int act, T slope, int n, int m, const T *lin,
                                       const T *b, const T *Y, ptrdiff_t ys0, ptrdiff_t ys1,
                                       const T *w, double norm, T *dZ, T *db, S(fdl_fn) g,
                                       S(fdl_fn) gprime, fdl_fault *fault) {
    double total = 0;
    if (act == FDL_SOFTMAX) total = S(fdl_softmax)(n, m, lin, b, Y, ys0, ys1, w, NULL, dZ);
    for (int i = 0; i < n && act != FDL_SOFTMAX; i++) {
        size_t o = (size_t)i * m;
        const T *x = lin + o, *y = Y + i * ys0;
        T *dz = dZ + o;
        const T bi = b[i];
        double row = 0;
        switch (act) {
        case FDL_SIGMOID:
            FDL_IVDEP for (int j = 0; j < m; j++) {
                T z = x[j] + bi, yj = y[j * ys1], e = EXP(-FABS(z));
                T a = z >= 0 ? 1 / (1 + e) : e / (1 + e);
                row += (double)(FDL_W(j) * ((z > 0 ? z : 0) - z * yj + LOG1P(e)));
                dz[j] = FDL_W(j) * (a - yj);
            }
            break;
        case FDL_EXP:
            FDL_IVDEP for (int j = 0; j < m; j++) {
                T z = x[j] + bi, yj = y[j * ys1], a = EXP(z);
                /* y log(y/a) − y + a, with y log y = 0 at y = 0, times 2 (halved below) */
                T ylogy = yj > 0 ? yj * LOG(yj) : 0;
                row += 2 * (double)(FDL_W(j) * (ylogy - yj * z - yj + a));
                dz[j] = FDL_W(j) * (a - yj);
            }
            break;
        case FDL_TANH:
            FDL_IVDEP for (int j = 0; j < m; j++) {
                T a = TANH(x[j] + bi), d = a - y[j * ys1];
                row += (double)(FDL_W(j) * d * d);
                dz[j] = FDL_W(j) * d * (1 - a * a);
            }
            break;
        case FDL_RELU:
            FDL_IVDEP for (int j = 0; j < m; j++) {
                T z = x[j] + bi, d = (z > 0 ? z : 0) - y[j * ys1];
                row += (double)(FDL_W(j) * d * d);
                dz[j] = z > 0 ? FDL_W(j) * d : 0;
            }
            break;
        case FDL_LEAKY_RELU:
            FDL_IVDEP for (int j = 0; j < m; j++) {
                T z = x[j] + bi, d = (z > 0 ? z : z * slope) - y[j * ys1];
                row += (double)(FDL_W(j) * d * d);
                dz[j] = FDL_W(j) * (z > 0 ? d : d * slope);
            }
            break;
        case FDL_CUSTOM:
            for (int j = 0; j < m; j++) {
                T z = x[j] + bi, a = 0, gp = 0;
                if (g(z, &a)) fdl_record(fault, FDL_FAULT_G, z);
                if (gprime && gprime(z, &gp)) fdl_record(fault, FDL_FAULT_GPRIME, z);
                T d = a - y[j * ys1];
                row += (double)(FDL_W(j) * d * d);
                dz[j] = FDL_W(j) * d * gp;
            }
            break;
        default: /* linear */
            FDL_IVDEP for (int j = 0; j < m; j++) {
                T d = x[j] + bi - y[j * ys1];
                row += (double)(FDL_W(j) * d * d);
                dz[j] = FDL_W(j) * d;
            }
        }
        total += act == FDL_SIGMOID ? row : row / 2;
    }
    for (int i = 0; i < n; i++) {
        const T *dz = dZ + (size_t)i * m;
        double s = 0;
        for (int j = 0; j < m; j++) s += dz[j];
        db[i] = (T)(s / norm);
    }
    return total / norm;
}

/* Σ w_j in double: the normaliser of a weighted batch. */
static double S(fdl_sum)(const T *w, size_t size) {
    double s = 0;
    for (size_t k = 0; k < size; k++) s += w[k];
    return s;
}

/* Σ W², in double: the L2 term of the cost. */
static FDL_CLONES double S(fdl_sumsq)(const T *W, size_t size) {
    double s = 0;
    for (size_t k = 0; k < size; k++) s += (double)W[k] * (double)W[k];
    return s;
}

/* theta := theta − lr·d, the gradient-descent update for a bias (or an unfused W). */
static FDL_CLONES void S(fdl_axpy_update)(T *theta, const T *d, T lr, size_t size) {
    for (size_t k = 0; k < size; k++) theta[k] -= lr * d[k];
}

/* Whether every x is finite and within [low, high]: the input check of the Python
 * layer, in one pass without the temporaries numpy's isfinite/compare would make.
 * No early exit, so the loop vectorises; bad input is the rare case. */
static FDL_CLONES int S(fdl_all_within)(const T *x, size_t size, T low, T high) {
    int ok = 1;
    for (size_t k = 0; k < size; k++)
        ok &= (x[k] - x[k] == 0) & (x[k] >= low) & (x[k] <= high);
    return ok;
}

/* Momentum, the numpy reference's order of operations: v := βv + (1−β)d; theta −= lr·v,
 * or with Nesterov's look-ahead theta −= lr·(βv + (1−β)d), from the new v.
 * rest = 1 − β is rounded once, in double, by the caller, as the reference does. */
static FDL_CLONES void S(fdl_momentum_update)(T *theta, const T *d, T *v, T beta, T rest, T lr,
                                             int nesterov, size_t size) {
    if (nesterov) {
        for (size_t k = 0; k < size; k++) {
            T vk = v[k] * beta + rest * d[k];
            v[k] = vk;
            theta[k] -= lr * (vk * beta + rest * d[k]);
        }
        return;
    }
    for (size_t k = 0; k < size; k++) {
        T vk = v[k] * beta + rest * d[k];
        v[k] = vk;
        theta[k] -= lr * vk;
    }
}

/* Adam with bias corrections c1 = 1 − β₁ᵗ, c2 = 1 − β₂ᵗ:
 * v := β₁v + (1−β₁)d; s := β₂s + (1−β₂)d²; theta −= lr·(v/c1) / (√(s/c2) + ε).
 * The corrections are applied as factors, lr/c1 and 1/c2, made once: dividing by them in
 * the loop cost two vector divisions per element besides the one left (and the square
 * root), which made the update 17% of a small network's Adam fit. */
static FDL_CLONES void S(fdl_adam_update)(T *theta, const T *d, T *v, T *s, T beta1, T rest1,
                                         T beta2, T rest2, T lr, T c1, T c2, T eps, size_t size) {
    const T step = lr / c1, inv_c2 = 1 / c2;
    for (size_t k = 0; k < size; k++) {
        T vk = v[k] * beta1 + rest1 * d[k];
        T sk = s[k] * beta2 + rest2 * (d[k] * d[k]);
        v[k] = vk;
        s[k] = sk;
        theta[k] -= step * vk / (SQRT(sk * inv_c2) + eps);
    }
}

#undef T
#undef S
#undef FDL_W
#undef EXP
#undef LOG1P
#undef LOG
#undef TANH
#undef FABS
#undef SQRT
#endif /* FDL_TEMPLATE */
