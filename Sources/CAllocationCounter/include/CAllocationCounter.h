#ifndef IPCSCOPE_ALLOCATION_COUNTER_H
#define IPCSCOPE_ALLOCATION_COUNTER_H

/// Calls of malloc, calloc, realloc, aligned_alloc, posix_memalign and memalign in this process so far.
/// Only FilterBench links this target: it replaces those functions (forwarding to glibc's) to count them.
unsigned long long ipcs_allocation_count(void);

#endif
