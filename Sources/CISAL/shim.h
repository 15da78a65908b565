#ifndef SHARDVAULT_CISAL_SHIM_H
#define SHARDVAULT_CISAL_SHIM_H
#include <isa-l/erasure_code.h>
#include <isa-l/crc.h>

#if defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("avx"))) static inline void shardvault_clear_upper_vector_state(void) {
    _mm256_zeroupper();
}
#endif

/// ec_encode_data, then vzeroupper. Debian's ISA-L AVX2/AVX-512 kernels return with the upper
/// vector halves dirty; every SSE instruction after that (xxHash's SSE2 path, Swift's baseline
/// x86-64 code) then runs several times slower on the same thread until something clears them
/// (measured: XXH3 12.5 GB/s before, 2.7 GB/s after one encode; docs/BENCHMARKS.md).
static inline void shardvault_ec_encode_data(int len, int k, int rows, unsigned char *tables,
                                             unsigned char **data, unsigned char **coding) {
    ec_encode_data(len, k, rows, tables, data, coding);
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx")) shardvault_clear_upper_vector_state();
#endif
}
#endif
