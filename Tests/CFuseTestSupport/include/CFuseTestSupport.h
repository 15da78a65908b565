#ifndef SHARDVAULT_CFUSETESTSUPPORT_H
#define SHARDVAULT_CFUSETESTSUPPORT_H
// What the FUSE tests call that Swift's Glibc module does not show: renameat2 (behind
// _GNU_SOURCE), the xattr calls, and the UTIME_* values (macros Swift cannot import).
#include <sys/types.h>
#include <sys/xattr.h>
#include <sys/stat.h>

int shardvault_test_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);

static const long shardvault_test_utime_now = UTIME_NOW;
static const long shardvault_test_utime_omit = UTIME_OMIT;
static const int shardvault_test_xattr_create = XATTR_CREATE;
static const int shardvault_test_xattr_replace = XATTR_REPLACE;
#endif
