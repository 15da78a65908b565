#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "CLinuxShims.h"

_Static_assert(SHARDVAULT_POSIX_SPAWN_SETSID == POSIX_SPAWN_SETSID, "POSIX_SPAWN_SETSID differs from glibc's");

int shardvault_open_direct_for_writing(const char *path) {
    return open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
}

int shardvault_start_writeback(int fd, long long offset, long long count) {
    return sync_file_range(fd, offset, count, SYNC_FILE_RANGE_WRITE);
}

int shardvault_pin_thread_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : -errno;
}

int shardvault_unpin_thread_once(void) {
    // Thread-local: one system call pair per thread, not per work item.
    static __thread int unpinned;
    if (unpinned) return 0;
    unpinned = 1;
    cpu_set_t set;
    if (sched_getaffinity(getpid(), sizeof set, &set) != 0) return -errno;
    return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : -errno;
}

int shardvault_use_batch_scheduling(void) {
    struct sched_param parameters = { .sched_priority = 0 };
    // Linux applies a policy to the thread, not the process, when given 0.
    return sched_setscheduler(0, SCHED_BATCH, &parameters) == 0 ? 0 : -errno;
}

int shardvault_name_this_thread(const char *name) {
    // The kernel keeps the first 15 bytes of a longer name.
    return prctl(PR_SET_NAME, name, 0, 0, 0) == 0 ? 0 : -errno;
}
