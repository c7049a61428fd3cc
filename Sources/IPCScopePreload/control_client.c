#define _GNU_SOURCE
// The client side of the control protocol (docs/control-protocol.md): one SOCK_SEQPACKET connection per
// request, so nothing is shared between threads or across fork().
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "preload_internal.h"

#define MAX_REQUEST_FDS 2

static int64_t monotonic_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void put_u16(unsigned char *at, uint16_t value) {
    at[0] = (unsigned char)value;
    at[1] = (unsigned char)(value >> 8);
}

static void put_u32(unsigned char *at, uint32_t value) {
    for (int i = 0; i < 4; i++) at[i] = (unsigned char)(value >> (8 * i));
}

static uint32_t get_u32(const unsigned char *at) {
    return (uint32_t)at[0] | (uint32_t)at[1] << 8 | (uint32_t)at[2] << 16 | (uint32_t)at[3] << 24;
}

// A SEQPACKET socket connected to the recorder, with send/receive timeouts, or -1.
static int connect_to_recorder(const char *control_path, int64_t deadline) {
    struct sockaddr_un address;
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    size_t path_length = strlen(control_path);
    if (path_length >= sizeof address.sun_path) {
        ipcs_debug("control path too long (%zu bytes)", path_length);
        return -1;
    }
    memcpy(address.sun_path, control_path, path_length);

    int control = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (control < 0) return -1;
    struct timeval timeout = { IPCSCOPE_CONTROL_TIMEOUT_MS / 1000, (IPCSCOPE_CONTROL_TIMEOUT_MS % 1000) * 1000 };
    setsockopt(control, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    setsockopt(control, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);

    socklen_t length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_length + 1);
    // The real connect: ours would route this very connection to the recorder.
    while (ipcs_real_connect(control, (const struct sockaddr *)&address, length) != 0) {
        if (errno == EINTR && monotonic_ms() < deadline) continue;
        ipcs_debug("recorder unreachable at %s: %s", control_path, strerror(errno));
        close(control);
        return -1;
    }
    return control;
}

static int send_request(int control, uint16_t kind, int32_t flags, const char *name, uint32_t name_length,
                        const int *fds, int fd_count, int64_t deadline) {
    unsigned char header[IPCSCOPE_CONTROL_HEADER_SIZE];
    put_u32(header, IPCSCOPE_CONTROL_MAGIC);
    put_u16(header + 4, IPCSCOPE_CONTROL_VERSION);
    put_u16(header + 6, kind);
    put_u32(header + 8, (uint32_t)getpid());
    put_u32(header + 12, (uint32_t)flags);
    put_u32(header + 16, name_length);

    struct iovec parts[2] = {
        { header, sizeof header },
        { (void *)name, name_length },
    };
    union {
        struct cmsghdr align;
        char bytes[CMSG_SPACE(sizeof(int) * MAX_REQUEST_FDS)];
    } control_buffer;
    memset(&control_buffer, 0, sizeof control_buffer);

    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_iov = parts;
    message.msg_iovlen = name_length > 0 ? 2 : 1;
    if (fd_count > 0) {
        message.msg_control = control_buffer.bytes;
        message.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)fd_count);
        struct cmsghdr *rights = CMSG_FIRSTHDR(&message);
        rights->cmsg_level = SOL_SOCKET;
        rights->cmsg_type = SCM_RIGHTS;
        rights->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)fd_count);
        memcpy(CMSG_DATA(rights), fds, sizeof(int) * (size_t)fd_count);
    }
    ssize_t expected = (ssize_t)(sizeof header + name_length);
    ssize_t sent;
    while ((sent = sendmsg(control, &message, MSG_NOSIGNAL)) < 0) {
        if (errno == EINTR && monotonic_ms() < deadline) continue;
        ipcs_debug("sending the request failed: %s", strerror(errno));
        return -1;
    }
    return sent == expected ? 0 : -1;
}

static int receive_reply(int control, int32_t *status, int64_t deadline) {
    for (;;) {
        int64_t remaining = deadline - monotonic_ms();
        if (remaining <= 0) {
            ipcs_debug("the recorder did not answer within %d ms", IPCSCOPE_CONTROL_TIMEOUT_MS);
            return -1;
        }
        struct pollfd ready = { control, POLLIN, 0 };
        int polled = poll(&ready, 1, (int)remaining);
        if (polled < 0 && errno == EINTR) continue;
        if (polled <= 0) continue; // timeout: the check above ends the loop
        break;
    }
    // No control buffer: should the reply carry fds, the kernel discards them instead of installing them.
    unsigned char reply[IPCSCOPE_CONTROL_REPLY_SIZE + 1];
    ssize_t received;
    while ((received = recv(control, reply, sizeof reply, MSG_DONTWAIT)) < 0 && errno == EINTR) {}
    if (received != IPCSCOPE_CONTROL_REPLY_SIZE || get_u32(reply) != IPCSCOPE_CONTROL_MAGIC) {
        ipcs_debug("malformed reply from the recorder (%zd bytes)", received);
        return -1;
    }
    *status = (int32_t)get_u32(reply + 4);
    return 0;
}

int ipcs_control_request(const char *control_path, uint16_t kind, int32_t flags,
                         const char *name, uint32_t name_length,
                         const int *fds, int fd_count, int32_t *status) {
    if (fd_count < 0 || fd_count > MAX_REQUEST_FDS || name_length > IPCSCOPE_CONTROL_MAX_NAME) return -1;
    int64_t deadline = monotonic_ms() + IPCSCOPE_CONTROL_TIMEOUT_MS;
    int control = connect_to_recorder(control_path, deadline);
    if (control < 0) return -1;
    int result = send_request(control, kind, flags, name, name_length, fds, fd_count, deadline);
    if (result == 0) result = receive_reply(control, status, deadline);
    close(control);
    return result;
}
