#ifndef SHARDVAULT_CXXHASH_SHIM_H
#define SHARDVAULT_CXXHASH_SHIM_H
#include <xxhash.h>
#endif
