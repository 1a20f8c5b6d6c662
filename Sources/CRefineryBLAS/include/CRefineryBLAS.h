#ifndef CREFINERY_BLAS_H
#define CREFINERY_BLAS_H

#include <stddef.h>

/// OpenBLAS, loaded when the trainer first needs it rather than when the program starts.
///
/// Linked at build time, the library started its thread pool in every process, `refinery run` and `inspect` included,
/// and the pool's idle thread spun (`sched_yield`) for about 0.1 s of CPU before it slept. Only the trainer multiplies
/// matrices, so the library is opened with `dlopen` on first use: `libopenblas.so.0`, Debian's `libopenblas0`.

/// Opens the library and finds its functions, once (later calls return the first call's result). Returns 1 when it is
/// ready; 0 when it is not, with the reason (the loader's message) in `message`.
int refinery_blas_load(char *message, size_t capacity);

/// `cblas_sgemm` on row-major matrices: `c = alpha * op(a) * op(b) + beta * c`. Call only after `refinery_blas_load`
/// returned 1.
void refinery_blas_sgemm(int transpose_a, int transpose_b, int m, int n, int k, float alpha, const float *a, int lda,
                         const float *b, int ldb, float beta, float *c, int ldc);

/// `openblas_get_num_threads` and `openblas_set_num_threads`. Call only after `refinery_blas_load` returned 1.
int refinery_blas_threads(void);
void refinery_blas_set_threads(int threads);

#endif
