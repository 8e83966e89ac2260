/* Theme files; see theme.h. */
#include "tui/theme.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "base/util.h"
#include "core/yamltree.h"

/* The themes shipped in themes/, compiled in so an uninstalled binary (and
 * one whose data directory went missing) still has them. */
static const struct {
	const char *name;
	const char *text;
} builtin[] = {
#include "tui/themes.inc"
};

static const char *const style_names[S_STATE0] = {
#define X(id, n) [id] = n,
	TUI_STYLES(X)
#undef X
};

const char *style_name(enum style s)
{
	static char buf[ST_COUNT][40];
	if ((unsigned)s < S_STATE0)
		return style_names[s];
	if ((unsigned)s >= S_COUNT)
		return "?";
	int st = (int)s - S_STATE0;
	if (!buf[st][0])
		snprintf(buf[st], sizeof buf[st], "state.%s", state_name((enum task_state)st));
	return buf[st];
}

int style_parse(const char *name)
{
	for (int i = 0; i < S_COUNT; i++)
		if (!strcmp(style_name((enum style)i), name))
			return i;
	return -1;
}

const char *const *theme_builtin_names(void)
{
	static const char *names[sizeof builtin / sizeof builtin[0] + 1];
	for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
		names[i] = builtin[i].name;
	return names;
}

static const struct {
	const char *name;
	short value;
} color_names[] = {
	{"default", COLOR_DEFAULT}, {"black", 0}, {"red", 1}, {"green", 2}, {"yellow", 3}, {"blue", 4},
	{"magenta", 5}, {"cyan", 6}, {"white", 7}, {"bright_black", 8}, {"grey", 8}, {"gray", 8},
	{"bright_red", 9}, {"bright_green", 10}, {"bright_yellow", 11}, {"bright_blue", 12},
	{"bright_magenta", 13}, {"bright_cyan", 14}, {"bright_white", 15},
};

static const struct {
	const char *name;
	unsigned bit;
} attr_names[] = {
	{"bold", TA_BOLD}, {"dim", TA_DIM}, {"reverse", TA_REVERSE}, {"underline", TA_UNDERLINE}, {"italic", TA_ITALIC},
};

static int at(struct err *err, struct loc l, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int at(struct err *err, struct loc l, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return err_set(err, "%s:%d:%d: %s", l.file ? l.file : "theme", l.line, l.col, msg);
}

static int parse_color(const struct ypos *pos, json_t *obj, const char *key, int max, short *out, struct err *err)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	struct loc l = ypos_value(pos, obj, key);
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		if (n < -1 || n > 255)
			return at(err, l, "%s: colour %lld is not in 0-255", key, (long long)n);
		if (max && n >= max)
			return at(err, l, "%s: colour %lld needs more than the theme's colors: %d", key, (long long)n, max);
		*out = (short)n;
		return 0;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		for (size_t i = 0; i < sizeof color_names / sizeof color_names[0]; i++) {
			if (!strcmp(s, color_names[i].name)) {
				*out = color_names[i].value;
				return 0;
			}
		}
		return at(err, l, "%s: unknown colour '%s' (0-255, default, black, red, green, yellow, blue, "
				  "magenta, cyan, white or bright_NAME)", key, s);
	}
	return at(err, l, "%s: a colour is a number or a name", key);
}

static int parse_style(const struct ypos *pos, json_t *styles, const char *sname, json_t *v, int max,
		       struct tstyle *st, struct err *err)
{
	struct loc l = ypos_value(pos, styles, sname);
	if (!json_is_object(v))
		return at(err, l, "style '%s': expected a mapping like { fg: 2, bg: default, attrs: [bold] }", sname);
	const char *k;
	json_t *x;
	json_object_foreach(v, k, x) {
		if (strcmp(k, "fg") && strcmp(k, "bg") && strcmp(k, "attrs")) {
			static const char *const known[] = {"fg", "bg", "attrs"};
			const char *near = nearest_word(k, known, 3);
			char hint[64] = "";
			if (near)
				snprintf(hint, sizeof hint, "; did you mean '%s'?", near);
			return at(err, ypos_key(pos, v, k), "unknown key '%s'%s", k, hint);
		}
	}
	st->fg = st->bg = COLOR_UNSET;
	if (parse_color(pos, v, "fg", max, &st->fg, err) < 0 || parse_color(pos, v, "bg", max, &st->bg, err) < 0)
		return -1;
	json_t *attrs = json_object_get(v, "attrs");
	if (attrs) {
		if (json_is_string(attrs)) {
			json_t *one = json_array();
			json_array_append(one, attrs);
			attrs = one;
		} else if (json_is_array(attrs)) {
			json_incref(attrs);
		} else {
			return at(err, ypos_value(pos, v, "attrs"), "attrs: expected a list like [bold, underline]");
		}
		size_t i;
		json_t *a;
		json_array_foreach(attrs, i, a) {
			size_t j, na = sizeof attr_names / sizeof attr_names[0];
			for (j = 0; j < na; j++)
				if (json_is_string(a) && !strcmp(json_string_value(a), attr_names[j].name))
					break;
			if (j == na) {
				json_decref(attrs);
				return at(err, ypos_value(pos, v, "attrs"),
					  "attrs: unknown attribute '%s' (bold, dim, reverse, underline, italic)",
					  json_is_string(a) ? json_string_value(a) : "?");
			}
			st->attrs |= attr_names[j].bit;
		}
		json_decref(attrs);
	}
	st->set = true;
	return 0;
}

