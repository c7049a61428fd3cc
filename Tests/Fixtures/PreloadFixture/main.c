#define _GNU_SOURCE
// An unmodified C program for the interposer tests: it uses plain libc calls and checks that what it gets
// behaves like a real socketpair/connection, whether or not ipcscope's LD_PRELOAD library is in between.
//   PreloadFixture [pair [cloexec|nonblock|plain]]  socketpair + fork: frames, an fd, 256 KiB; flags checked
//   PreloadFixture connect PATH                      connect, send a line, echo one line back, wait for EOF
//   PreloadFixture connect-in DIR NAME               the same with a relative path after chdir(DIR)
//   PreloadFixture threads                           socketpair from 8 threads at once
//   PreloadFixture creds                             socketpair + fork: the parent reads a frame and an fd
//                                                    from the child with SO_PASSCRED and prints the
//                                                    SCM_CREDENTIALS its reads carried and its SO_PEERCRED
//   PreloadFixture send-frame [wait]                 one LibIPC frame with a pipe fd on fd 3 (see
//                                                    run_send_frame); with `wait`, then waits for EOF on fd 3
// Prints "fixture ok" and exits 0 on success; "connect errno N" and exit 3 when connect fails;
// "fixture failed: <why>" on stderr and exit 1 otherwise.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIG_FRAME_SIZE (256 * 1024)
#define THREAD_COUNT 8

// stdout through write(2) only: a buffered printf would be duplicated by fork().
static void say(const char *format, ...) {
    char line[256];
    va_list arguments;
    va_start(arguments, format);
    int length = vsnprintf(line, sizeof line, format, arguments);
    va_end(arguments);
    if (length > 0) (void)!write(STDOUT_FILENO, line, (size_t)length < sizeof line ? (size_t)length : sizeof line - 1);
}

static void fail(const char *format, ...) {
    char line[256];
    va_list arguments;
    va_start(arguments, format);
    int length = snprintf(line, sizeof line, "fixture failed [%d]: ", (int)getpid());
    length += vsnprintf(line + length, sizeof line - (size_t)length - 1, format, arguments);
    va_end(arguments);
    if (length > (int)sizeof line - 2) length = (int)sizeof line - 2;
    line[length++] = '\n';
    (void)!write(STDERR_FILENO, line, (size_t)length);
    _exit(1);
}

static void wait_for(int fd, short events) {
    struct pollfd ready = { fd, events, 0 };
    while (poll(&ready, 1, 10000) < 0 && errno == EINTR) {}
}

static void write_all(int fd, const void *bytes, size_t count) {
    const char *cursor = bytes;
    while (count > 0) {
        ssize_t written = send(fd, cursor, count, MSG_NOSIGNAL);
        if (written < 0 && errno == ENOTSOCK) written = write(fd, cursor, count);
        if (written < 0 && (errno == EAGAIN || errno == EINTR)) { wait_for(fd, POLLOUT); continue; }
        if (written <= 0) fail("send: %s", strerror(errno));
        cursor += written;
        count -= (size_t)written;
    }
}

// Reads exactly `count` bytes; returns 0 at a clean EOF before the first byte, 1 otherwise.
static int read_exact(int fd, void *bytes, size_t count) {
    char *cursor = bytes;
    size_t done = 0;
    while (done < count) {
        ssize_t got = read(fd, cursor + done, count - done);
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) { wait_for(fd, POLLIN); continue; }
        if (got < 0) fail("read: %s", strerror(errno));
        if (got == 0) {
            if (done == 0) return 0;
            fail("EOF after %zu of %zu bytes", done, count);
        }
        done += (size_t)got;
    }
    return 1;
}

static void send_frame(int fd, const void *payload, uint32_t length) {
    write_all(fd, &length, sizeof length);
    write_all(fd, payload, length);
}

// A frame into a malloc'd, NUL-terminated buffer.
static char *receive_frame(int fd, uint32_t *length_out) {
    uint32_t length;
    if (!read_exact(fd, &length, sizeof length)) fail("EOF instead of a frame");
    if (length > 16 * 1024 * 1024) fail("frame length %u", length);
    char *payload = malloc(length + 1);
    if (payload == NULL) fail("out of memory");
    read_exact(fd, payload, length);
    payload[length] = '\0';
    if (length_out) *length_out = length;
    return payload;
}

static void expect_frame(int fd, const char *expected) {
    char *payload = receive_frame(fd, NULL);
    if (strcmp(payload, expected) != 0) fail("expected \"%s\", got \"%.60s\"", expected, payload);
    free(payload);
}

