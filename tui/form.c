/* Dialogs over the body: the confirmation of a destructive action (what it
 * touches, y/n, option toggles) and the trigger form (text fields). */
#include "tui/form.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "tui/actions.h"
#include "tui/app.h"
#include "tui/draw.h"
#include "tui/status.h"
#include "tui/theme.h"
#include "tui/view.h"

struct modal *modal_new(const char *title)
{
	struct modal *m = xcalloc(1, sizeof *m);
	snprintf(m->title, sizeof m->title, "%s", title);
	return m;
}

void modal_add_line(struct modal *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s;
	if (vasprintf(&s, fmt, ap) < 0)
		s = xstrdup("?");
	va_end(ap);
	m->lines = xrealloc(m->lines, (m->n_lines + 1) * sizeof *m->lines);
	m->lines[m->n_lines++] = s;
}

void modal_clear_lines(struct modal *m)
{
	for (size_t i = 0; i < m->n_lines; i++)
		free(m->lines[i]);
	free(m->lines);
	m->lines = NULL;
	m->n_lines = 0;
	m->scroll = 0;
}

void modal_add_field(struct modal *m, const char *label, const char *value)
{
	m->fields = xrealloc(m->fields, (m->n_fields + 1) * sizeof *m->fields);
	struct modal_field *f = &m->fields[m->n_fields++];
	memset(f, 0, sizeof *f);
	snprintf(f->label, sizeof f->label, "%s", label);
	snprintf(f->value, sizeof f->value, "%s", value ? value : "");
	f->cur = strlen(f->value);
}

void modal_open(struct tui *t, struct modal *m)
{
	if (t->modal)
		modal_close(t);
	t->modal = m;
	t->dirty_all = true;
}

void modal_close(struct tui *t)
{
	struct modal *m = t->modal;
	if (!m)
		return;
	t->modal = NULL;
	if (m->on_close)
		m->on_close(t, m);
	modal_clear_lines(m);
	free(m->fields);
	free(m);
	t->dirty_all = true;
}

static int body_rows(struct tui *t, struct modal *m, int h)
{
	int fixed = 4 + (int)m->n_fields + (m->n_opts ? 1 : 0) + (m->n_fields ? 1 : 0);
	int rows = h - fixed;
	return rows < 1 ? 1 : rows;
}

void modal_draw(struct tui *t, struct modal *m)
{
	struct rect b = tui_body(t);
	int w = b.w - 4 < 76 ? b.w - 4 : 76;
	if (w < 20)
		w = b.w;
	int want = 4 + (int)m->n_lines + (int)m->n_fields + (m->n_opts ? 1 : 0) + (m->n_fields ? 1 : 0);
	int h = want < b.h ? want : b.h;
	int y = b.y + (b.h - h) / 2, x = b.x + (b.w - w) / 2;
	attr_t a = style_attr(t, S_DIALOG);
	for (int i = 0; i < h; i++)
		draw_fill(y + i, x, w, a);
	draw_box(t, y, x, h, w, a | style_attr(t, S_BORDER));
	char title[160];
	snprintf(title, sizeof title, " %s ", m->title);
	draw_text(y, x + 2, w - 4, title, a | A_BOLD);
	int row = y + 1;
	int rows = body_rows(t, m, h);
	for (int i = 0; i < rows && m->scroll + i < (int)m->n_lines; i++) {
		const char *line = m->lines[m->scroll + i];
		attr_t la = m->error ? style_attr(t, S_ERROR) | a : a;
		draw_text(row++, x + 2, w - 4, line, la);
	}
	if ((int)m->n_lines > rows) {
		draw_textf(y + h - 2 - (int)m->n_fields - (m->n_opts ? 1 : 0), x + w - 12, 10, style_attr(t, S_DIM) | a,
			   "%d/%zu", m->scroll + rows, m->n_lines);
	}
	row = y + 1 + rows;
	if (m->n_fields)
		row++;
	for (size_t i = 0; i < m->n_fields; i++, row++) {
		struct modal_field *f = &m->fields[i];
		draw_text(row, x + 2, 16, f->label, a);
		int fx = x + 19, fw = w - 21;
		draw_fill(row, fx, fw, style_attr(t, S_INPUT));
		char stars[sizeof f->value];
		size_t ns = 0;
		for (const char *p = f->value; f->secret && *p; p++)
			if (((unsigned char)*p & 0xc0) != 0x80)
				stars[ns++] = '*';
		stars[ns] = '\0';
		draw_text(row, fx, fw, f->secret ? stars : f->value, style_attr(t, S_INPUT));
		if ((int)i == m->focus) {
			char tmp[256];
			size_t upto = f->cur;
			if (f->secret) { /* one '*' per character before the cursor */
				upto = 0;
				for (size_t k = 0; k < f->cur; k++)
					upto += ((unsigned char)f->value[k] & 0xc0) != 0x80;
			}
			snprintf(tmp, sizeof tmp, "%.*s", (int)upto, f->secret ? stars : f->value);
			t->cur_y = row;
			t->cur_x = fx + text_width(tmp);
		}
	}
	if (m->n_opts) {
		int ox = x + 2;
		for (int i = 0; i < m->n_opts; i++) {
			char k[8];
			ox += draw_textf(row, ox, x + w - 2 - ox, a, "%s: [%s] %s   ", key_label(m->opts[i].key, k, sizeof k),
					 m->opts[i].on ? "x" : " ", m->opts[i].label);
		}
		row++;
	}
	const char *foot = m->footer[0] ? m->footer
			 : m->error	 ? "any key closes"
			 : m->n_fields	 ? "Tab: next field   Enter: go   Esc: cancel"
			 : m->busy	 ? "working out what it touches...   Esc: cancel"
					 : "y: yes   n / Esc: no";
	draw_text(y + h - 2, x + 2, w - 4, foot, a | style_attr(t, S_HINT_KEY));
}

