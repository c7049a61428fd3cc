// A small LibIPC TransportSocket look-alike in plain C, shared by LibIPCForkFixture and
// LibIPCHandoffFixture (header-only: every function is static). It speaks the wire format of
// docs/protocol.md §1.2–§1.5 and §3.1 byte for byte:
//   - frames are `u8 type · 3 zero bytes · u32 LE payload_size · u32 LE fd_count` plus the payload;
//   - a payload frame goes out with one sendmsg, its fds in SCM_RIGHTS with its first bytes (a partial
//     write finishes with plain sends and no fds);
//   - received fds go into a FIFO and are matched to frames purely by count;
//   - after every read pass one ack frame (type 1, size 0, fd_count = fds of the frames parsed in that
//     pass) is queued; sent fds stay open ("retained") until the peer acknowledges them.
// Everything a fixture checks fails loudly through ll_fail(): a message on stderr and _exit(1).
#ifndef IPCSCOPE_LIBIPC_LITE_H
#define IPCSCOPE_LIBIPC_LITE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LL_HEADER_SIZE 12
#define LL_TYPE_PAYLOAD 0
#define LL_TYPE_ACK 1
#define LL_MAX_FDS_PER_FRAME 128           // MAX_MESSAGE_FD_COUNT
#define LL_READ_CHUNK 4096                 // TransportSocket's recvmsg buffer
#define LL_MAX_PAYLOAD (64u * 1024 * 1024) // MAX_MESSAGE_PAYLOAD_SIZE
#define LL_DEADLINE_SECONDS 120            // a fixture never hangs a test run forever

static const char *ll_role = "fixture";

// ---------------------------------------------------------------------------------------------------
// Output: write(2) only, one call per line (atomic on a pipe, and never duplicated by fork()).

static void ll_say(const char *format, ...) {
    char line[512];
    va_list arguments;
    va_start(arguments, format);
    int length = vsnprintf(line, sizeof line, format, arguments);
    va_end(arguments);
    if (length <= 0) return;
    if ((size_t)length >= sizeof line) length = (int)sizeof line - 1;
    (void)!write(STDOUT_FILENO, line, (size_t)length);
}

__attribute__((noreturn, format(printf, 1, 2)))
static void ll_fail(const char *format, ...) {
    char line[512];
    va_list arguments;
    va_start(arguments, format);
    int length = snprintf(line, sizeof line, "fixture failed [%s %d]: ", ll_role, (int)getpid());
    length += vsnprintf(line + length, sizeof line - (size_t)length - 1, format, arguments);
    va_end(arguments);
    if (length > (int)sizeof line - 2) length = (int)sizeof line - 2;
    line[length++] = '\n';
    (void)!write(STDERR_FILENO, line, (size_t)length);
    _exit(1);
}

static void *ll_alloc(size_t size) {
    void *memory = calloc(1, size ? size : 1);
    if (memory == NULL) ll_fail("out of memory (%zu bytes)", size);
    return memory;
}

static void *ll_grow(void *memory, size_t size) {
    void *grown = realloc(memory, size ? size : 1);
    if (grown == NULL) ll_fail("out of memory (%zu bytes)", size);
    return grown;
}

static double ll_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

// ---------------------------------------------------------------------------------------------------
// Little-endian helpers, the endpoint magic (AK::string_hash, seed 0) and a payload hash for manifests.

static void ll_put_u32(uint8_t *at, uint32_t value) {
    at[0] = (uint8_t)value;
    at[1] = (uint8_t)(value >> 8);
    at[2] = (uint8_t)(value >> 16);
    at[3] = (uint8_t)(value >> 24);
}

static uint32_t ll_get_u32(const uint8_t *at) {
    return (uint32_t)at[0] | (uint32_t)at[1] << 8 | (uint32_t)at[2] << 16 | (uint32_t)at[3] << 24;
}

static uint32_t ll_endpoint_magic(const char *name) {
    uint32_t hash = 0;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
        hash += *c;
        hash += hash << 10;
        hash ^= hash >> 6;
    }
    hash += hash << 3;
    hash ^= hash >> 11;
    hash += hash << 15;
    return hash;
}