static void send_text(int fd, const char *text) { send_frame(fd, text, (uint32_t)strlen(text)); }

// One byte 'F' with `passed` in SCM_RIGHTS.
static void send_fd(int fd, int passed) {
    char byte = 'F';
    struct iovec part = { &byte, 1 };
    union { struct cmsghdr align; char bytes[CMSG_SPACE(sizeof(int))]; } control;
    memset(&control, 0, sizeof control);
    struct msghdr message = { .msg_iov = &part, .msg_iovlen = 1, .msg_control = control.bytes,
                              .msg_controllen = sizeof control.bytes };
    struct cmsghdr *rights = CMSG_FIRSTHDR(&message);
    rights->cmsg_level = SOL_SOCKET;
    rights->cmsg_type = SCM_RIGHTS;
    rights->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(rights), &passed, sizeof(int));
    while (sendmsg(fd, &message, MSG_NOSIGNAL) != 1) {
        if (errno == EAGAIN || errno == EINTR) { wait_for(fd, POLLOUT); continue; }
        fail("sendmsg: %s", strerror(errno));
    }
}

static int receive_fd(int fd) {
    char byte = 0;
    struct iovec part = { &byte, 1 };
    union { struct cmsghdr align; char bytes[CMSG_SPACE(sizeof(int) * 4)]; } control;
    struct msghdr message = { .msg_iov = &part, .msg_iovlen = 1, .msg_control = control.bytes,
                              .msg_controllen = sizeof control.bytes };
    ssize_t got;
    while ((got = recvmsg(fd, &message, MSG_CMSG_CLOEXEC)) < 0) {
        if (errno == EAGAIN || errno == EINTR) { wait_for(fd, POLLIN); continue; }
        fail("recvmsg: %s", strerror(errno));
    }
    if (got != 1 || byte != 'F') fail("expected the fd marker byte, got %zd bytes", got);
    struct cmsghdr *rights = CMSG_FIRSTHDR(&message);
    if (rights == NULL || rights->cmsg_type != SCM_RIGHTS || rights->cmsg_len != CMSG_LEN(sizeof(int)))
        fail("the marker byte came without exactly one fd");
    int passed;
    memcpy(&passed, CMSG_DATA(rights), sizeof passed);
    return passed;
}

static void check_flags(int fd, int type, const char *which) {
    int cloexec = (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
    int nonblock = (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
    if (cloexec != ((type & SOCK_CLOEXEC) != 0)) fail("%s: FD_CLOEXEC is %d", which, cloexec);
    if (nonblock != ((type & SOCK_NONBLOCK) != 0)) fail("%s: O_NONBLOCK is %d", which, nonblock);
}

// Open fds of this process: whatever the interposer does, the program must end up with exactly the fds
// the real call would have given it.
static int count_fds(void) {
    DIR *listing = opendir("/proc/self/fd");
    if (listing == NULL) fail("opendir /proc/self/fd: %s", strerror(errno));
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(listing)) != NULL)
        if (entry->d_name[0] != '.') count++;
    closedir(listing);
    return count - 1; // the listing's own fd
}

static unsigned char pattern_byte(size_t index) { return (unsigned char)(index * 7 + index / 251); }

static void pair_child(int sock) {
    char text[64];
    for (int i = 1; i <= 3; i++) {
        snprintf(text, sizeof text, "ping %d", i);
        expect_frame(sock, text);
        snprintf(text, sizeof text, "pong %d", i);
        send_text(sock, text);
    }
    int passed = receive_fd(sock);
    char through[64] = { 0 };
    size_t length = 0;
    ssize_t got;
    while (length < sizeof through - 1 && (got = read(passed, through + length, sizeof through - 1 - length)) > 0)
        length += (size_t)got;
    close(passed);
    char answer[128];
    snprintf(answer, sizeof answer, "pipe said: %s", through);
    send_text(sock, answer);

    unsigned char *big = malloc(BIG_FRAME_SIZE);
    if (big == NULL) fail("out of memory");
    for (size_t i = 0; i < BIG_FRAME_SIZE; i++) big[i] = pattern_byte(i);
    send_frame(sock, big, BIG_FRAME_SIZE);
    free(big);
    expect_frame(sock, "bye");
}

