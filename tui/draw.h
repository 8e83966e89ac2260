/* Drawing helpers: theme styles as curses attributes, state glyphs, text
 * clipped by display width, line drawing in UTF-8 or ASCII. */
#ifndef SLUICE_TUI_DRAW_H
#define SLUICE_TUI_DRAW_H

#include <curses.h>
#include <stdbool.h>
#include <stddef.h>

#include "tui/theme.h"

struct tui;

/* Turns the loaded theme into curses attributes (after start_color). */
void draw_setup_colors(struct tui *t);
attr_t style_attr(struct tui *t, enum style s);
/* The style of a state name ("failed" -> state.failed); S_NORMAL if unknown. */
enum style state_style(const char *state);
/* The state's glyph: UTF-8 in a UTF-8 locale, else its ASCII letter. */
const char *state_glyph_str(struct tui *t, const char *state);
/* The locale is UTF-8: glyphs and box drawing. */
bool draw_utf8(struct tui *t);
/* The theme in use, and whether it has colours ("theme X (colour)" in the help). */
const char *draw_theme_name(struct tui *t);
bool draw_color(struct tui *t);
/* Writes s at (y, x) in at most w columns (display width), returns the
 * columns used. Control characters are shown as '?'. */
int draw_text(int y, int x, int w, const char *s, attr_t a);
int draw_textf(int y, int x, int w, attr_t a, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void draw_fill(int y, int x, int w, attr_t a);
/* Display width of a UTF-8 string. */
int text_width(const char *s);
/* Byte offset where column col starts in s (for horizontal scrolling). */
size_t text_skip(const char *s, int col);
/* Line drawing: UTF-8 box characters or ASCII. */
struct box_chars {
	const char *h, *v, *tl, *tr, *bl, *br, *lt, *rt, *tt, *bt, *cross, *arrow_down, *arrow_right;
	const char *ellipsis, *sep;
};
const struct box_chars *box_chars(struct tui *t);
void draw_box(struct tui *t, int y, int x, int h, int w, attr_t a);
/* "2m 13s", "450ms" */
void fmt_duration(double s, char *buf, size_t size);
/* "2026-03-01T10:00:00Z" -> "03-01 10:00:00" (fits narrow columns) */
void fmt_ts_short(const char *iso, char *buf, size_t size);

#endif
