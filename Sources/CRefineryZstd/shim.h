#ifndef CREFINERY_ZSTD_SHIM_H
#define CREFINERY_ZSTD_SHIM_H
#include <zstd.h>
#include <zstd_errors.h>
#endif