// FNV-1a 64: the test recomputes it over the captured payload.
static uint64_t ll_fnv1a64(const uint8_t *bytes, size_t count) {
    uint64_t hash = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < count; i++) {
        hash ^= bytes[i];
        hash *= 0x100000001b3ull;
    }
    return hash;
}

// ---------------------------------------------------------------------------------------------------
// Payload encoder (docs/protocol.md §3.1/§4: raw little-endian values, u32 sizes, no alignment).

typedef struct {
    uint8_t *bytes;
    size_t count;
    size_t capacity;
} ll_buffer;

static void ll_append(ll_buffer *buffer, const void *bytes, size_t count) {
    if (buffer->count + count > buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity : 64;
        while (capacity < buffer->count + count) capacity *= 2;
        buffer->bytes = ll_grow(buffer->bytes, capacity);
        buffer->capacity = capacity;
    }
    if (count) memcpy(buffer->bytes + buffer->count, bytes, count);
    buffer->count += count;
}

static void ll_encode_u32(ll_buffer *buffer, uint32_t value) {
    uint8_t raw[4];
    ll_put_u32(raw, value);
    ll_append(buffer, raw, 4);
}

static void ll_encode_u8(ll_buffer *buffer, uint8_t value) { ll_append(buffer, &value, 1); }

static void ll_encode_string(ll_buffer *buffer, const char *text) {
    ll_encode_u32(buffer, (uint32_t)strlen(text));
    ll_append(buffer, text, strlen(text));
}

// Envelope: endpoint magic, message id.
static void ll_encode_envelope(ll_buffer *buffer, uint32_t magic, int32_t message_id) {
    ll_encode_u32(buffer, magic);
    ll_encode_u32(buffer, (uint32_t)message_id);
}

// ---------------------------------------------------------------------------------------------------
// Attachments: pipes with a marker, memfds with a marker, and how to check a received one.

enum ll_fd_kind { LL_FD_PIPE = 1, LL_FD_MEMFD = 2, LL_FD_SOCKET = 3 };

static const char *ll_fd_kind_name(int kind) {
    switch (kind) {
    case LL_FD_PIPE: return "pipe";
    case LL_FD_MEMFD: return "memfd";
    case LL_FD_SOCKET: return "socket";
    default: return "?";
    }
}

// The read end of a pipe holding `marker` whose write end is already closed.
static int ll_make_marker_pipe(const char *marker) {
    int ends[2];
    if (pipe2(ends, O_CLOEXEC) != 0) ll_fail("pipe2: %s", strerror(errno));
    size_t length = strlen(marker);
    if (write(ends[1], marker, length) != (ssize_t)length) ll_fail("write to pipe: %s", strerror(errno));
    close(ends[1]);
    return ends[0];
}

// A sealed memfd (shrink/grow) of 4096 bytes starting with `marker`, like an AnonymousBuffer.
static int ll_make_marker_memfd(const char *marker) {
    int fd = memfd_create("ipcscope-fixture", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) ll_fail("memfd_create: %s", strerror(errno));
    if (ftruncate(fd, 4096) != 0) ll_fail("ftruncate memfd: %s", strerror(errno));
    size_t length = strlen(marker);
    if (pwrite(fd, marker, length, 0) != (ssize_t)length) ll_fail("pwrite memfd: %s", strerror(errno));
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0) ll_fail("F_ADD_SEALS: %s", strerror(errno));
    return fd;
}

__attribute__((unused)) static int ll_make_marker_fd(int kind, const char *marker) {
    return kind == LL_FD_MEMFD ? ll_make_marker_memfd(marker) : ll_make_marker_pipe(marker);
}

// What a received fd is: LL_FD_PIPE, LL_FD_MEMFD, LL_FD_SOCKET or 0.
static int ll_fd_kind_of(int fd) {
    struct stat info;
    if (fstat(fd, &info) != 0) ll_fail("fstat received fd %d: %s", fd, strerror(errno));
    if (S_ISFIFO(info.st_mode)) return LL_FD_PIPE;
    if (S_ISSOCK(info.st_mode)) return LL_FD_SOCKET;
    if (S_ISREG(info.st_mode) && fcntl(fd, F_GET_SEALS) >= 0) return LL_FD_MEMFD;
    return 0;
}

