#ifndef SHARDVAULT_CLINUXSHIMS_H
#define SHARDVAULT_CLINUXSHIMS_H
// Linux calls that Swift's Glibc module hides behind _GNU_SOURCE.
#include <sys/types.h>
int syncfs(int fd);
ssize_t getdents64(int fd, void *buffer, size_t count);
int pipe2(int pipefd[2], int flags);

static inline int shardvault_syncfs(int fd) { return syncfs(fd); }
static inline ssize_t shardvault_getdents64(int fd, void *buffer, size_t count) { return getdents64(fd, buffer, count); }
static inline int shardvault_pipe2(int pipefd[2], int flags) { return pipe2(pipefd, flags); }

/// Opens an existing file for writing with O_DIRECT (hidden behind _GNU_SOURCE; CLinuxShims.c).
int shardvault_open_direct_for_writing(const char *path);
/// Starts writing a file range's dirty pages to disk without waiting (sync_file_range with
/// SYNC_FILE_RANGE_WRITE; CLinuxShims.c).
int shardvault_start_writeback(int fd, long long offset, long long count);

/// Binds the calling thread to one CPU (0, or -errno; CLinuxShims.c).
int shardvault_pin_thread_to_cpu(int cpu);
/// Gives the calling thread the process's CPU affinity (its main thread's) the first time it
/// is called on a thread; later calls on that thread do nothing. 0 or -errno (CLinuxShims.c).
int shardvault_unpin_thread_once(void);
/// Puts the calling thread in SCHED_BATCH: its wake-ups no longer preempt the thread running
/// on its CPU, while its share of the CPU stays that of any other thread. 0 or -errno
/// (CLinuxShims.c).
int shardvault_use_batch_scheduling(void);

/// Names the calling thread for the kernel (/proc/.../comm, top -H, perf), cut to the 15
/// bytes it keeps. Foundation's Thread.name does not reach the kernel on Linux. 0 or -errno
/// (CLinuxShims.c).
int shardvault_name_this_thread(const char *name);

/// glibc's POSIX_SPAWN_SETSID: the spawned child calls setsid() (checked in CLinuxShims.c).
#define SHARDVAULT_POSIX_SPAWN_SETSID 0x80
#endif
