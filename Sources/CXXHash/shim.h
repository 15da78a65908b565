#ifndef SHARDVAULT_CXXHASH_SHIM_H
#define SHARDVAULT_CXXHASH_SHIM_H
#include <xxhash.h>
#if defined(__x86_64__)
// Runtime dispatch to the AVX2/AVX-512 kernels (the plain entry points are built for SSE2).
#include <xxh_x86dispatch.h>
#endif
#endif
