#define _GNU_SOURCE
// The real socketpair()/connect() behind ours. glibc >= 2.34 has dlsym in libc itself: no -ldl needed.
#include <dlfcn.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "preload_internal.h"

typedef int (*socketpair_function)(int, int, int, int[2]);
typedef int (*connect_function)(int, const struct sockaddr *, socklen_t);

// Written once under pthread_once, read-only afterwards: the only process-wide state of the library.
static socketpair_function next_socketpair;
static connect_function next_connect;
static pthread_once_t lookup_once = PTHREAD_ONCE_INIT;

static void look_up_next_definitions(void) {
    socketpair_function found_socketpair = (socketpair_function)dlsym(RTLD_NEXT, "socketpair");
    connect_function found_connect = (connect_function)dlsym(RTLD_NEXT, "connect");
    // Never our own definitions (declared in <sys/socket.h>): that would recurse forever.
    next_socketpair = (void *)found_socketpair == (void *)socketpair ? NULL : found_socketpair;
    next_connect = (void *)found_connect == (void *)connect ? NULL : found_connect;
}

// Resolve at load time too, so the first interposed call does not pay for dlsym.
__attribute__((constructor)) static void resolve_at_load(void) {
    pthread_once(&lookup_once, look_up_next_definitions);
}

int ipcs_real_socketpair(int domain, int type, int protocol, int sv[2]) {
    pthread_once(&lookup_once, look_up_next_definitions);
    if (next_socketpair != NULL) return next_socketpair(domain, type, protocol, sv);
    return (int)syscall(SYS_socketpair, domain, type, protocol, sv);
}

int ipcs_real_connect(int fd, const struct sockaddr *address, socklen_t length) {
    pthread_once(&lookup_once, look_up_next_definitions);
    if (next_connect != NULL) return next_connect(fd, address, length);
    return (int)syscall(SYS_connect, fd, address, length);
}
