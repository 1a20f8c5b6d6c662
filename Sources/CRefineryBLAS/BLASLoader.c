#include "CRefineryBLAS.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

// CBLAS's enumerations (cblas.h): the values are fixed by the CBLAS standard.
enum { cblas_row_major = 101, cblas_no_trans = 111, cblas_trans = 112 };

typedef void (*sgemm_function)(int order, int transpose_a, int transpose_b, int m, int n, int k, float alpha,
                               const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
typedef int (*get_threads_function)(void);
typedef void (*set_threads_function)(int threads);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static sgemm_function sgemm;
static get_threads_function get_threads;
static set_threads_function set_threads;
static char failure[512];

static void load(void) {
    // The shared library's soname, as Debian's libopenblas0 (pthread, openmp or serial) provides it; then the
    // development link and Homebrew's name.
    static const char *const names[] = {"libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"};
    void *library = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && library == NULL; i++) {
        library = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (library == NULL && i == 0) {
            const char *why = dlerror();
            snprintf(failure, sizeof failure, "%s", why ? why : "dlopen(libopenblas.so.0) failed");
        }
    }
    if (library == NULL) return;
    sgemm_function found_sgemm = (sgemm_function)dlsym(library, "cblas_sgemm");
    get_threads_function found_get = (get_threads_function)dlsym(library, "openblas_get_num_threads");
    set_threads_function found_set = (set_threads_function)dlsym(library, "openblas_set_num_threads");
    if (found_sgemm == NULL || found_get == NULL || found_set == NULL) {
        snprintf(failure, sizeof failure, "libopenblas.so.0 lacks %s",
                 found_sgemm == NULL ? "cblas_sgemm" : found_get == NULL ? "openblas_get_num_threads" : "openblas_set_num_threads");
        return;
    }
    get_threads = found_get;
    set_threads = found_set;
    sgemm = found_sgemm;
}

int refinery_blas_load(char *message, size_t capacity) {
    pthread_once(&once, load);
    if (sgemm != NULL) return 1;
    if (message != NULL && capacity > 0) snprintf(message, capacity, "%s", failure);
    return 0;
}

void refinery_blas_sgemm(int transpose_a, int transpose_b, int m, int n, int k, float alpha, const float *a, int lda,
                         const float *b, int ldb, float beta, float *c, int ldc) {
    sgemm(cblas_row_major, transpose_a ? cblas_trans : cblas_no_trans, transpose_b ? cblas_trans : cblas_no_trans, m, n, k,
          alpha, a, lda, b, ldb, beta, c, ldc);
}

int refinery_blas_threads(void) { return get_threads(); }

void refinery_blas_set_threads(int threads) { set_threads(threads); }
