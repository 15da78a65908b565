#ifndef SHARDVAULT_CFUSE3_SHIM_H
#define SHARDVAULT_CFUSE3_SHIM_H
// Must precede the libfuse headers: it selects the low-level API revision we code against.
#define FUSE_USE_VERSION 312
#include <fuse3/fuse_lowlevel.h>
#endif