// Checks a received pipe or memfd: its kind and that it holds exactly `marker` (a memfd: at offset 0,
// size 4096, sealed against shrinking and growing). Closes it.
static void ll_expect_marker_fd(int fd, int kind, const char *marker) {
    int actual = ll_fd_kind_of(fd);
    if (actual != kind) ll_fail("fd for \"%s\" is a %s, expected a %s", marker, ll_fd_kind_name(actual), ll_fd_kind_name(kind));
    size_t length = strlen(marker);
    char content[256];
    if (kind == LL_FD_PIPE) {
        size_t got = 0;
        for (;;) {
            ssize_t count = read(fd, content + got, sizeof content - 1 - got);
            if (count < 0 && errno == EINTR) continue;
            if (count < 0) ll_fail("read from received pipe: %s", strerror(errno));
            if (count == 0) break;
            got += (size_t)count;
            if (got == sizeof content - 1) break;
        }
        content[got] = '\0';
        if (got != length || memcmp(content, marker, length) != 0)
            ll_fail("pipe holds \"%s\", expected \"%s\"", content, marker);
    } else {
        struct stat info;
        if (fstat(fd, &info) != 0 || info.st_size != 4096) ll_fail("memfd size %lld, expected 4096", (long long)info.st_size);
        int seals = fcntl(fd, F_GET_SEALS);
        if ((seals & (F_SEAL_SHRINK | F_SEAL_GROW)) != (F_SEAL_SHRINK | F_SEAL_GROW)) ll_fail("memfd seals 0x%x", seals);
        ssize_t got = pread(fd, content, length + 1, 0);
        if (got != (ssize_t)length + 1 || memcmp(content, marker, length) != 0 || content[length] != '\0')
            ll_fail("memfd does not hold \"%s\"", marker);
    }
    close(fd);
}

// ---------------------------------------------------------------------------------------------------
// The connection.

typedef struct {
    uint8_t *bytes;  // header + payload
    size_t count;
    size_t offset;   // bytes already written
    int fds[LL_MAX_FDS_PER_FRAME];
    uint32_t fd_count;
    int fds_sent;
} ll_outgoing;

typedef struct {
    int *items;
    size_t head;
    size_t count;
    size_t capacity;
} ll_fd_fifo;

static void ll_fifo_push(ll_fd_fifo *fifo, int fd) {
    if (fifo->head + fifo->count == fifo->capacity) {
        if (fifo->head > 0) {
            memmove(fifo->items, fifo->items + fifo->head, fifo->count * sizeof(int));
            fifo->head = 0;
        }
        if (fifo->count == fifo->capacity) {
            fifo->capacity = fifo->capacity ? fifo->capacity * 2 : 16;
            fifo->items = ll_grow(fifo->items, fifo->capacity * sizeof(int));
        }
    }
    fifo->items[fifo->head + fifo->count++] = fd;
}

static int ll_fifo_pop(ll_fd_fifo *fifo) {
    if (fifo->count == 0) ll_fail("fd FIFO underflow");
    int fd = fifo->items[fifo->head++];
    fifo->count--;
    if (fifo->count == 0) fifo->head = 0;
    return fd;
}

typedef struct ll_connection ll_connection;

// A received payload frame: `payload` (owned by the connection, valid during the call) and its fds
// (owned by the handler from now on).
typedef struct {
    const uint8_t *payload;
    uint32_t size;
    int fds[LL_MAX_FDS_PER_FRAME];
    uint32_t fd_count;
} ll_message;

typedef void (*ll_message_handler)(ll_connection *connection, ll_message *message, void *context);

struct ll_connection {
    int socket;
    const char *name;
    // Outgoing frames in FIFO order.
    ll_outgoing **queue;
    size_t queue_head;
    size_t queue_count;
    size_t queue_capacity;
    // Fds sent and not yet acknowledged (closed when acknowledged, like LibIPC).
    ll_fd_fifo retained;
    // Incoming bytes not yet parsed and fds not yet matched.
    uint8_t *unprocessed;
    size_t unprocessed_count;
    size_t unprocessed_capacity;
    ll_fd_fifo unmatched;
    int peer_eof;
    int write_shut;
    // Counters.
    unsigned frames_sent, fds_sent, frames_received, fds_received;
    unsigned ack_frames_sent, fds_acknowledged_by_us, ack_frames_received, fds_acknowledged_by_peer;
};

