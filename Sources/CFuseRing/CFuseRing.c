// FUSE over io_uring, the kernel side of which is fs/fuse/dev_uring.c. Raw io_uring (no
// liburing): one SQE128 ring per channel, one request entry per ring, so the thread that
// owns the channel is the only one to submit and to reap.
#define _GNU_SOURCE
#include "CFuseRing.h"
#include <errno.h>
#include <linux/io_uring.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

// include/uapi/linux/fuse.h (7.42), which Debian 12's headers predate.
enum { URING_IN_OUT_HEADER_SIZE = 128, URING_OP_IN_OUT_SIZE = 128 };
enum { CMD_REGISTER = 1, CMD_COMMIT_AND_FETCH = 2 };
struct ring_entry_in_out { uint64_t flags; uint64_t commit_id; uint32_t payload_size; uint32_t padding; uint64_t reserved; };
struct ring_request_header {
    char in_out[URING_IN_OUT_HEADER_SIZE];
    char op_in[URING_OP_IN_OUT_SIZE];
    struct ring_entry_in_out entry;
};
struct ring_command { uint64_t flags; uint64_t commit_id; uint16_t qid; uint8_t padding[6]; };
enum { IN_HEADER_SIZE = 40, OUT_HEADER_SIZE = 16 };
#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER (1U << 12)
#endif
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN (1U << 13)
#endif

struct shardvault_fuse_ring {
    int ring_fd, fuse_fd;
    uint16_t qid;
    int registered;
    uint64_t commit_id;
    unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
    struct io_uring_cqe *cqes;
    unsigned char *sqes;
    void *rings; size_t rings_size;
    size_t sqes_size;
    struct ring_request_header *headers;
    // The request is rebuilt in front of the payload: header and per-op struct are copied
    // into the prefix, so the payload (a WRITE's data) is never copied.
    unsigned char *buffer; size_t buffer_size;
    unsigned char *payload; size_t payload_size;
    struct iovec vectors[2];
};

static int enter(int fd, unsigned submit, unsigned wait, unsigned flags) {
    return (int)syscall(__NR_io_uring_enter, fd, submit, wait, flags, NULL, 0);
}