static void pair_parent(int sock) {
    char text[64];
    for (int i = 1; i <= 3; i++) {
        snprintf(text, sizeof text, "ping %d", i);
        send_text(sock, text);
        snprintf(text, sizeof text, "pong %d", i);
        expect_frame(sock, text);
    }
    int pipe_ends[2];
    if (pipe2(pipe_ends, O_CLOEXEC) != 0) fail("pipe2: %s", strerror(errno));
    send_fd(sock, pipe_ends[0]);
    close(pipe_ends[0]);
    write_all(pipe_ends[1], "through the pipe", 16);
    close(pipe_ends[1]);
    expect_frame(sock, "pipe said: through the pipe");

    uint32_t length = 0;
    unsigned char *big = (unsigned char *)receive_frame(sock, &length);
    if (length != BIG_FRAME_SIZE) fail("big frame of %u bytes", length);
    for (size_t i = 0; i < BIG_FRAME_SIZE; i++)
        if (big[i] != pattern_byte(i)) fail("big frame differs at byte %zu", i);
    free(big);
    send_text(sock, "bye");
}

static int run_pair(const char *variant) {
    int type = SOCK_STREAM;
    if (strcmp(variant, "cloexec") == 0) type |= SOCK_CLOEXEC;
    else if (strcmp(variant, "nonblock") == 0) type |= SOCK_NONBLOCK;
    else if (strcmp(variant, "both") == 0) type |= SOCK_CLOEXEC | SOCK_NONBLOCK;
    else if (strcmp(variant, "plain") != 0) fail("unknown pair variant %s", variant);

    int fds_before = count_fds();
    int sv[2];
    errno = EDOM; // a successful call must leave errno alone
    if (socketpair(AF_UNIX, type, 0, sv) != 0) fail("socketpair: %s", strerror(errno));
    if (errno != EDOM) fail("socketpair succeeded but changed errno to %d", errno);
    if (count_fds() != fds_before + 2) fail("socketpair left %d fds behind, expected 2", count_fds() - fds_before);
    check_flags(sv[0], type, "sv[0]");
    check_flags(sv[1], type, "sv[1]");
    pid_t child = fork();
    if (child < 0) fail("fork: %s", strerror(errno));
    if (child == 0) {
        alarm(30); // alarms do not survive fork
        close(sv[0]);
        pair_child(sv[1]);
        _exit(0);
    }
    close(sv[1]);
    pair_parent(sv[0]);
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("child ended with status 0x%x", status);
    char trailing;
    if (read_exact(sv[0], &trailing, 1)) fail("bytes after the child exited");
    close(sv[0]);
    say("fixture ok\n");
    return 0;
}

static int run_connect(const char *path) {
    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0) fail("socket: %s", strerror(errno));
    struct sockaddr_un address;
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof address.sun_path) fail("path too long");
    strcpy(address.sun_path, path);
    int fds_before = count_fds();
    errno = EDOM; // a successful call must leave errno alone
    if (connect(sock, (struct sockaddr *)&address, sizeof address) != 0) {
        int error = errno;
        if (count_fds() != fds_before) fail("a failed connect changed the fd count by %d", count_fds() - fds_before);
        say("connect errno %d\n", error);
        return 3;
    }
    if (errno != EDOM) fail("connect succeeded but changed errno to %d", errno);
    if (count_fds() != fds_before) fail("connect changed the fd count by %d", count_fds() - fds_before);
    check_flags(sock, SOCK_STREAM | SOCK_CLOEXEC, "connected socket");
    const char hello[] = "hello from fixture\n";
    write_all(sock, hello, sizeof hello - 1);
    char line[256];
    size_t length = 0;
    while (length < sizeof line - 1) {
        if (!read_exact(sock, line + length, 1)) fail("EOF before a line");
        if (line[length++] == '\n') break;
    }
    write_all(sock, line, length);
    char extra;
    if (read_exact(sock, &extra, 1)) fail("bytes after the echoed line");
    close(sock);
    say("fixture ok\n");
    return 0;
}

static pthread_barrier_t start_together;

static void *thread_body(void *argument) {
    int index = (int)(intptr_t)argument;
    pthread_barrier_wait(&start_together);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) fail("thread %d: socketpair: %s", index, strerror(errno));
    check_flags(sv[0], SOCK_STREAM | SOCK_CLOEXEC, "thread sv[0]");
    check_flags(sv[1], SOCK_STREAM | SOCK_CLOEXEC, "thread sv[1]");
    char text[32], reply[32];
    snprintf(text, sizeof text, "thread %d", index);
    send_text(sv[0], text);
    expect_frame(sv[1], text);
    snprintf(reply, sizeof reply, "reply %d", index);
    send_text(sv[1], reply);
    expect_frame(sv[0], reply);
    close(sv[0]);
    close(sv[1]);
    return NULL;
}

