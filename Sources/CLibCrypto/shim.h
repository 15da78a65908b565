#ifndef SHARDVAULT_CLIBCRYPTO_SHIM_H
#define SHARDVAULT_CLIBCRYPTO_SHIM_H
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#endif