static void ll_connection_init(ll_connection *connection, int socket, const char *name) {
    memset(connection, 0, sizeof *connection);
    connection->socket = socket;
    connection->name = name;
    int flags = fcntl(socket, F_GETFL);
    if (flags < 0 || fcntl(socket, F_SETFL, flags | O_NONBLOCK) != 0) ll_fail("O_NONBLOCK: %s", strerror(errno));
    int size = 128 * 1024; // TransportSocket's SOCKET_BUFFER_SIZE; errors ignored like LibIPC
    (void)setsockopt(socket, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    (void)setsockopt(socket, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

static void ll_enqueue(ll_connection *connection, uint8_t type, const uint8_t *payload, uint32_t size,
                       const int *fds, uint32_t fd_count) {
    if (fd_count > LL_MAX_FDS_PER_FRAME) ll_fail("%u fds in one frame", fd_count);
    ll_outgoing *frame = ll_alloc(sizeof *frame);
    frame->count = LL_HEADER_SIZE + (size_t)size;
    frame->bytes = ll_alloc(frame->count);
    frame->bytes[0] = type; // bytes 1–3: zero padding
    ll_put_u32(frame->bytes + 4, size);
    ll_put_u32(frame->bytes + 8, fd_count);
    if (size) memcpy(frame->bytes + LL_HEADER_SIZE, payload, size);
    frame->fd_count = type == LL_TYPE_PAYLOAD ? fd_count : 0;
    for (uint32_t i = 0; i < frame->fd_count; i++) frame->fds[i] = fds[i];
    if (connection->queue_head + connection->queue_count == connection->queue_capacity) {
        if (connection->queue_head > 0) {
            memmove(connection->queue, connection->queue + connection->queue_head,
                    connection->queue_count * sizeof *connection->queue);
            connection->queue_head = 0;
        }
        if (connection->queue_count == connection->queue_capacity) {
            connection->queue_capacity = connection->queue_capacity ? connection->queue_capacity * 2 : 16;
            connection->queue = ll_grow(connection->queue, connection->queue_capacity * sizeof *connection->queue);
        }
    }
    connection->queue[connection->queue_head + connection->queue_count++] = frame;
}

// post_message: a payload frame; its fds are retained (and closed on acknowledgement) from now on.
static void ll_post(ll_connection *connection, const ll_buffer *payload, const int *fds, uint32_t fd_count) {
    ll_enqueue(connection, LL_TYPE_PAYLOAD, payload->bytes, (uint32_t)payload->count, fds, fd_count);
    for (uint32_t i = 0; i < fd_count; i++) ll_fifo_push(&connection->retained, fds[i]);
    connection->frames_sent++;
    connection->fds_sent += fd_count;
}

// Writes queued frames until the queue is empty or the socket is full.
static void ll_flush(ll_connection *connection) {
    while (connection->queue_count > 0) {
        ll_outgoing *frame = connection->queue[connection->queue_head];
        struct iovec part = { frame->bytes + frame->offset, frame->count - frame->offset };
        union { struct cmsghdr align; char bytes[CMSG_SPACE(sizeof(int) * LL_MAX_FDS_PER_FRAME)]; } control;
        struct msghdr message = { .msg_iov = &part, .msg_iovlen = 1 };
        if (frame->fd_count > 0 && !frame->fds_sent) {
            memset(&control, 0, sizeof control);
            message.msg_control = control.bytes;
            message.msg_controllen = CMSG_LEN(sizeof(int) * frame->fd_count);
            struct cmsghdr *rights = CMSG_FIRSTHDR(&message);
            rights->cmsg_level = SOL_SOCKET;
            rights->cmsg_type = SCM_RIGHTS;
            rights->cmsg_len = CMSG_LEN(sizeof(int) * frame->fd_count);
            memcpy(CMSG_DATA(rights), frame->fds, sizeof(int) * frame->fd_count);
        }
        ssize_t written = sendmsg(connection->socket, &message, MSG_NOSIGNAL);
        if (written < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            ll_fail("%s: sendmsg: %s", connection->name, strerror(errno));
        }
        frame->fds_sent = 1;
        frame->offset += (size_t)written;
        if (frame->offset == frame->count) {
            connection->queue_head++;
            connection->queue_count--;
            if (connection->queue_count == 0) connection->queue_head = 0;
            free(frame->bytes);
            free(frame);
        }
    }
}

// Parses whole frames out of the unprocessed bytes; returns the fds of the payload frames parsed.
static uint32_t ll_parse(ll_connection *connection, ll_message_handler handler, void *context) {
    size_t index = 0;
    uint32_t received_fds = 0;
    uint32_t acknowledged = 0;
    while (connection->unprocessed_count - index >= LL_HEADER_SIZE) {
        const uint8_t *header = connection->unprocessed + index;
        uint8_t type = header[0];
        uint32_t size = ll_get_u32(header + 4);
        uint32_t fd_count = ll_get_u32(header + 8);
        if (header[1] || header[2] || header[3]) ll_fail("%s: header padding not zero", connection->name);
        if (type == LL_TYPE_ACK) {
            if (size != 0) ll_fail("%s: ack frame with payload size %u", connection->name, size);
            acknowledged += fd_count;
            connection->ack_frames_received++;
            index += LL_HEADER_SIZE;
            continue;
        }
        if (type != LL_TYPE_PAYLOAD) ll_fail("%s: unknown frame type %u", connection->name, type);
        if (size > LL_MAX_PAYLOAD || fd_count > LL_MAX_FDS_PER_FRAME)
            ll_fail("%s: frame size %u with %u fds over the limits", connection->name, size, fd_count);
        if (connection->unprocessed_count - index - LL_HEADER_SIZE < size) break;
        if (connection->unmatched.count < fd_count) break; // its fds have not all arrived yet
        ll_message message = { .payload = header + LL_HEADER_SIZE, .size = size, .fd_count = fd_count };
        for (uint32_t i = 0; i < fd_count; i++) message.fds[i] = ll_fifo_pop(&connection->unmatched);
        connection->frames_received++;
        connection->fds_received += fd_count;
        received_fds += fd_count;
        index += LL_HEADER_SIZE + size;
        handler(connection, &message, context);
    }
    if (index > 0) {
        memmove(connection->unprocessed, connection->unprocessed + index, connection->unprocessed_count - index);
        connection->unprocessed_count -= index;
    }
    if (acknowledged > connection->retained.count)
        ll_fail("%s: peer acknowledged %u fds, only %zu retained", connection->name, acknowledged, connection->retained.count);
    for (uint32_t i = 0; i < acknowledged; i++) close(ll_fifo_pop(&connection->retained));
    connection->fds_acknowledged_by_peer += acknowledged;
    return received_fds;
}

// One read pass: recvmsg until EAGAIN or EOF, then parse, then one ack for the fds parsed.
static void ll_read_pass(ll_connection *connection, ll_message_handler handler, void *context) {
    for (;;) {
        if (connection->unprocessed_capacity - connection->unprocessed_count < LL_READ_CHUNK) {
            connection->unprocessed_capacity = connection->unprocessed_capacity * 2 + LL_READ_CHUNK;
            connection->unprocessed = ll_grow(connection->unprocessed, connection->unprocessed_capacity);
        }
        struct iovec part = { connection->unprocessed + connection->unprocessed_count, LL_READ_CHUNK };
        union { struct cmsghdr align; char bytes[CMSG_SPACE(sizeof(int) * 128)]; } control;
        struct msghdr message = { .msg_iov = &part, .msg_iovlen = 1, .msg_control = control.bytes,
                                  .msg_controllen = sizeof control.bytes };
        ssize_t got = recvmsg(connection->socket, &message, MSG_DONTWAIT);
        if (got < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            ll_fail("%s: recvmsg: %s", connection->name, strerror(errno));
        }
        if (message.msg_flags & MSG_CTRUNC) ll_fail("%s: control data truncated", connection->name);
        size_t fds_here = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&message); c != NULL; c = CMSG_NXTHDR(&message, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) ll_fail("%s: unexpected cmsg", connection->name);
            size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < count; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                fcntl(fd, F_SETFD, FD_CLOEXEC);
                ll_fifo_push(&connection->unmatched, fd);
                fds_here++;
            }
        }
        if (got == 0 && fds_here == 0) {
            connection->peer_eof = 1;
            break;
        }
        connection->unprocessed_count += (size_t)got;
    }
    uint32_t received = ll_parse(connection, handler, context);
    if (received > 0) {
        ll_enqueue(connection, LL_TYPE_ACK, NULL, 0, NULL, received);
        connection->ack_frames_sent++;
        connection->fds_acknowledged_by_us += received;
    }
}

