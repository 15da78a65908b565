// FUSE over io_uring, the kernel side of which is fs/fuse/dev_uring.c. Raw io_uring (no
// liburing): one SQE128 ring per kernel queue with several request entries (slots), owned by
// one thread, the only one to submit to it and to reap it. Another thread that answers a
// slot's request stores the reply and wakes the owner with IORING_OP_MSG_RING, sent from a
// small ring of its own, so nothing stays armed in the owner's ring.
#define _GNU_SOURCE
#include "CFuseRing.h"
#include <errno.h>
#include <linux/io_uring.h>
#include <pthread.h>
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
enum { OP_MSG_RING = 40 };   // IORING_OP_MSG_RING; IORING_MSG_DATA is its default (addr 0)

/// An io_uring mapped into this process: its submission and completion queues.
struct mapped_ring {
    int fd;
    size_t sqe_size;
    unsigned *sq_head, *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
    struct io_uring_cqe *cqes;
    unsigned char *sqes;
    void *rings; size_t rings_size;
    size_t sqes_size;
};

/// One request entry: the kernel writes a request into it and reads the reply back from it.
struct slot {
    struct ring_request_header *headers;
    // The request is rebuilt in front of the payload: header and per-op struct are copied
    // into the prefix, so the payload (a WRITE's data) is never copied.
    unsigned char *buffer;
    unsigned char *payload;
    struct iovec vectors[2];
    uint64_t commit_id;
    int needs_register;
    int reply_waiting;   // atomic: a reply stored by another thread waits for its commit
};

struct shardvault_fuse_ring {
    struct mapped_ring ring;
    int fuse_fd;
    uint16_t qid;
    size_t payload_size;
    unsigned slot_count;
    struct slot *slots;
    // The ring other threads send their wake-ups from, one at a time.
    struct mapped_ring waker;
    pthread_mutex_t waker_lock;
};

/// user_data of the wake-up message: replies stored by other threads wait for their commit.
static const uint64_t WAKE_UP = UINT64_MAX;

static int enter(int fd, unsigned submit, unsigned wait, unsigned flags) {
    return (int)syscall(__NR_io_uring_enter, fd, submit, wait, flags, NULL, 0);
}

