/* Drawing helpers: theme styles as curses attributes, state glyphs, text
 * clipped by display width, line drawing in UTF-8 or ASCII. */
#include "tui/draw.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "core/states.h"
#include "tui/app.h"
#include "tui/theme.h"

static attr_t ta_to_curses(unsigned a)
{
	attr_t r = A_NORMAL;
	if (a & TA_BOLD)
		r |= A_BOLD;
	if (a & TA_DIM)
		r |= A_DIM;
	if (a & TA_REVERSE)
		r |= A_REVERSE;
	if (a & TA_UNDERLINE)
		r |= A_UNDERLINE;
#ifdef A_ITALIC
	if (a & TA_ITALIC)
		r |= A_ITALIC;
#endif
	return r;
}

void draw_setup_colors(struct tui *t)
{
	const struct tstyle *normal = &t->theme.style[S_NORMAL];
	for (int i = 0; i < S_COUNT; i++) {
		const struct tstyle *s = &t->theme.style[i];
		attr_t a = ta_to_curses(s->attrs);
		if (t->color) {
			short fg = s->fg != COLOR_UNSET ? s->fg : normal->fg != COLOR_UNSET ? normal->fg : -1;
			short bg = s->bg != COLOR_UNSET ? s->bg : normal->bg != COLOR_UNSET ? normal->bg : -1;
			/* on 8 colours the bright ones are their normal colour in bold */
			if (COLORS < 16 && fg >= 8 && fg < 16) {
				fg -= 8;
				a |= A_BOLD;
			}
			if (COLORS < 16 && bg >= 8 && bg < 16)
				bg -= 8;
			if (fg >= COLORS)
				fg = -1;
			if (bg >= COLORS)
				bg = -1;
			if ((fg != -1 || bg != -1) && i + 1 < COLOR_PAIRS) {
				init_pair((short)(i + 1), fg, bg);
				a |= COLOR_PAIR(i + 1);
			}
		}
		t->attr[i] = a;
	}
}

attr_t style_attr(struct tui *t, enum style s)
{
	return (unsigned)s < S_COUNT ? t->attr[s] : A_NORMAL;
}

bool draw_utf8(struct tui *t)
{
	return t->utf8;
}

const char *draw_theme_name(struct tui *t)
{
	return t->theme.name;
}

bool draw_color(struct tui *t)
{
	return t->color;
}

enum style state_style(const char *state)
{
	int st = state ? state_parse(state) : -1;
	return st >= 0 ? (enum style)(S_STATE0 + st) : S_NORMAL;
}

const char *state_glyph_str(struct tui *t, const char *state)
{
	static char ascii[ST_COUNT][2];
	int st = state ? state_parse(state) : -1;
	if (st < 0)
		return t->utf8 ? " " : " ";
	if (t->utf8)
		return state_glyph((enum task_state)st);
	ascii[st][0] = state_ascii((enum task_state)st);
	return ascii[st];
}

/* One character of s: its byte length and display width (control and
 * invalid bytes count as one '?'). */
static size_t next_char(const char *s, int *width, bool *bad)
{
	mbstate_t ps;
	memset(&ps, 0, sizeof ps);
	wchar_t wc;
	size_t n = mbrtowc(&wc, s, MB_CUR_MAX, &ps);
	*bad = false;
	if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
		*width = 1;
		*bad = true;
		return 1;
	}
	int w = wcwidth(wc);
	if (w < 0) {
		*width = 1;
		*bad = true;
		return n;
	}
	*width = w;
	return n;
}

int text_width(const char *s)
{
	int total = 0;
	while (s && *s) {
		int w;
		bool bad;
		s += next_char(s, &w, &bad);
		total += w;
	}
	return total;
}

size_t text_skip(const char *s, int col)
{
	const char *p = s;
	int c = 0;
	while (*p && c < col) {
		int w;
		bool bad;
		size_t n = next_char(p, &w, &bad);
		if (c + w > col)
			break;
		p += n;
		c += w;
	}
	return (size_t)(p - s);
}

