// Read-only file mappings that another process may truncate while they are read.
//
// Touching a page of a shared file mapping beyond the file's current end raises SIGBUS, which would kill
// a reader (`ipcscope check`, a viewer following a live trace) whenever someone truncates or rewrites the
// file it maps. A guarded mapping turns that into zeros: the handler maps an anonymous zero page over the
// faulting page and returns, the access is retried and reads zeros, and the fault is counted so the reader
// can say the file shrank. Faults outside guarded mappings go to the previous disposition unchanged.

#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "CSystemShims.h"

#define IPCS_GUARD_SLOTS 256

static _Atomic(uintptr_t) guarded_start[IPCS_GUARD_SLOTS];
static _Atomic(uintptr_t) guarded_end[IPCS_GUARD_SLOTS];
static _Atomic(unsigned long) guarded_faults[IPCS_GUARD_SLOTS];
static struct sigaction previous_action;
static uintptr_t page_size;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int installed;

static void on_sigbus(int signo, siginfo_t *info, void *context) {
    uintptr_t address = (uintptr_t)info->si_addr;
    for (int slot = 0; slot < IPCS_GUARD_SLOTS; slot++) {
        uintptr_t start = atomic_load(&guarded_start[slot]);
        if (start == 0 || address < start || address >= atomic_load(&guarded_end[slot])) continue;
        void *page = (void *)(address & ~(page_size - 1));
        // mmap is a plain system call on Linux, safe here in practice (glibc's wrapper keeps no state).
        if (mmap(page, page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
            atomic_fetch_add(&guarded_faults[slot], 1);
            return;
        }
        break;
    }
    // Not a guarded mapping: do what would have happened without us.
    if (previous_action.sa_flags & SA_SIGINFO) {
        previous_action.sa_sigaction(signo, info, context);
    } else if (previous_action.sa_handler != SIG_DFL && previous_action.sa_handler != SIG_IGN) {
        previous_action.sa_handler(signo);
    } else {
        // Default (or ignored, which cannot stop a fault from repeating): die of SIGBUS on the retry.
        signal(SIGBUS, SIG_DFL);
    }
}

static void install(void) {
    page_size = (uintptr_t)sysconf(_SC_PAGESIZE);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    installed = sigaction(SIGBUS, &action, &previous_action) == 0;
}

int ipcs_guard_mapping(const void *start, size_t length) {
    if (start == NULL || length == 0) return -1;
    pthread_once(&install_once, install);
    if (!installed) return -1;
    for (int slot = 0; slot < IPCS_GUARD_SLOTS; slot++) {
        uintptr_t expected = 0;
        // Claim the slot with a placeholder start so a concurrent fault cannot match a half-set range.
        if (atomic_compare_exchange_strong(&guarded_start[slot], &expected, UINTPTR_MAX)) {
            atomic_store(&guarded_faults[slot], 0);
            atomic_store(&guarded_end[slot], (uintptr_t)start + length);
            atomic_store(&guarded_start[slot], (uintptr_t)start);
            return slot;
        }
    }
    return -1;  // every slot taken: the mapping works, unguarded
}

void ipcs_unguard_mapping(int slot) {
    if (slot < 0 || slot >= IPCS_GUARD_SLOTS) return;
    atomic_store(&guarded_end[slot], 0);
    atomic_store(&guarded_start[slot], 0);
}

unsigned long ipcs_guarded_faults(int slot) {
    if (slot < 0 || slot >= IPCS_GUARD_SLOTS) return 0;
    return atomic_load(&guarded_faults[slot]);
}
