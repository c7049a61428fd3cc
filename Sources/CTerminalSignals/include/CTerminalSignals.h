// Signal plumbing for the terminal backend. Handlers only set flags, write a wake-up byte, and — for fatal
// signals and a repeated termination signal — restore the terminal with async-signal-safe calls (write,
// tcsetattr) before the signal takes its course.
#ifndef IPCSCOPE_CTERMINALSIGNALS_H
#define IPCSCOPE_CTERMINALSIGNALS_H

#include <stddef.h>

/// Bits of ipct_take_pending().
enum {
    IPCT_PENDING_TERMINATE = 1u << 0, // SIGINT, SIGTERM, SIGHUP or SIGQUIT: ipct_termination_signal() says which
    IPCT_PENDING_SUSPEND = 1u << 1,   // SIGTSTP (Ctrl-Z from the terminal)
    IPCT_PENDING_CONTINUE = 1u << 2,  // SIGCONT: continued after a stop, redraw everything
    IPCT_PENDING_RESIZE = 1u << 3,    // SIGWINCH
};

/// Saves tty_fd's terminal modes (the shell's), then installs the handlers; wake_fd is written one byte
/// per signal (non-blocking). Must run before newterm so that ncurses leaves these signals to us.
/// Unblocks the handled signals in the calling thread. Returns 0, or -1 with errno.
int ipct_install(int wake_fd, int tty_fd);

/// Restores the dispositions found by ipct_install and forgets the wake fd.
void ipct_uninstall(void);

/// The bytes that take the terminal out of the viewer's modes (mouse off, keypad off, attributes off,
/// cursor on, alternate screen left). Copied; at most 1024 bytes are kept.
void ipct_set_reset_sequence(const char *bytes, size_t length);

/// Whether the terminal is in the viewer's modes now (so an emergency restore has something to undo).
void ipct_set_active(int active);

/// Takes and clears the pending bits.
unsigned ipct_take_pending(void);

/// The first termination signal received, or 0.
int ipct_termination_signal(void);

/// Whether SIGTSTP was ignored when ipct_install ran (a shell without job control): then never stop.
int ipct_job_control_available(void);

/// Stops the process (SIGTSTP with its default action) and returns once continued; the caller has
/// already left curses mode. whole_group: stop the process group, as Ctrl-Z on the terminal does.
void ipct_stop_self(int whole_group);

/// What the fatal-signal handler does, callable directly: writes the reset sequence and restores the saved
/// terminal modes, once.
void ipct_emergency_restore(void);

#endif
