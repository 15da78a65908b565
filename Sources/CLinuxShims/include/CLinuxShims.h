#ifndef SHARDVAULT_CLINUXSHIMS_H
#define SHARDVAULT_CLINUXSHIMS_H
// Linux calls that Swift's Glibc module hides behind _GNU_SOURCE.
#include <sys/types.h>
int syncfs(int fd);
ssize_t getdents64(int fd, void *buffer, size_t count);

static inline int shardvault_syncfs(int fd) { return syncfs(fd); }
static inline ssize_t shardvault_getdents64(int fd, void *buffer, size_t count) { return getdents64(fd, buffer, count); }
#endif
