#ifndef SHARDVAULT_CSODIUM_SHIM_H
#define SHARDVAULT_CSODIUM_SHIM_H
#include <sodium.h>
#endif
