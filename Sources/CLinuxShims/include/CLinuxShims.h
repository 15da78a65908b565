#ifndef SHARDVAULT_CLINUXSHIMS_H
#define SHARDVAULT_CLINUXSHIMS_H
// Linux calls that Swift's Glibc module hides behind _GNU_SOURCE.
int syncfs(int fd);

static inline int shardvault_syncfs(int fd) { return syncfs(fd); }
#endif
