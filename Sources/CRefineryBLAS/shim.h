#ifndef CREFINERY_BLAS_SHIM_H
#define CREFINERY_BLAS_SHIM_H
#include <cblas.h>
#endif