static int run_threads(void) {
    int fds_before = count_fds();
    pthread_t threads[THREAD_COUNT];
    pthread_barrier_init(&start_together, NULL, THREAD_COUNT);
    for (int i = 0; i < THREAD_COUNT; i++)
        if (pthread_create(&threads[i], NULL, thread_body, (void *)(intptr_t)i) != 0) fail("pthread_create");
    for (int i = 0; i < THREAD_COUNT; i++) pthread_join(threads[i], NULL);
    if (count_fds() != fds_before) fail("%d fds left open after the threads", count_fds() - fds_before);
    say("fixture ok\n");
    return 0;
}

// ---- creds: what SCM_CREDENTIALS and SO_PEERCRED say through the recorder ----

// One LibIPC payload frame — header {type 0, 3 pad, u32 payload size, u32 fd count}, then `payload` — in
// one sendmsg, with `passed` attached when it is not -1.
static void send_libipc_frame(int sock, const char *payload, int passed) {
    const uint32_t size = (uint32_t)strlen(payload), fd_count = passed >= 0 ? 1 : 0;
    unsigned char frame[12 + 64] = { 0 };
    if (size > 64) fail("payload too long");
    for (int i = 0; i < 4; i++) {
        frame[4 + i] = (unsigned char)(size >> (8 * i));
        frame[8 + i] = (unsigned char)(fd_count >> (8 * i));
    }
    memcpy(frame + 12, payload, size);
    struct iovec part = { frame, 12 + size };
    union { struct cmsghdr align; char bytes[CMSG_SPACE(sizeof(int))]; } control;
    memset(&control, 0, sizeof control);
    struct msghdr message = { .msg_iov = &part, .msg_iovlen = 1 };
    if (passed >= 0) {
        message.msg_control = control.bytes;
        message.msg_controllen = sizeof control.bytes;
        struct cmsghdr *rights = CMSG_FIRSTHDR(&message);
        rights->cmsg_level = SOL_SOCKET;
        rights->cmsg_type = SCM_RIGHTS;
        rights->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(rights), &passed, sizeof(int));
    }
    ssize_t sent;
    while ((sent = sendmsg(sock, &message, MSG_NOSIGNAL)) < 0) {
        if (errno == EAGAIN || errno == EINTR) { wait_for(sock, POLLOUT); continue; }
        fail("sendmsg: %s", strerror(errno));
    }
    if ((size_t)sent != 12 + size) fail("sendmsg wrote %zd of %u bytes", sent, 12 + size);
}

// A pipe's read end, the pipe already holding "through the child's pipe".
static int pipe_saying_through_the_child(void) {
    int pipe_ends[2];
    if (pipe2(pipe_ends, O_CLOEXEC) != 0) fail("pipe2: %s", strerror(errno));
    write_all(pipe_ends[1], "through the child's pipe", 24);
    close(pipe_ends[1]);
    return pipe_ends[0];
}

struct credentials_seen {
    int reads;              // reads that returned data
    int mixed;              // reads whose credentials differed from the first read's
    struct ucred first;
};

// One recvmsg of up to `count` bytes, noting its SCM_CREDENTIALS (every read of a SO_PASSCRED socket
// has them) and returning an SCM_RIGHTS fd in *passed.
static size_t receive_noting_credentials(int fd, void *bytes, size_t count, struct credentials_seen *seen, int *passed) {
    struct iovec part = { bytes, count };
    union { struct cmsghdr align; char bytes[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * 4)]; } control;
    struct msghdr message = { .msg_iov = &part, .msg_iovlen = 1, .msg_control = control.bytes,
                              .msg_controllen = sizeof control.bytes };
    ssize_t got;
    while ((got = recvmsg(fd, &message, MSG_CMSG_CLOEXEC)) < 0) {
        if (errno == EAGAIN || errno == EINTR) { wait_for(fd, POLLIN); continue; }
        fail("recvmsg: %s", strerror(errno));
    }
    if (got == 0) fail("EOF instead of the child's data");
    int had_credentials = 0;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header != NULL; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level != SOL_SOCKET) continue;
        if (header->cmsg_type == SCM_CREDENTIALS) {
            struct ucred credentials;
            memcpy(&credentials, CMSG_DATA(header), sizeof credentials);
            had_credentials = 1;
            if (seen->reads == 0) seen->first = credentials;
            else if (memcmp(&credentials, &seen->first, sizeof credentials) != 0) seen->mixed++;
        } else if (header->cmsg_type == SCM_RIGHTS) {
            if (*passed >= 0) fail("more than one fd arrived");
            memcpy(passed, CMSG_DATA(header), sizeof(int));
        }
    }
    if (!had_credentials) fail("a read of a SO_PASSCRED socket came without SCM_CREDENTIALS");
    seen->reads++;
    return (size_t)got;
}

