#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include "CLinuxShims.h"

_Static_assert(SHARDVAULT_POSIX_SPAWN_SETSID == POSIX_SPAWN_SETSID, "POSIX_SPAWN_SETSID differs from glibc's");

int shardvault_open_direct_for_writing(const char *path) {
    return open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
}

int shardvault_start_writeback(int fd, long long offset, long long count) {
    return sync_file_range(fd, offset, count, SYNC_FILE_RANGE_WRITE);
}