shardvault_fuse_ring *shardvault_fuse_ring_open(int fuse_fd, uint16_t qid, size_t payload_size) {
    shardvault_fuse_ring *ring = calloc(1, sizeof *ring);
    if (!ring) return NULL;
    ring->ring_fd = -1;
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    params.flags = IORING_SETUP_SQE128 | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    int fd = (int)syscall(__NR_io_uring_setup, 2, &params);
    if (fd < 0) {
        memset(&params, 0, sizeof params);
        params.flags = IORING_SETUP_SQE128;
        fd = (int)syscall(__NR_io_uring_setup, 2, &params);
    }
    if (fd < 0) goto fail;
    ring->ring_fd = fd;
    if (!(params.features & IORING_FEAT_SINGLE_MMAP)) { errno = EOPNOTSUPP; goto fail; }
    size_t sq_size = params.sq_off.array + params.sq_entries * sizeof(unsigned);
    size_t cq_size = params.cq_off.cqes + params.cq_entries * sizeof(struct io_uring_cqe);
    ring->rings_size = sq_size > cq_size ? sq_size : cq_size;
    ring->rings = mmap(NULL, ring->rings_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
    if (ring->rings == MAP_FAILED) { ring->rings = NULL; goto fail; }
    ring->sqes_size = params.sq_entries * 128;
    ring->sqes = mmap(NULL, ring->sqes_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
    if (ring->sqes == MAP_FAILED) { ring->sqes = NULL; goto fail; }
    unsigned char *base = ring->rings;
    ring->sq_tail = (unsigned *)(base + params.sq_off.tail);
    ring->sq_mask = (unsigned *)(base + params.sq_off.ring_mask);
    ring->sq_array = (unsigned *)(base + params.sq_off.array);
    ring->cq_head = (unsigned *)(base + params.cq_off.head);
    ring->cq_tail = (unsigned *)(base + params.cq_off.tail);
    ring->cq_mask = (unsigned *)(base + params.cq_off.ring_mask);
    ring->cqes = (struct io_uring_cqe *)(base + params.cq_off.cqes);

    ring->fuse_fd = fuse_fd;
    ring->qid = qid;
    ring->headers = aligned_alloc(64, sizeof(struct ring_request_header));
    ring->payload_size = payload_size;
    ring->buffer_size = 4096 + payload_size;
    ring->buffer = aligned_alloc(4096, ring->buffer_size);
    if (!ring->headers || !ring->buffer) { errno = ENOMEM; goto fail; }
    memset(ring->headers, 0, sizeof *ring->headers);
    ring->payload = ring->buffer + 4096;
    ring->vectors[0] = (struct iovec){ ring->headers, sizeof *ring->headers };
    ring->vectors[1] = (struct iovec){ ring->payload, payload_size };
    return ring;
fail: {
        int saved = errno;
        shardvault_fuse_ring_close(ring);
        errno = saved;
        return NULL;
    }
}

static void push_command(shardvault_fuse_ring *ring, uint32_t command) {
    unsigned tail = *ring->sq_tail;
    unsigned index = tail & *ring->sq_mask;
    struct io_uring_sqe *sqe = (struct io_uring_sqe *)(ring->sqes + (size_t)index * 128);
    memset(sqe, 0, 128);
    sqe->opcode = IORING_OP_URING_CMD;
    sqe->fd = ring->fuse_fd;
    sqe->cmd_op = command;
    if (command == CMD_REGISTER) {
        sqe->addr = (uint64_t)(uintptr_t)ring->vectors;
        sqe->len = 2;
    }
    struct ring_command *arguments = (struct ring_command *)((unsigned char *)sqe + 48);
    arguments->qid = ring->qid;
    arguments->commit_id = command == CMD_COMMIT_AND_FETCH ? ring->commit_id : 0;
    ring->sq_array[index] = index;
    __atomic_store_n(ring->sq_tail, tail + 1, __ATOMIC_RELEASE);
}

/// Makes the next commit answer request `unique` with `error` and no payload.
static void store_error(shardvault_fuse_ring *ring, uint64_t unique, int32_t error) {
    struct { uint32_t length; int32_t error; uint64_t unique; } header = { OUT_HEADER_SIZE, error, unique };
    memcpy(ring->headers->in_out, &header, OUT_HEADER_SIZE);
    ring->headers->entry.payload_size = 0;
}

ssize_t shardvault_fuse_ring_next(shardvault_fuse_ring *ring, void **request) {
    push_command(ring, ring->registered ? CMD_COMMIT_AND_FETCH : CMD_REGISTER);
    unsigned submit = 1;
    for (;;) {
        unsigned head = *ring->cq_head;
        if (head != __atomic_load_n(ring->cq_tail, __ATOMIC_ACQUIRE)) {
            int result = ring->cqes[head & *ring->cq_mask].res;
            __atomic_store_n(ring->cq_head, head + 1, __ATOMIC_RELEASE);
            if (result < 0) {
                // A refused commit leaves its entry with the kernel for good: register anew.
                ring->registered = 0;
                return result;
            }
            break;
        }
        if (enter(ring->ring_fd, submit, 1, IORING_ENTER_GETEVENTS) < 0) {
            if (errno == EINTR) { submit = 0; continue; }
            return -errno;
        }
        submit = 0;
    }
    ring->registered = 1;
    const unsigned char *in = (const unsigned char *)ring->headers->in_out;
    uint32_t length;
    memcpy(&length, in, 4);
    ring->commit_id = ring->headers->entry.commit_id;
    size_t payload = ring->headers->entry.payload_size;
    if (length < IN_HEADER_SIZE || payload > ring->payload_size || length - IN_HEADER_SIZE < payload
        || length - IN_HEADER_SIZE - payload > URING_OP_IN_OUT_SIZE) {
        uint64_t unique;
        memcpy(&unique, in + 8, sizeof unique);
        store_error(ring, unique, -EIO);
        return -EPROTO;
    }
    size_t op_size = length - IN_HEADER_SIZE - payload;
    unsigned char *start = ring->payload - IN_HEADER_SIZE - op_size;
    memcpy(start, in, IN_HEADER_SIZE);
    memcpy(start + IN_HEADER_SIZE, ring->headers->op_in, op_size);
    *request = start;
    return (ssize_t)length;
}

ssize_t shardvault_fuse_ring_store_reply(shardvault_fuse_ring *ring, const struct iovec *vectors, int count) {
    if (count < 1 || vectors[0].iov_len < OUT_HEADER_SIZE) return -EINVAL;
    size_t total = 0;
    for (int i = 1; i < count; i++) total += vectors[i].iov_len;
    if (total > ring->payload_size) {
        // Committed as EIO rather than as a reply cut short.
        uint64_t unique;
        memcpy(&unique, (const unsigned char *)vectors[0].iov_base + 8, sizeof unique);
        store_error(ring, unique, -EIO);
        return -E2BIG;
    }
    memcpy(ring->headers->in_out, vectors[0].iov_base, OUT_HEADER_SIZE);
    size_t offset = 0;
    for (int i = 1; i < count; i++) {
        // memmove: a reply may be built in the request's own buffer.
        memmove(ring->payload + offset, vectors[i].iov_base, vectors[i].iov_len);
        offset += vectors[i].iov_len;
    }
    ring->headers->entry.payload_size = (uint32_t)total;
    return (ssize_t)(total + vectors[0].iov_len);
}

void shardvault_fuse_ring_close(shardvault_fuse_ring *ring) {
    if (!ring) return;
    if (ring->sqes) munmap(ring->sqes, ring->sqes_size);
    if (ring->rings) munmap(ring->rings, ring->rings_size);
    if (ring->ring_fd >= 0) close(ring->ring_fd);
    free(ring->headers);
    free(ring->buffer);
    free(ring);
}
