#ifndef SHARDVAULT_CFUSERING_H
#define SHARDVAULT_CFUSERING_H
// FUSE over io_uring (kernel 6.14+, docs/FUSE.md "Requests over io_uring"): one thread's
// private channel to one of the kernel's per-CPU request queues. libfuse 3.14 does
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

/// A ring of its own with `slots` request entries of `payload_size` bytes each (1...64) for
/// queue `qid` of the connection behind `fuse_fd`. NULL with errno on failure. Every call
/// below but the two reply calls belongs to the thread that owns the ring.
shardvault_fuse_ring *shardvault_fuse_ring_open(int fuse_fd, uint16_t qid, size_t payload_size, unsigned slots);

/// Registers the slots not registered yet and submits the commits asked for since the last
/// call; then waits for the next request. Returns its length, sets `*slot` to the slot that
/// holds it and `*request` to the request laid out as read(2) of /dev/fuse delivers it (valid
/// until that slot's commit); or -errno: -EAGAIN before the connection is initialized,
/// -ENOTCONN once the kernel tore the queue down (`*slot` is then the slot refused, which is
/// registered again by the next call). A request whose sizes do not add up is answered EIO
/// without being returned.
ssize_t shardvault_fuse_ring_next(shardvault_fuse_ring *ring, unsigned *slot, void **request);

/// Stores a reply as libfuse writes it to /dev/fuse (fuse_out_header, then the arguments) in
/// `slot`. Any thread. Returns the bytes taken or -errno.
ssize_t shardvault_fuse_ring_store_reply(shardvault_fuse_ring *ring, unsigned slot, const struct iovec *vectors, int count);

/// The owner thread: the stored reply of `slot` is committed (and the slot handed back to the
/// kernel) by the next `shardvault_fuse_ring_next`.
void shardvault_fuse_ring_commit(shardvault_fuse_ring *ring, unsigned slot);

/// Any other thread: as `shardvault_fuse_ring_commit`, waking the owner if it waits. 0 or
/// -errno.
int shardvault_fuse_ring_commit_from_elsewhere(shardvault_fuse_ring *ring, unsigned slot);

void shardvault_fuse_ring_close(shardvault_fuse_ring *ring);

#endif