/// Sets up and maps a ring of `entries`, with `flags` if the kernel takes them, else with
/// `fallback_flags`. 0 or -1 with errno.
static int map_ring(struct mapped_ring *ring, unsigned entries, unsigned flags, unsigned fallback_flags) {
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    params.flags = flags;
    int fd = (int)syscall(__NR_io_uring_setup, entries, &params);
    if (fd < 0 && fallback_flags != flags) {
        memset(&params, 0, sizeof params);
        params.flags = fallback_flags;
        fd = (int)syscall(__NR_io_uring_setup, entries, &params);
    }
    if (fd < 0) return -1;
    ring->fd = fd;
    if (!(params.features & IORING_FEAT_SINGLE_MMAP)) { errno = EOPNOTSUPP; return -1; }
    ring->sqe_size = (params.flags & IORING_SETUP_SQE128) ? 128 : sizeof(struct io_uring_sqe);
    size_t sq_size = params.sq_off.array + params.sq_entries * sizeof(unsigned);
    size_t cq_size = params.cq_off.cqes + params.cq_entries * sizeof(struct io_uring_cqe);
    ring->rings_size = sq_size > cq_size ? sq_size : cq_size;
    void *rings = mmap(NULL, ring->rings_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
    if (rings == MAP_FAILED) return -1;
    ring->rings = rings;
    ring->sqes_size = params.sq_entries * ring->sqe_size;
    void *sqes = mmap(NULL, ring->sqes_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
    if (sqes == MAP_FAILED) return -1;
    ring->sqes = sqes;
    unsigned char *base = rings;
    ring->sq_head = (unsigned *)(base + params.sq_off.head);
    ring->sq_tail = (unsigned *)(base + params.sq_off.tail);
    ring->sq_mask = (unsigned *)(base + params.sq_off.ring_mask);
    ring->sq_array = (unsigned *)(base + params.sq_off.array);
    ring->cq_head = (unsigned *)(base + params.cq_off.head);
    ring->cq_tail = (unsigned *)(base + params.cq_off.tail);
    ring->cq_mask = (unsigned *)(base + params.cq_off.ring_mask);
    ring->cqes = (struct io_uring_cqe *)(base + params.cq_off.cqes);
    return 0;
}

static void unmap_ring(struct mapped_ring *ring) {
    if (ring->sqes) munmap(ring->sqes, ring->sqes_size);
    if (ring->rings) munmap(ring->rings, ring->rings_size);
    if (ring->fd >= 0) close(ring->fd);
}

/// A zeroed SQE at the tail, published by `publish_sqe`.
static struct io_uring_sqe *next_sqe(struct mapped_ring *ring) {
    unsigned index = *ring->sq_tail & *ring->sq_mask;
    struct io_uring_sqe *sqe = (struct io_uring_sqe *)(ring->sqes + (size_t)index * ring->sqe_size);
    memset(sqe, 0, ring->sqe_size);
    ring->sq_array[index] = index;
    return sqe;
}

static void publish_sqe(struct mapped_ring *ring) {
    __atomic_store_n(ring->sq_tail, *ring->sq_tail + 1, __ATOMIC_RELEASE);
}

/// SQEs published and not yet taken by the kernel (an interrupted io_uring_enter may have
/// taken none).
static unsigned unsubmitted(struct mapped_ring *ring) {
    return *ring->sq_tail - __atomic_load_n(ring->sq_head, __ATOMIC_ACQUIRE);
}

shardvault_fuse_ring *shardvault_fuse_ring_open(int fuse_fd, uint16_t qid, size_t payload_size, unsigned slots) {
    if (slots == 0 || slots > 64) { errno = EINVAL; return NULL; }
    shardvault_fuse_ring *ring = calloc(1, sizeof *ring);
    if (!ring) return NULL;
    ring->ring.fd = -1;
    ring->waker.fd = -1;
    pthread_mutex_init(&ring->waker_lock, NULL);
    // At most one command per slot is in flight.
    if (map_ring(&ring->ring, slots, IORING_SETUP_SQE128 | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
                 IORING_SETUP_SQE128) != 0) goto fail;
    if (map_ring(&ring->waker, 2, 0, 0) != 0) goto fail;
    ring->fuse_fd = fuse_fd;
    ring->qid = qid;
    ring->payload_size = payload_size;
    ring->slot_count = slots;
    ring->slots = calloc(slots, sizeof(struct slot));
    if (!ring->slots) { errno = ENOMEM; goto fail; }
    for (unsigned i = 0; i < slots; i++) {
        struct slot *slot = &ring->slots[i];
        slot->headers = aligned_alloc(64, sizeof(struct ring_request_header));
        slot->buffer = aligned_alloc(4096, 4096 + payload_size);
        if (!slot->headers || !slot->buffer) { errno = ENOMEM; goto fail; }
        memset(slot->headers, 0, sizeof *slot->headers);
        slot->payload = slot->buffer + 4096;
        slot->vectors[0] = (struct iovec){ slot->headers, sizeof *slot->headers };
        slot->vectors[1] = (struct iovec){ slot->payload, payload_size };
        slot->needs_register = 1;
    }
    return ring;
fail: {
        int saved = errno;
        shardvault_fuse_ring_close(ring);
        errno = saved;
        return NULL;
    }
}

static void push_command(shardvault_fuse_ring *ring, unsigned index, uint32_t command) {
    struct slot *slot = &ring->slots[index];
    struct io_uring_sqe *sqe = next_sqe(&ring->ring);
    sqe->opcode = IORING_OP_URING_CMD;
    sqe->fd = ring->fuse_fd;
    sqe->cmd_op = command;
    sqe->user_data = index;
    if (command == CMD_REGISTER) {
        sqe->addr = (uint64_t)(uintptr_t)slot->vectors;
        sqe->len = 2;
    }
    struct ring_command *arguments = (struct ring_command *)((unsigned char *)sqe + 48);
    arguments->qid = ring->qid;
    arguments->commit_id = command == CMD_COMMIT_AND_FETCH ? slot->commit_id : 0;
    publish_sqe(&ring->ring);
}

/// Makes the next commit of `slot` answer request `unique` with `error` and no payload.
static void store_error(struct slot *slot, uint64_t unique, int32_t error) {
    struct { uint32_t length; int32_t error; uint64_t unique; } header = { OUT_HEADER_SIZE, error, unique };
    memcpy(slot->headers->in_out, &header, OUT_HEADER_SIZE);
    slot->headers->entry.payload_size = 0;
}

/// Lays the request of `slot` out as read(2) of /dev/fuse would; -EPROTO (and an EIO reply
/// stored) when its sizes do not add up.
static ssize_t unpack(shardvault_fuse_ring *ring, struct slot *slot, void **request) {
    const unsigned char *in = (const unsigned char *)slot->headers->in_out;
    uint32_t length;
    memcpy(&length, in, 4);
    slot->commit_id = slot->headers->entry.commit_id;
    size_t payload = slot->headers->entry.payload_size;
    if (length < IN_HEADER_SIZE || payload > ring->payload_size || length - IN_HEADER_SIZE < payload
        || length - IN_HEADER_SIZE - payload > URING_OP_IN_OUT_SIZE) {
        uint64_t unique;
        memcpy(&unique, in + 8, sizeof unique);
        store_error(slot, unique, -EIO);
        return -EPROTO;
    }
    size_t op_size = length - IN_HEADER_SIZE - payload;
    unsigned char *start = slot->payload - IN_HEADER_SIZE - op_size;
    memcpy(start, in, IN_HEADER_SIZE);
    memcpy(start + IN_HEADER_SIZE, slot->headers->op_in, op_size);
    *request = start;
    return (ssize_t)length;
}

/// Queues the commits other threads asked for.
static void take_replies_from_elsewhere(shardvault_fuse_ring *ring) {
    for (unsigned i = 0; i < ring->slot_count; i++) {
        if (__atomic_exchange_n(&ring->slots[i].reply_waiting, 0, __ATOMIC_ACQUIRE)) {
            push_command(ring, i, CMD_COMMIT_AND_FETCH);
        }
    }
}

ssize_t shardvault_fuse_ring_next(shardvault_fuse_ring *ring, unsigned *slot_index, void **request) {
    for (unsigned i = 0; i < ring->slot_count; i++) {
        if (ring->slots[i].needs_register) {
            ring->slots[i].needs_register = 0;
            push_command(ring, i, CMD_REGISTER);
        }
    }
    struct mapped_ring *uring = &ring->ring;
    for (;;) {
        unsigned head = *uring->cq_head;
        if (head == __atomic_load_n(uring->cq_tail, __ATOMIC_ACQUIRE)) {
            if (enter(uring->fd, unsubmitted(uring), 1, IORING_ENTER_GETEVENTS) < 0 && errno != EINTR) return -errno;
            continue;
        }
        struct io_uring_cqe cqe = uring->cqes[head & *uring->cq_mask];
        __atomic_store_n(uring->cq_head, head + 1, __ATOMIC_RELEASE);
        if (cqe.user_data == WAKE_UP) {
            take_replies_from_elsewhere(ring);
            continue;
        }
        unsigned index = (unsigned)cqe.user_data;
        if (index >= ring->slot_count) continue;
        struct slot *slot = &ring->slots[index];
        *slot_index = index;
        if (cqe.res < 0) {
            // A refused command leaves its entry with the kernel for good: register anew.
            slot->needs_register = 1;
            return cqe.res;
        }
        ssize_t length = unpack(ring, slot, request);
        if (length == -EPROTO) {
            push_command(ring, index, CMD_COMMIT_AND_FETCH);
            continue;
        }
        return length;
    }
}

ssize_t shardvault_fuse_ring_store_reply(shardvault_fuse_ring *ring, unsigned slot_index, const struct iovec *vectors, int count) {
    if (slot_index >= ring->slot_count || count < 1 || vectors[0].iov_len < OUT_HEADER_SIZE) return -EINVAL;
    struct slot *slot = &ring->slots[slot_index];
    size_t total = 0;
    for (int i = 1; i < count; i++) total += vectors[i].iov_len;
    if (total > ring->payload_size) {
        // Committed as EIO rather than as a reply cut short.
        uint64_t unique;
        memcpy(&unique, (const unsigned char *)vectors[0].iov_base + 8, sizeof unique);
        store_error(slot, unique, -EIO);
        return -E2BIG;
    }
    memcpy(slot->headers->in_out, vectors[0].iov_base, OUT_HEADER_SIZE);
    size_t offset = 0;
    for (int i = 1; i < count; i++) {
        // memmove: a reply may be built in the request's own buffer.
        memmove(slot->payload + offset, vectors[i].iov_base, vectors[i].iov_len);
        offset += vectors[i].iov_len;
    }
    slot->headers->entry.payload_size = (uint32_t)total;
    return (ssize_t)(total + vectors[0].iov_len);
}

void shardvault_fuse_ring_commit(shardvault_fuse_ring *ring, unsigned slot_index) {
    if (slot_index < ring->slot_count) push_command(ring, slot_index, CMD_COMMIT_AND_FETCH);
}

int shardvault_fuse_ring_commit_from_elsewhere(shardvault_fuse_ring *ring, unsigned slot_index) {
    if (slot_index >= ring->slot_count) return -EINVAL;
    __atomic_store_n(&ring->slots[slot_index].reply_waiting, 1, __ATOMIC_RELEASE);
    struct mapped_ring *waker = &ring->waker;
    pthread_mutex_lock(&ring->waker_lock);
    struct io_uring_sqe *sqe = next_sqe(waker);
    sqe->opcode = OP_MSG_RING;
    sqe->fd = ring->ring.fd;
    sqe->off = WAKE_UP;                    // the user_data of the owner's CQE
    sqe->flags = IOSQE_CQE_SKIP_SUCCESS;   // no CQE in the waker's ring unless it fails
    publish_sqe(waker);
    int result = enter(waker->fd, unsubmitted(waker), 0, 0) < 0 ? -errno : 0;
    // The send completes within the submit; a failure leaves a CQE.
    unsigned head = *waker->cq_head;
    if (result == 0 && head != __atomic_load_n(waker->cq_tail, __ATOMIC_ACQUIRE)) {
        result = waker->cqes[head & *waker->cq_mask].res;
    }
    __atomic_store_n(waker->cq_head, __atomic_load_n(waker->cq_tail, __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
    pthread_mutex_unlock(&ring->waker_lock);
    return result < 0 ? result : 0;
}

void shardvault_fuse_ring_close(shardvault_fuse_ring *ring) {
    if (!ring) return;
    unmap_ring(&ring->ring);
    unmap_ring(&ring->waker);
    pthread_mutex_destroy(&ring->waker_lock);
    if (ring->slots) {
        for (unsigned i = 0; i < ring->slot_count; i++) {
            free(ring->slots[i].headers);
            free(ring->slots[i].buffer);
        }
        free(ring->slots);
    }
    free(ring);
}
