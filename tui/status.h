/* The two rows under the body: the status line (a message, or the prompt
 * while one is open) and the key-hint bar, generated from the action table
 * for the view on top. */
#ifndef SLUICE_TUI_STATUS_H
#define SLUICE_TUI_STATUS_H

struct tui;

/* A message on the status line; tui_error's stands out. */
void tui_status(struct tui *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tui_error(struct tui *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drawing, from the frame's render step. */
void status_draw(struct tui *t);
void hints_draw(struct tui *t);

#endif
