#ifndef SHARDVAULT_CISAL_SHIM_H
#define SHARDVAULT_CISAL_SHIM_H
#include <isa-l/erasure_code.h>
#endif
