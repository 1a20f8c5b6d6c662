// A prefetch hint for Swift, which has no way to ask for one. Header only: the function is inlined where it is called.
#ifndef CREFINERY_PREFETCH_H
#define CREFINERY_PREFETCH_H

/// Asks the CPU to bring the cache line holding `address` into its caches for reading, ahead of the load that needs
/// it, so the miss overlaps other work. A hint: it never faults, whatever `address` is, and changes no result.
static inline void crefinery_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

#endif
