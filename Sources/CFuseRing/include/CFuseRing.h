#ifndef SHARDVAULT_CFUSERING_H
#define SHARDVAULT_CFUSERING_H
// FUSE over io_uring (kernel 6.14+, docs/FUSE.md "Requests over io_uring"): one worker
// thread's private channel to one of the kernel's per-CPU request queues. libfuse 3.14 does
// not speak this protocol; the driver feeds the requests to libfuse itself.
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/// FUSE_OVER_IO_URING, as a bit of fuse_init_in/out.flags2 (1 << 41 of the 64-bit flags).
#define SHARDVAULT_FUSE_OVER_IO_URING_FLAGS2 (1u << 9)
/// FUSE_INIT_EXT in fuse_init_out.flags: the kernel reads flags2 only with it.
#define SHARDVAULT_FUSE_INIT_EXT (1u << 30)

typedef struct shardvault_fuse_ring shardvault_fuse_ring;

/// A ring of its own with one request entry of `payload_size` bytes for queue `qid` of the
/// connection behind `fuse_fd`. NULL with errno on failure.
shardvault_fuse_ring *shardvault_fuse_ring_open(int fuse_fd, uint16_t qid, size_t payload_size);

/// Registers the entry on the first call, else commits the reply stored since the last call;
/// then waits for the next request. Returns its length and sets `*request` to it, laid out as
/// read(2) of /dev/fuse delivers it (valid until the next call); or -errno: -EAGAIN before the
/// connection is initialized, -ENOTCONN once the kernel tore the queue down, -EPROTO for a
/// request whose sizes do not add up (the next call answers it with EIO).
ssize_t shardvault_fuse_ring_next(shardvault_fuse_ring *ring, void **request);

/// Stores a reply as libfuse writes it to /dev/fuse (fuse_out_header, then the arguments), to
/// be committed by the next `shardvault_fuse_ring_next`. Returns the bytes taken or -errno.
ssize_t shardvault_fuse_ring_store_reply(shardvault_fuse_ring *ring, const struct iovec *vectors, int count);

void shardvault_fuse_ring_close(shardvault_fuse_ring *ring);

#endif
