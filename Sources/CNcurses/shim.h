#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <locale.h>
#include <ncursesw/curses.h>

/* From <term.h>, which is not included whole: its capability macros (lines, columns, …) would
   shadow ordinary names. The studio asks terminfo about a terminal before starting curses. */
extern int setupterm(const char *term, int filedes, int *errret);
