#ifndef CREFINERY_XXHASH_SHIM_H
#define CREFINERY_XXHASH_SHIM_H
#include <xxhash.h>
#endif