// Waits up to `milliseconds` for the socket, then writes and reads what it can.
static void ll_pump(ll_connection *connection, int milliseconds, ll_message_handler handler, void *context) {
    ll_flush(connection);
    struct pollfd ready = { connection->socket, 0, 0 };
    if (!connection->peer_eof) ready.events |= POLLIN;
    if (connection->queue_count > 0) ready.events |= POLLOUT;
    if (ready.events == 0) return;
    int count = poll(&ready, 1, milliseconds);
    if (count < 0 && errno != EINTR) ll_fail("%s: poll: %s", connection->name, strerror(errno));
    if (count <= 0) return;
    if (ready.revents & POLLNVAL) ll_fail("%s: POLLNVAL", connection->name);
    if (ready.revents & (POLLIN | POLLHUP | POLLERR)) ll_read_pass(connection, handler, context);
    ll_flush(connection);
}

// Everything queued is written, every fd we sent is acknowledged.
static int ll_settled(const ll_connection *connection) {
    return connection->queue_count == 0 && connection->retained.count == 0;
}

static void ll_unexpected_message(ll_connection *connection, ll_message *message, void *context) {
    (void)context;
    ll_fail("%s: unexpected frame of %u bytes with %u fds after the exchange", connection->name, message->size, message->fd_count);
}

