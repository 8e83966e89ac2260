/* Themes: YAML files under themes/ mapping the console's styles (header,
 * selection, every task state ...) to colours and attributes. A theme says
 * how many colours it needs and which theme to use on a terminal with fewer
 * (256 -> 16color -> mono). Pure: parsing and choosing need no terminal. */
#ifndef SLUICE_TUI_THEME_H
#define SLUICE_TUI_THEME_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "core/states.h"

/* X(id, name): one entry per style a theme may set. */
#define TUI_STYLES(X)               \
	X(S_NORMAL, "normal")           \
	X(S_HEADER, "header")           \
	X(S_CRUMBS, "crumbs")           \
	X(S_HINT, "hint")               \
	X(S_HINT_KEY, "hint_key")       \
	X(S_STATUS, "status")           \
	X(S_ERROR, "error")             \
	X(S_TITLE, "title")             \
	X(S_SELECTED, "selected")       \
	X(S_BORDER, "border")           \
	X(S_EDGE, "edge")               \
	X(S_DIM, "dim")                 \
	X(S_MATCH, "match")             \
	X(S_DIALOG, "dialog")           \
	X(S_INPUT, "input")             \
	X(S_STDERR, "stderr")

enum style {
#define X(id, n) id,
	TUI_STYLES(X)
#undef X
	S_STATE0, /* S_STATE0 + enum task_state: "state.NAME" */
	S_COUNT = S_STATE0 + ST_COUNT
};

/* Attribute bits (mapped onto curses A_* by the drawing code). */
enum {
	TA_BOLD = 1 << 0,
	TA_DIM = 1 << 1,
	TA_REVERSE = 1 << 2,
	TA_UNDERLINE = 1 << 3,
	TA_ITALIC = 1 << 4
};

#define COLOR_UNSET (-2)   /* not given: inherit from "normal" */
#define COLOR_DEFAULT (-1) /* the terminal's own colour */

struct tstyle {
	short fg, bg;   /* 0-255, COLOR_DEFAULT or COLOR_UNSET */
	unsigned attrs;
	bool set;       /* the theme named this style */
};

struct theme {
	char name[64];
	int colors;          /* colours the theme needs (8, 16, 256; 0 for mono) */
	char fallback[64];   /* theme to use when the terminal has fewer */
	struct tstyle style[S_COUNT];
};

/* The style's name ("header", "state.failed"), and the reverse (-1). */
const char *style_name(enum style s);
int style_parse(const char *name);

/* Parses one theme document; errors say file:line:col. */
int theme_parse(const char *name, const char *text, size_t len, struct theme *out, struct err *err);

/* Where themes are looked for: dirs (NULL-terminated, may be NULL), then the
 * themes built into the binary. A name with a '/' is a file path. */
int theme_find(const char *name, const char *const *dirs, char **text, size_t *len, char **path, struct err *err);

/* Loads name for a terminal with `colors` colours, following fallbacks until
 * one fits (a 16-colour theme fits 8: its bright colours are drawn as bold
 * normal ones); no_color (NO_COLOR set) loads mono and drops every colour. */
int theme_load(const char *name, int colors, bool no_color, const char *const *dirs, struct theme *out,
	       struct err *err);

/* Names of the built-in themes, NULL-terminated. */
const char *const *theme_builtin_names(void);

#endif
