// ncursesw for Swift. SwiftPM drops pkg-config's -D flags, so the wide-character API is switched on here,
// before <curses.h>; without it cchar_t, setcchar and wget_wch are not declared.
#ifndef IPCSCOPE_CNCURSES_SHIM_H
#define IPCSCOPE_CNCURSES_SHIM_H

#define NCURSES_WIDECHAR 1
#include <locale.h>
#include <langinfo.h>
#include <wchar.h>
#include <stdio.h>
#include <curses.h>
#include <sys/ioctl.h>

// Swift 6 rejects reads of C mutable globals and cannot import most curses macros: accessors instead.
static inline WINDOW *ipcs_curses_stdscr(void) { return stdscr; }
static inline WINDOW *ipcs_curses_curscr(void) { return curscr; }
static inline int ipcs_curses_lines(void) { return LINES; }
static inline int ipcs_curses_cols(void) { return COLS; }
static inline int ipcs_curses_colors(void) { return COLORS; }
static inline int ipcs_curses_color_pairs(void) { return COLOR_PAIRS; }
static inline FILE *ipcs_curses_stdout(void) { return stdout; }
static inline FILE *ipcs_curses_stdin(void) { return stdin; }

static inline attr_t ipcs_curses_a_normal(void) { return A_NORMAL; }
static inline attr_t ipcs_curses_a_bold(void) { return A_BOLD; }
static inline attr_t ipcs_curses_a_dim(void) { return A_DIM; }
static inline attr_t ipcs_curses_a_underline(void) { return A_UNDERLINE; }
static inline attr_t ipcs_curses_a_reverse(void) { return A_REVERSE; }
static inline attr_t ipcs_curses_a_italic(void) { return A_ITALIC; }

static inline int ipcs_curses_key_f0(void) { return KEY_F0; }
static inline int ipcs_curses_key_code_yes(void) { return KEY_CODE_YES; }

static inline mmask_t ipcs_curses_all_mouse_events(void) { return ALL_MOUSE_EVENTS; }
static inline mmask_t ipcs_curses_button_pressed(int button) { return NCURSES_MOUSE_MASK(button, NCURSES_BUTTON_PRESSED); }
static inline mmask_t ipcs_curses_button_released(int button) { return NCURSES_MOUSE_MASK(button, NCURSES_BUTTON_RELEASED); }
static inline mmask_t ipcs_curses_button_clicked(int button) { return NCURSES_MOUSE_MASK(button, NCURSES_BUTTON_CLICKED); }

/// tigetstr's "not a string capability" answer is (char *)-1, which Swift cannot compare against: 0 for it and for absent.
static inline const char *ipcs_curses_tigetstr(const char *name) {
    char *value = tigetstr(name);
    return (value == (char *)-1) ? 0 : value;
}

extern int wcwidth(wchar_t c); // not visible through Swift's Glibc module

/// One cell: a spacing character plus up to four combining marks (setcchar's limit) with attributes and a
/// pair. Returns -2 when setcchar rejects the sequence (the caller falls back to the first scalar), else
/// what mvwadd_wch returned — ERR at the bottom-right cell although the character is drawn there.
static inline int ipcs_curses_put_cell(WINDOW *window, int y, int x, const wchar_t *characters, attr_t attributes, short pair) {
    cchar_t cell;
    if (setcchar(&cell, characters, attributes, pair, NULL) != OK) return -2;
    return mvwadd_wch(window, y, x, &cell);
}

/// The terminal's size now (TIOCGWINSZ); 0, or -1 with errno.
static inline int ipcs_curses_window_size(int fd, int *out_rows, int *out_columns) {
    struct winsize size;
    if (ioctl(fd, TIOCGWINSZ, &size) != 0) return -1;
    *out_rows = size.ws_row;
    *out_columns = size.ws_col;
    return 0;
}

/// nl_langinfo(CODESET) after setlocale: "UTF-8" when the terminal takes UTF-8.
static inline const char *ipcs_curses_codeset(void) { return nl_langinfo(CODESET); }

#endif