// The end of an exchange: flush, wait for our fds to be acknowledged, half-close, and read to EOF,
// failing if the peer sends anything more. Closes the socket.
static void ll_finish(ll_connection *connection) {
    double deadline = ll_now() + LL_DEADLINE_SECONDS;
    while (!ll_settled(connection)) {
        if (connection->peer_eof) ll_fail("%s: EOF with %zu fds unacknowledged", connection->name, connection->retained.count);
        if (ll_now() > deadline) ll_fail("%s: timed out settling", connection->name);
        ll_pump(connection, 200, ll_unexpected_message, NULL);
    }
    if (shutdown(connection->socket, SHUT_WR) != 0) ll_fail("%s: shutdown: %s", connection->name, strerror(errno));
    while (!connection->peer_eof) {
        if (ll_now() > deadline) ll_fail("%s: timed out waiting for EOF", connection->name);
        ll_pump(connection, 200, ll_unexpected_message, NULL);
    }
    if (connection->unprocessed_count != 0) ll_fail("%s: %zu stray bytes before EOF", connection->name, connection->unprocessed_count);
    if (connection->unmatched.count != 0) ll_fail("%s: %zu unmatched fds at EOF", connection->name, connection->unmatched.count);
    if (connection->queue_count != 0) ll_fail("%s: %zu frames unsent at EOF", connection->name, connection->queue_count);
    close(connection->socket);
    connection->socket = -1;
    // The counters stay readable; the buffers go.
    free(connection->queue);
    free(connection->retained.items);
    free(connection->unmatched.items);
    free(connection->unprocessed);
    connection->queue = NULL;
    connection->retained.items = connection->unmatched.items = NULL;
    connection->unprocessed = NULL;
    connection->queue_capacity = connection->retained.capacity = connection->unmatched.capacity = 0;
    connection->unprocessed_capacity = 0;
}

// Reaps `pid` and fails unless it exited with 0.
static void ll_expect_child_ok(pid_t pid, const char *what) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) ll_fail("waitpid %s: %s", what, strerror(errno));
    }
    if (!WIFEXITED(status)) ll_fail("%s died of signal %d", what, WTERMSIG(status));
    if (WEXITSTATUS(status) != 0) ll_fail("%s exited with %d", what, WEXITSTATUS(status));
}

#endif
