#define _GNU_SOURCE
#include "CTerminalSignals.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static const int termination_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
static const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE, SIGTRAP, SIGSYS };
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static atomic_int wake_fd = -1;
static int tty_fd = -1;
static struct termios saved_modes;
static int have_saved_modes;
static char reset_sequence[1024];
static atomic_size_t reset_length;
static atomic_int active;
static atomic_int restored;
static atomic_uint pending;
static atomic_int termination_signo;
static int job_control = 1;

static struct sigaction previous_termination[COUNT(termination_signals)];
static struct sigaction previous_fatal[COUNT(fatal_signals)];
static struct sigaction previous_tstp, previous_cont, previous_winch;
static int installed;

static void wake(void) {
    int fd = atomic_load(&wake_fd);
    if (fd < 0) return;
    int saved = errno;
    char byte = 1;
    // EAGAIN: the pipe is full, so the loop is already awake.
    while (write(fd, &byte, 1) < 0 && errno == EINTR) {}
    errno = saved;
}

void ipct_emergency_restore(void) {
    if (!atomic_load(&active)) return;
    if (atomic_exchange(&restored, 1)) return;
    int saved = errno;
    size_t length = atomic_load(&reset_length);
    size_t done = 0;
    while (done < length) {
        ssize_t n = write(tty_fd, reset_sequence + done, length - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += (size_t)n;
    }
    if (have_saved_modes) tcsetattr(tty_fd, TCSANOW, &saved_modes);
    errno = saved;
}

static const struct sigaction *previous_for(int signo) {
    for (size_t i = 0; i < COUNT(termination_signals); i++)
        if (termination_signals[i] == signo) return &previous_termination[i];
    for (size_t i = 0; i < COUNT(fatal_signals); i++)
        if (fatal_signals[i] == signo) return &previous_fatal[i];
    return NULL;
}

static void on_termination(int signo) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&termination_signo, &expected, signo)) {
        // A second termination signal: the loop did not get to it (busy or stuck). Restore and die now.
        ipct_emergency_restore();
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        sigaction(signo, &dfl, NULL);
        raise(signo); // blocked while this handler runs; delivered, with the default action, on return
        return;
    }
    atomic_fetch_or(&pending, IPCT_PENDING_TERMINATE);
    wake();
}

static void on_fatal(int signo, siginfo_t *info, void *context) {
    (void)context;
    ipct_emergency_restore();
    const struct sigaction *previous = previous_for(signo);
    if (previous) sigaction(signo, previous, NULL);
    // A fault (si_code > 0: sent by the kernel) happens again when the instruction is retried after this
    // handler returns, now under the previous disposition. Anything sent (kill, raise, abort) is re-raised.
    if (info == NULL || info->si_code <= 0) raise(signo);
}

static void on_flag(int signo) {
    unsigned bit = signo == SIGTSTP ? IPCT_PENDING_SUSPEND : signo == SIGCONT ? IPCT_PENDING_CONTINUE : IPCT_PENDING_RESIZE;
    atomic_fetch_or(&pending, bit);
    wake();
}

static int install_one(int signo, void (*handler)(int), struct sigaction *previous) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    return sigaction(signo, &action, previous);
}

static char alternate_stack[64 * 1024];

int ipct_install(int wake, int tty) {
    atomic_store(&wake_fd, wake);
    tty_fd = tty;
    have_saved_modes = tcgetattr(tty, &saved_modes) == 0;
    atomic_store(&pending, 0);
    atomic_store(&termination_signo, 0);
    atomic_store(&restored, 0);
    atomic_store(&active, 0);

    // A stack overflow's SIGSEGV needs a stack of its own for the handler to run at all.
    stack_t stack;
    memset(&stack, 0, sizeof stack);
    stack.ss_sp = alternate_stack;
    stack.ss_size = sizeof alternate_stack;
    if (sigaltstack(&stack, NULL) != 0) return -1;

    for (size_t i = 0; i < COUNT(termination_signals); i++)
        if (install_one(termination_signals[i], on_termination, &previous_termination[i]) != 0) return -1;
    for (size_t i = 0; i < COUNT(fatal_signals); i++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_sigaction = on_fatal;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_SIGINFO | SA_ONSTACK;
        if (sigaction(fatal_signals[i], &action, &previous_fatal[i]) != 0) return -1;
    }
    if (sigaction(SIGTSTP, NULL, &previous_tstp) != 0) return -1;
    job_control = previous_tstp.sa_handler != SIG_IGN;
    if (job_control && install_one(SIGTSTP, on_flag, NULL) != 0) return -1;
    if (install_one(SIGCONT, on_flag, &previous_cont) != 0) return -1;
    if (install_one(SIGWINCH, on_flag, &previous_winch) != 0) return -1;
    installed = 1;

    // The parent may have started us with these blocked (Swift Testing's threads block almost everything).
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < COUNT(termination_signals); i++) sigaddset(&set, termination_signals[i]);
    sigaddset(&set, SIGTSTP);
    sigaddset(&set, SIGCONT);
    sigaddset(&set, SIGWINCH);
    return pthread_sigmask(SIG_UNBLOCK, &set, NULL) == 0 ? 0 : -1;
}

void ipct_uninstall(void) {
    if (!installed) return;
    installed = 0;
    atomic_store(&active, 0);
    for (size_t i = 0; i < COUNT(termination_signals); i++) sigaction(termination_signals[i], &previous_termination[i], NULL);
    for (size_t i = 0; i < COUNT(fatal_signals); i++) sigaction(fatal_signals[i], &previous_fatal[i], NULL);
    if (job_control) sigaction(SIGTSTP, &previous_tstp, NULL);
    sigaction(SIGCONT, &previous_cont, NULL);
    sigaction(SIGWINCH, &previous_winch, NULL);
    atomic_store(&wake_fd, -1);
    stack_t disable;
    memset(&disable, 0, sizeof disable);
    disable.ss_flags = SS_DISABLE;
    sigaltstack(&disable, NULL);
}

void ipct_set_reset_sequence(const char *bytes, size_t length) {
    if (length > sizeof reset_sequence) length = sizeof reset_sequence;
    atomic_store(&reset_length, 0);
    memcpy(reset_sequence, bytes, length);
    atomic_store(&reset_length, length);
}

void ipct_set_active(int value) {
    atomic_store(&restored, 0);
    atomic_store(&active, value);
}

unsigned ipct_take_pending(void) { return atomic_exchange(&pending, 0); }

int ipct_termination_signal(void) { return atomic_load(&termination_signo); }

int ipct_job_control_available(void) { return job_control; }

void ipct_stop_self(int whole_group) {
    if (!job_control) return;
    struct sigaction dfl, ours;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGTSTP, &dfl, &ours);
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGTSTP);
    pthread_sigmask(SIG_UNBLOCK, &set, &old);
    if (whole_group) kill(0, SIGTSTP); else raise(SIGTSTP);
    // Continued here.
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    sigaction(SIGTSTP, &ours, NULL);
    // This stop's own SIGTSTP and SIGCONT: the caller re-enters curses mode itself.
    atomic_fetch_and(&pending, ~(unsigned)(IPCT_PENDING_SUSPEND | IPCT_PENDING_CONTINUE));
}