int draw_text(int y, int x, int w, const char *s, attr_t a)
{
	if (w <= 0 || !s || y < 0 || y >= LINES || x >= COLS)
		return 0;
	if (x + w > COLS)
		w = COLS - x;
	int used = 0;
	attr_t old = getattrs(stdscr);
	attrset(a);
	move(y, x);
	while (*s && used < w) {
		int cw;
		bool bad;
		size_t n = next_char(s, &cw, &bad);
		if (bad || (unsigned char)*s < 32 || *s == 127) {
			if (*s == '\t') {
				int spaces = 4 - (used % 4);
				for (int i = 0; i < spaces && used < w; i++, used++)
					addch(' ');
			} else {
				addch('?');
				used++;
			}
			s += n;
			continue;
		}
		if (used + cw > w)
			break;
		addnstr(s, (int)n);
		used += cw;
		s += n;
	}
	attrset(old);
	return used;
}

int draw_textf(int y, int x, int w, attr_t a, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return draw_text(y, x, w, buf, a);
}

void draw_fill(int y, int x, int w, attr_t a)
{
	if (y < 0 || y >= LINES || w <= 0)
		return;
	if (x + w > COLS)
		w = COLS - x;
	attr_t old = getattrs(stdscr);
	attrset(a);
	mvhline(y, x, ' ', w);
	attrset(old);
}

static const struct box_chars utf8_box = {
	"\xe2\x94\x80", "\xe2\x94\x82", "\xe2\x94\x8c", "\xe2\x94\x90", "\xe2\x94\x94", "\xe2\x94\x98",
	"\xe2\x94\x9c", "\xe2\x94\xa4", "\xe2\x94\xac", "\xe2\x94\xb4", "\xe2\x94\xbc", "\xe2\x96\xbc",
	"\xe2\x96\xb6", "\xe2\x80\xa6", "\xe2\x80\xba",
};
static const struct box_chars ascii_box = {
	"-", "|", "+", "+", "+", "+", "+", "+", "+", "+", "+", "v", ">", "~", ">",
};

const struct box_chars *box_chars(struct tui *t)
{
	return t->utf8 ? &utf8_box : &ascii_box;
}

void draw_box(struct tui *t, int y, int x, int h, int w, attr_t a)
{
	const struct box_chars *b = box_chars(t);
	if (h < 2 || w < 2)
		return;
	for (int i = 1; i < w - 1; i++) {
		draw_text(y, x + i, 1, b->h, a);
		draw_text(y + h - 1, x + i, 1, b->h, a);
	}
	for (int j = 1; j < h - 1; j++) {
		draw_text(y + j, x, 1, b->v, a);
		draw_text(y + j, x + w - 1, 1, b->v, a);
	}
	draw_text(y, x, 1, b->tl, a);
	draw_text(y, x + w - 1, 1, b->tr, a);
	draw_text(y + h - 1, x, 1, b->bl, a);
	draw_text(y + h - 1, x + w - 1, 1, b->br, a);
}

void fmt_duration(double s, char *buf, size_t size)
{
	if (s < 0)
		snprintf(buf, size, "-");
	else if (s < 1)
		snprintf(buf, size, "%dms", (int)(s * 1000));
	else if (s < 60)
		snprintf(buf, size, "%.1fs", s);
	else if (s < 3600)
		snprintf(buf, size, "%dm %02ds", (int)s / 60, (int)s % 60);
	else
		snprintf(buf, size, "%dh %02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

void fmt_ts_short(const char *iso, char *buf, size_t size)
{
	/* YYYY-MM-DDTHH:MM:SS... -> MM-DD HH:MM:SS */
	if (!iso || strlen(iso) < 19) {
		snprintf(buf, size, "%s", iso ? iso : "-");
		return;
	}
	snprintf(buf, size, "%.5s %.8s", iso + 5, iso + 11);
}
