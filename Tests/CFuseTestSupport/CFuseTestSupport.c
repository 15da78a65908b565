#define _GNU_SOURCE
#include <stdio.h>
#include "CFuseTestSupport.h"

int shardvault_test_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags) {
    return renameat2(olddirfd, oldpath, newdirfd, newpath, flags);
}
