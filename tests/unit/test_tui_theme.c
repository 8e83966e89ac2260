/* Console themes: parsing, errors with file:line:col, the built-in themes,
 * falling back 256 -> 16 -> mono by the terminal's colours, NO_COLOR. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "tui/theme.h"

static void test_parse(void **state)
{
	const char *y = "colors: 256\n"
			"fallback: 16color\n"
			"styles:\n"
			"  header: { fg: 231, bg: blue, attrs: [bold, underline] }\n"
			"  state.failed: { fg: bright_red, attrs: bold }\n";
	struct theme t;
	struct err e = {0};
	assert_int_equal(theme_parse("t.yml", y, strlen(y), &t, &e), 0);
	assert_int_equal(t.colors, 256);
	assert_string_equal(t.fallback, "16color");
	assert_int_equal(t.style[S_HEADER].fg, 231);
	assert_int_equal(t.style[S_HEADER].bg, 4);
	assert_int_equal(t.style[S_HEADER].attrs, TA_BOLD | TA_UNDERLINE);
	assert_true(t.style[S_HEADER].set);
	int failed = style_parse("state.failed");
	assert_int_equal(failed, S_STATE0 + ST_FAILED);
	assert_int_equal(t.style[failed].fg, 9);
	assert_int_equal(t.style[failed].attrs, TA_BOLD);
	assert_false(t.style[S_HINT].set);
	assert_int_equal(t.style[S_HINT].fg, COLOR_UNSET);
}

static void test_errors_located(void **state)
{
	struct theme t;
	struct err e = {0};
	const char *a = "colors: 256\nstyles:\n  haeder: { fg: 1 }\n";
	assert_int_equal(theme_parse("a.yml", a, strlen(a), &t, &e), -1);
	assert_non_null(strstr(e.msg, "a.yml:3:3"));
	assert_non_null(strstr(e.msg, "did you mean 'header'"));
	const char *b = "colors: 16\nstyles:\n  header: { fg: 200 }\n";
	assert_int_equal(theme_parse("b.yml", b, strlen(b), &t, &e), -1);
	assert_non_null(strstr(e.msg, "b.yml:3:"));
	const char *c = "styles:\n  header: { fg: purple }\n";
	assert_int_equal(theme_parse("c.yml", c, strlen(c), &t, &e), -1);
	assert_non_null(strstr(e.msg, "unknown colour 'purple'"));
	const char *d = "styles:\n  header: { attrs: [blink] }\n";
	assert_int_equal(theme_parse("d.yml", d, strlen(d), &t, &e), -1);
	assert_non_null(strstr(e.msg, "blink"));
	const char *f = "colors: 12\n";
	assert_int_equal(theme_parse("f.yml", f, strlen(f), &t, &e), -1);
	assert_non_null(strstr(e.msg, "f.yml:1:"));
}

static void test_builtins_parse(void **state)
{
	const char *const *names = theme_builtin_names();
	int n = 0;
	for (; names[n]; n++) {
		char *text, *path;
		size_t len;
		struct err e = {0};
		assert_int_equal(theme_find(names[n], NULL, &text, &len, &path, &e), 0);
		struct theme t;
		if (theme_parse(path, text, len, &t, &e) < 0)
			fail_msg("%s", e.msg);
		/* every state is told apart without colour too: by glyph; and a
		 * theme with colours gives each state one */
		if (t.colors > 0)
			for (int s = 0; s < ST_COUNT; s++)
				assert_true(t.style[S_STATE0 + s].set);
		free(text);
		free(path);
	}
	assert_int_equal(n, 4);
}

static void test_fallback_by_colors(void **state)
{
	struct theme t;
	struct err e = {0};
	assert_int_equal(theme_load("default", 256, false, NULL, &t, &e), 0);
	assert_string_equal(t.name, "default");
	assert_int_equal(theme_load("default", 16, false, NULL, &t, &e), 0);
	assert_string_equal(t.name, "16color");
	/* 8 colours: the 16-colour theme, its bright colours drawn bold */
	assert_int_equal(theme_load("light", 8, false, NULL, &t, &e), 0);
	assert_string_equal(t.name, "16color");
	assert_int_equal(theme_load("light", 4, false, NULL, &t, &e), 0);
	assert_string_equal(t.name, "mono");
	assert_int_equal(theme_load("default", 2, false, NULL, &t, &e), 0);
	assert_string_equal(t.name, "mono");
	assert_int_equal(theme_load("16color", 256, false, NULL, &t, &e), 0);
	assert_string_equal(t.name, "16color");
}

static void test_no_color(void **state)
{
	struct theme t;
	struct err e = {0};
	assert_int_equal(theme_load("default", 256, true, NULL, &t, &e), 0);
	assert_string_equal(t.name, "mono");
	assert_int_equal(t.colors, 0);
	for (int i = 0; i < S_COUNT; i++) {
		assert_int_equal(t.style[i].fg, COLOR_UNSET);
		assert_int_equal(t.style[i].bg, COLOR_UNSET);
	}
	/* selection still shows, by attribute */
	assert_true(t.style[S_SELECTED].attrs & TA_REVERSE);
}

static void test_dirs_first_and_loops(void **state)
{
	char dir[] = "/tmp/sluice-theme-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof path, "%s/default.yml", dir);
	FILE *f = fopen(path, "w");
	fputs("colors: 16\nfallback: a\nstyles:\n  header: { fg: red }\n", f);
	fclose(f);
	snprintf(path, sizeof path, "%s/a.yml", dir);
	f = fopen(path, "w");
	fputs("colors: 256\nfallback: b\n", f);
	fclose(f);
	snprintf(path, sizeof path, "%s/b.yml", dir);
	f = fopen(path, "w");
	fputs("colors: 256\nfallback: a\n", f);
	fclose(f);
	const char *dirs[] = {dir, NULL};
	struct theme t;
	struct err e = {0};
	/* a file in the directory wins over the built-in */
	assert_int_equal(theme_load("default", 256, false, dirs, &t, &e), 0);
	assert_int_equal(t.style[S_HEADER].fg, 1);
	assert_int_equal(t.colors, 16);
	/* a fallback loop ends at mono */
	assert_int_equal(theme_load("a", 16, false, dirs, &t, &e), 0);
	assert_string_equal(t.name, "mono");
	assert_int_equal(theme_load("nosuch", 256, false, dirs, &t, &e), -1);
	assert_non_null(strstr(e.msg, "nosuch"));
	snprintf(path, sizeof path, "%s/default.yml", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/a.yml", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/b.yml", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_errors_located),
		cmocka_unit_test(test_builtins_parse),
		cmocka_unit_test(test_fallback_by_colors),
		cmocka_unit_test(test_no_color),
		cmocka_unit_test(test_dirs_first_and_loops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