int theme_parse(const char *name, const char *text, size_t len, struct theme *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	for (int i = 0; i < S_COUNT; i++)
		out->style[i].fg = out->style[i].bg = COLOR_UNSET;
	snprintf(out->name, sizeof out->name, "%s", name);
	json_t *root = NULL;
	struct ypos *pos = NULL;
	if (yaml_load_string(name, text, len, &root, &pos, err) < 0)
		return -1;
	int rc = -1;
	if (!json_is_object(root)) {
		at(err, ypos_root(pos), "a theme is a mapping with colors: and styles:");
		goto out;
	}
	const char *k;
	json_t *v;
	json_object_foreach(root, k, v) {
		if (strcmp(k, "colors") && strcmp(k, "fallback") && strcmp(k, "styles") && strcmp(k, "name")) {
			static const char *const known[] = {"name", "colors", "fallback", "styles"};
			const char *near = nearest_word(k, known, 4);
			char hint[64] = "";
			if (near)
				snprintf(hint, sizeof hint, "; did you mean '%s'?", near);
			at(err, ypos_key(pos, root, k), "unknown key '%s'%s", k, hint);
			goto out;
		}
	}
	json_t *c = json_object_get(root, "colors");
	if (c && (!json_is_integer(c) || (json_integer_value(c) != 0 && json_integer_value(c) != 8 &&
					  json_integer_value(c) != 16 && json_integer_value(c) != 256))) {
		at(err, ypos_value(pos, root, "colors"), "colors: expected 0 (none), 8, 16 or 256");
		goto out;
	}
	out->colors = c ? (int)json_integer_value(c) : 256;
	json_t *fb = json_object_get(root, "fallback");
	if (fb && !json_is_string(fb)) {
		at(err, ypos_value(pos, root, "fallback"), "fallback: expected a theme name");
		goto out;
	}
	snprintf(out->fallback, sizeof out->fallback, "%s",
		 fb ? json_string_value(fb) : out->colors > 16 ? "16color" : "mono");
	json_t *styles = json_object_get(root, "styles");
	if (styles && !json_is_object(styles)) {
		at(err, ypos_value(pos, root, "styles"), "styles: expected a mapping of style names");
		goto out;
	}
	json_object_foreach(styles, k, v) {
		int s = style_parse(k);
		if (s < 0) {
			const char *names[S_COUNT];
			for (int i = 0; i < S_COUNT; i++)
				names[i] = style_name((enum style)i);
			const char *near = nearest_word(k, names, S_COUNT);
			char hint[80] = "";
			if (near)
				snprintf(hint, sizeof hint, "; did you mean '%s'?", near);
			at(err, ypos_key(pos, styles, k), "unknown style '%s'%s", k, hint);
			goto out;
		}
		if (parse_style(pos, styles, k, v, out->colors, &out->style[s], err) < 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(root);
	ypos_free(pos);
	return rc;
}

int theme_find(const char *name, const char *const *dirs, char **text, size_t *len, char **path, struct err *err)
{
	*path = NULL;
	if (strchr(name, '/')) {
		if (file_read_regular(name, FILE_MAX_PROJECT, text, len, err) < 0)
			return -1;
		*path = xstrdup(name);
		return 0;
	}
	for (size_t i = 0; dirs && dirs[i]; i++) {
		char *f = xasprintf("%s/%s.yml", dirs[i], name);
		if (path_exists(f) && file_read_regular(f, FILE_MAX_PROJECT, text, len, NULL) == 0) {
			*path = f;
			return 0;
		}
		free(f);
	}
	for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++) {
		if (!strcmp(builtin[i].name, name)) {
			*text = xstrdup(builtin[i].text);
			*len = strlen(*text);
			*path = xasprintf("(built-in) %s.yml", name);
			return 0;
		}
	}
	return err_setc(err, ERR_NOTFOUND, "no theme '%s'", name);
}

static int load_one(const char *name, const char *const *dirs, struct theme *out, struct err *err)
{
	char *text = NULL, *path = NULL;
	size_t len = 0;
	if (theme_find(name, dirs, &text, &len, &path, err) < 0)
		return -1;
	int rc = theme_parse(path, text, len, out, err);
	if (rc == 0)
		snprintf(out->name, sizeof out->name, "%s", name);
	free(text);
	free(path);
	return rc;
}

int theme_load(const char *name, int colors, bool no_color, const char *const *dirs, struct theme *out,
	       struct err *err)
{
	const char *want = no_color || colors < 8 ? "mono" : name;
	char cur[64];
	snprintf(cur, sizeof cur, "%s", want);
	/* a short chain; a loop in the fallbacks ends at mono */
	for (int hops = 0; hops < 6; hops++) {
		if (load_one(cur, dirs, out, err) < 0)
			return -1;
		int have = no_color ? 0 : colors;
		/* a 16-colour theme also fits 8 colours: bright ones are drawn bold */
		if (out->colors <= have || out->colors == 0 || (out->colors == 16 && have >= 8))
			break;
		if (hops == 4 || !out->fallback[0] || !strcmp(out->fallback, cur))
			snprintf(cur, sizeof cur, "mono");
		else
			snprintf(cur, sizeof cur, "%s", out->fallback);
	}
	if (no_color) {
		for (int i = 0; i < S_COUNT; i++)
			out->style[i].fg = out->style[i].bg = COLOR_UNSET;
		out->colors = 0;
	}
	return 0;
}