static void field_key(struct modal_field *f, int key)
{
	size_t len = strlen(f->value);
	if (key == TK_BACKSPACE) {
		if (f->cur == 0)
			return;
		size_t start = f->cur - 1;
		while (start > 0 && ((unsigned char)f->value[start] & 0xc0) == 0x80)
			start--;
		memmove(f->value + start, f->value + f->cur, len - f->cur + 1);
		f->cur = start;
	} else if (key == TK_LEFT) {
		while (f->cur > 0 && ((unsigned char)f->value[--f->cur] & 0xc0) == 0x80)
			;
	} else if (key == TK_RIGHT) {
		while (f->cur < len && ((unsigned char)f->value[++f->cur] & 0xc0) == 0x80)
			;
	} else if (key == TK_HOME || key == TK_CTRL('A')) {
		f->cur = 0;
	} else if (key == TK_END || key == TK_CTRL('E')) {
		f->cur = len;
	} else if (key == TK_CTRL('U')) {
		f->value[0] = '\0';
		f->cur = 0;
	} else if (key >= 32 && key < 256 && key != 127 && len + 1 < sizeof f->value) {
		memmove(f->value + f->cur + 1, f->value + f->cur, len - f->cur + 1);
		f->value[f->cur++] = (char)key;
	}
}

void modal_key(struct tui *t, struct modal *m, int key)
{
	t->dirty_all = true;
	if (m->error) {
		modal_close(t);
		return;
	}
	if (key == TK_ESC) {
		modal_close(t);
		tui_status(t, "cancelled");
		return;
	}
	if (m->n_fields) {
		if (key == '\t' || key == TK_DOWN) {
			m->focus = (m->focus + 1) % (int)m->n_fields;
		} else if (key == TK_UP || key == 0541 /* KEY_BTAB */) {
			m->focus = (m->focus + (int)m->n_fields - 1) % (int)m->n_fields;
		} else if (key == TK_ENTER) {
			if (m->focus + 1 < (int)m->n_fields)
				m->focus++;
			else if (m->on_submit)
				m->on_submit(t, m);
		} else {
			struct modal_field *f = &m->fields[m->focus];
			char was[sizeof f->value];
			memcpy(was, f->value, sizeof was);
			field_key(f, key);
			if (m->on_edit && strcmp(was, f->value))
				m->on_edit(t, m);
		}
		return;
	}
	int rows = body_rows(t, m, tui_body(t).h);
	switch (key) {
	case 'y':
	case 'Y':
		if (!m->busy && m->on_submit)
			m->on_submit(t, m);
		return;
	case 'n':
	case 'N':
	case 'q':
		modal_close(t);
		tui_status(t, "cancelled");
		return;
	case 'j':
	case TK_DOWN:
		if (m->scroll + rows < (int)m->n_lines)
			m->scroll++;
		return;
	case 'k':
	case TK_UP:
		if (m->scroll > 0)
			m->scroll--;
		return;
	case TK_NPAGE:
		m->scroll += rows;
		if (m->scroll + rows > (int)m->n_lines)
			m->scroll = (int)m->n_lines > rows ? (int)m->n_lines - rows : 0;
		return;
	case TK_PPAGE:
		m->scroll = m->scroll > rows ? m->scroll - rows : 0;
		return;
	default:
		break;
	}
	for (int i = 0; i < m->n_opts; i++) {
		if (m->opts[i].key == key) {
			m->opts[i].on = !m->opts[i].on;
			if (m->on_option)
				m->on_option(t, m, i);
			return;
		}
	}
}
