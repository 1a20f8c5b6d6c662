#ifndef CREFINERY_SQLITE_SHIM_H
#define CREFINERY_SQLITE_SHIM_H
#include <sqlite3.h>
#endif
