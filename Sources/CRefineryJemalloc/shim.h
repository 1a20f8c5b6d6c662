#ifndef CREFINERY_JEMALLOC_SHIM_H
#define CREFINERY_JEMALLOC_SHIM_H
#include <stddef.h>
/* jemalloc replaces malloc and free for the whole `refinery` process once it is linked (Debian builds it without a
   symbol prefix). Only its control call is declared here: jemalloc.h declares malloc and free again, beside libc's. */
int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
#endif