// The child writes two LibIPC frames, the second with a pipe fd; the parent reads them with SO_PASSCRED
// (set before the fork, so the child's bytes carry credentials from the start).
static int run_creds(void) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) fail("socketpair: %s", strerror(errno));
    int on = 1;
    if (setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0) fail("SO_PASSCRED: %s", strerror(errno));
    pid_t child = fork();
    if (child < 0) fail("fork: %s", strerror(errno));
    if (child == 0) {
        alarm(30);
        close(sv[0]);
        send_libipc_frame(sv[1], "hello from the child", -1);
        int passed = pipe_saying_through_the_child();
        send_libipc_frame(sv[1], "F", passed);
        close(passed);
        // Alive until the parent has read everything: an exited writer's pid can no longer be claimed.
        char byte;
        while (read(sv[1], &byte, 1) > 0) {}
        _exit(0);
    }
    close(sv[1]);
    struct ucred peer;
    socklen_t peer_length = sizeof peer;
    if (getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &peer, &peer_length) != 0) fail("SO_PEERCRED: %s", strerror(errno));

    const size_t first_length = 12 + strlen("hello from the child"), total = first_length + 12 + 1;
    unsigned char got[128];
    struct credentials_seen seen = { 0 };
    int passed = -1;
    size_t done = 0, passed_at = 0;
    while (done < total) {
        int before = passed;
        done += receive_noting_credentials(sv[0], got + done, total - done, &seen, &passed);
        if (before < 0 && passed >= 0) passed_at = done;
    }
    if (memcmp(got + 12, "hello from the child", first_length - 12) != 0 || got[first_length + 12] != 'F')
        fail("the child's frames arrived changed");
    if (passed < 0 || passed_at <= first_length) fail("the fd did not come with the second frame");
    char through[64] = { 0 };
    size_t read_so_far = 0;
    ssize_t n;
    while (read_so_far < sizeof through - 1 && (n = read(passed, through + read_so_far, sizeof through - 1 - read_so_far)) > 0)
        read_so_far += (size_t)n;
    close(passed);
    if (strcmp(through, "through the child's pipe") != 0) fail("the child's pipe said \"%s\"", through);

    say("creds pid=%d uid=%u gid=%u reads=%d mixed=%d child=%d self=%d peer-pid=%d peer-uid=%u peer-gid=%u\n",
        (int)seen.first.pid, (unsigned)seen.first.uid, (unsigned)seen.first.gid, seen.reads, seen.mixed,
        (int)child, (int)getpid(), (int)peer.pid, (unsigned)peer.uid, (unsigned)peer.gid);
    shutdown(sv[0], SHUT_WR);
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("child ended with status 0x%x", status);
    close(sv[0]);
    say("fixture ok\n");
    return 0;
}

// ---- send-frame: a writer in another process for the relay's credential tests ----

// Writes, in one sendmsg on fd 3, one LibIPC payload frame "sent by a child" with one fd: a pipe holding
// "through the child's pipe".
static int run_send_frame(int wait_for_eof) {
    const int sock = 3;
    int passed = pipe_saying_through_the_child();
    send_libipc_frame(sock, "sent by a child", passed);
    close(passed);
    if (wait_for_eof) {
        char byte;
        while (read(sock, &byte, 1) > 0) {}
    }
    say("fixture ok\n");
    return 0;
}

int main(int argc, char **argv) {
    alarm(30); // a hung relay must not hang the test run
    const char *mode = argc > 1 ? argv[1] : "pair";
    if (strcmp(mode, "pair") == 0) return run_pair(argc > 2 ? argv[2] : "cloexec");
    if (strcmp(mode, "connect") == 0 && argc == 3) return run_connect(argv[2]);
    if (strcmp(mode, "connect-in") == 0 && argc == 4) {
        if (chdir(argv[2]) != 0) fail("chdir %s: %s", argv[2], strerror(errno));
        return run_connect(argv[3]);
    }
    if (strcmp(mode, "threads") == 0) return run_threads();
    if (strcmp(mode, "creds") == 0) return run_creds();
    if (strcmp(mode, "send-frame") == 0) return run_send_frame(argc > 2 && strcmp(argv[2], "wait") == 0);
    static const char usage[] =
        "usage: PreloadFixture [pair [cloexec|nonblock|both|plain] | connect PATH | connect-in DIR NAME | threads | creds\n"
        "                      | send-frame [wait]]\n";
    (void)!write(STDERR_FILENO, usage, sizeof usage - 1);
    return 2;
}
