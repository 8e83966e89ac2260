/* Check results as the console shows them: a status's glyph and style, and
 * a check task's failing rows as a source of the task view's row pane
 * (check_rows_src, tui/rowpane.h). */
#ifndef SLUICE_TUI_FAILROWS_H
#define SLUICE_TUI_FAILROWS_H

#include "tui/rowpane.h"

/* A check status (pass, warn, fail, error, or its first letter) as a
 * glyph: ✓ ! ✗ ‼ in UTF-8, + ! x E otherwise; and its style (the task
 * states': success, up_for_retry, failed, upstream_failed). */
const char *check_glyph(struct tui *t, const char *status);
enum style check_style(const char *status);

#endif
