/* Unit tests: util (strbuf, paths, files, edit distance, dates) and err
 * (messages, located diagnostics). */
#include "tests/unit/unit.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/date.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/util.h"

/* ---- strbuf and formatting ---------------------------------------------- */

static void test_strbuf_empty(void **state)
{
	(void)state;
	struct strbuf b = {0};
	sb_reset(&b); /* on a buffer that never allocated */
	char *s = sb_steal(&b);
	assert_string_equal(s, "");
	free(s);
	assert_null(b.s);
	assert_int_equal(b.len, 0);
	sb_free(&b);
	sb_free(&b); /* twice is fine */
}

static void test_strbuf_growth(void **state)
{
	(void)state;
	struct strbuf b = {0};
	char want[10001];
	for (size_t i = 0; i < 10000; i++) {
		char c = (char)('a' + i % 26);
		sb_addc(&b, c);
		want[i] = c;
		assert_int_equal(b.len, i + 1);
		assert_true(b.cap > b.len);
		assert_int_equal(b.s[b.len], '\0');
	}
	want[10000] = '\0';
	assert_string_equal(b.s, want);

	sb_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.s, "");
	assert_true(b.cap > 10000); /* keeps its memory */

	/* one add much larger than the current capacity */
	sb_free(&b);
	char *big = malloc(100000);
	memset(big, 'z', 100000);
	sb_add(&b, "x", 1);
	sb_add(&b, big, 100000);
	assert_int_equal(b.len, 100001);
	assert_int_equal(b.s[0], 'x');
	assert_int_equal(b.s[100000], 'z');
	assert_int_equal(b.s[100001], '\0');
	free(big);
	sb_free(&b);
	assert_null(b.s);
	assert_int_equal(b.cap, 0);
}

static void test_strbuf_add_bytes(void **state)
{
	(void)state;
	struct strbuf b = {0};
	sb_add(&b, "abc\0def", 7); /* embedded NUL is kept, len counts it */
	assert_int_equal(b.len, 7);
	assert_memory_equal(b.s, "abc\0def", 8);
	sb_reset(&b);
	sb_adds(&b, "one");
	sb_add(&b, "", 0);
	sb_adds(&b, " two");
	assert_string_equal(b.s, "one two");
	char *s = sb_steal(&b);
	assert_string_equal(s, "one two");
	assert_null(b.s);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	free(s);
}

static void test_sb_addf(void **state)
{
	(void)state;
	struct strbuf b = {0};
	sb_addf(&b, "%s=%d", "n", 42);
	sb_addf(&b, "%s", "");
	sb_addf(&b, ", %05.1f|%-4s|%x", 3.14159, "ab", 255u);
	assert_string_equal(b.s, "n=42, 003.1|ab  |ff");
	assert_int_equal(b.len, strlen("n=42, 003.1|ab  |ff"));

	/* output longer than the initial capacity, after existing text */
	char *long_word = malloc(5001);
	memset(long_word, 'q', 5000);
	long_word[5000] = '\0';
	sb_reset(&b);
	sb_adds(&b, "<");
	sb_addf(&b, "%s>%d", long_word, 7);
	assert_int_equal(b.len, 5003);
	assert_int_equal(b.s[0], '<');
	assert_int_equal(b.s[5000], 'q');
	assert_string_equal(b.s + 5001, ">7");
	free(long_word);
	sb_free(&b);
}

static void test_xasprintf_xstrdup(void **state)
{
	(void)state;
	char *s = xasprintf("%s/%03d-%c", "dir", 7, 'x');
	assert_string_equal(s, "dir/007-x");
	free(s);
	s = xasprintf("%s", "");
	assert_string_equal(s, "");
	free(s);

	assert_null(xstrdup(NULL));
	s = xstrdup("copy");
	assert_string_equal(s, "copy");
	free(s);
	s = xstrndup("abcdef", 3);
	assert_string_equal(s, "abc");
	free(s);

	/* zero-size requests still give a usable pointer */
	void *p = xmalloc(0);
	assert_non_null(p);
	p = xrealloc(p, 0);
	assert_non_null(p);
	free(p);
	int *z = xcalloc(4, sizeof *z);
	for (int i = 0; i < 4; i++)
		assert_int_equal(z[i], 0);
	free(z);
}

/* ---- edit distance and suggestions -------------------------------------- */

static void test_edit_distance(void **state)
{
	(void)state;
	assert_int_equal(edit_distance("", ""), 0);
	assert_int_equal(edit_distance("abc", ""), 3);
	assert_int_equal(edit_distance("", "abcd"), 4);
	assert_int_equal(edit_distance("same", "same"), 0);
	assert_int_equal(edit_distance("kitten", "sitting"), 3);
	assert_int_equal(edit_distance("sitting", "kitten"), 3); /* symmetric */
	assert_int_equal(edit_distance("flaw", "lawn"), 2);
	assert_int_equal(edit_distance("depends_on", "depend_on"), 1);
	assert_int_equal(edit_distance("retries", "retires"), 2);
	assert_int_equal(edit_distance("abc", "xyz"), 3);
}

static void test_nearest_word(void **state)
{
	(void)state;
	static const char *const keys[] = {
		"kind", "depends_on", "command", "retries", "retry_delay", "timeout", "env",
	};
	size_t n = sizeof keys / sizeof keys[0];
	assert_string_equal(nearest_word("depend_on", keys, n), "depends_on");
	assert_string_equal(nearest_word("comand", keys, n), "command");
	assert_string_equal(nearest_word("retrys", keys, n), "retries");
	assert_string_equal(nearest_word("retry_dealy", keys, n), "retry_delay");
	assert_string_equal(nearest_word("kind", keys, n), "kind");
	assert_string_equal(nearest_word("knd", keys, n), "kind");
	/* short words may be two edits away */
	assert_string_equal(nearest_word("nv", keys, n), "env");
	/* too far from everything: no suggestion */
	assert_null(nearest_word("schedule", keys, n));
	assert_null(nearest_word("xyzzy", keys, n));
	assert_null(nearest_word("", keys, n));
	assert_null(nearest_word("anything", keys, 0));
	/* the limit is max(2, len/3): 12 letters allow 4 edits, not 5 */
	static const char *const one[] = {"abcdefghijkl"};
	assert_string_equal(nearest_word("abcdefghWXYZ", one, 1), "abcdefghijkl");
	assert_null(nearest_word("abcdefgVWXYZ", one, 1));
	/* ties go to the first candidate */
	static const char *const tie[] = {"cat", "car"};
	assert_string_equal(nearest_word("caz", tie, 2), "cat");
}

/* ---- dates --------------------------------------------------------------- */

static void test_date_valid(void **state)
{
	(void)state;
	static const char *const good[] = {
		"2026-01-01", "2026-12-31", "2024-02-29", "2000-02-29", "1999-02-28",
		"2026-04-30", "2026-01-31", "0001-01-01", "9999-12-31",
	};
	static const char *const bad[] = {
		"1900-02-29", /* divisible by 100, not by 400 */
		"2100-02-29", "2026-02-29", "2026-02-30", "2026-04-31", "2026-06-31",
		"2026-13-01", "2026-00-10", "2026-01-00", "2026-01-32", "0000-01-01",
		"", "2026", "2026-1-1", "2026-01-1", "26-01-01", "2026/01/01", "2026-01-01 ",
		" 2026-01-01", "2026-01-01T00:00", "20260101", "2026-0a-01", "abcd-ef-gh",
		"2026--1-01", "2026-+1-01", "2026- 1-01", "2026-01- 1", "+026-01-01",
		" 026-01-01", "-026-01-01", "2026-01-+1",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		if (!date_valid(good[i]))
			fail_msg("'%s' refused", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (date_valid(bad[i]))
			fail_msg("'%s' accepted", bad[i]);
}

static void test_date_today(void **state)
{
	(void)state;
	char buf[11];
	date_today(buf);
	assert_int_equal(strlen(buf), 10);
	assert_true(date_valid(buf));
}

/* ---- paths and files ------------------------------------------------------ */

static void test_path_join(void **state)
{
	(void)state;
	static const struct { const char *a, *b, *want; } cases[] = {
		{"a", "b", "a/b"},
		{"a/", "b", "a/b"},
		{"/root", "x/y.yml", "/root/x/y.yml"},
		{"/", "etc", "/etc"},
		{"a", "/abs", "/abs"},
		{"", "b", "b"},
		{NULL, "b", "b"},
		{"a/b", "c", "a/b/c"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *p = path_join(cases[i].a, cases[i].b);
		assert_string_equal(p, cases[i].want);
		free(p);
	}
}

/* A scratch directory per test, removed with everything in it. */
static int tmpdir_setup(void **state)
{
	const char *base = getenv("TMPDIR");
	char *tmpl = xasprintf("%s/sluice-test-util.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpl)) {
		free(tmpl);
		return -1;
	}
	*state = tmpl;
	return 0;
}

static void rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		if (d) {
			struct dirent *e;
			while ((e = readdir(d))) {
				if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
					continue;
				char *sub = path_join(path, e->d_name);
				rm_rf(sub);
				free(sub);
			}
			closedir(d);
		}
		rmdir(path);
	} else {
		unlink(path);
	}
}

static int tmpdir_teardown(void **state)
{
	char *dir = *state;
	rm_rf(dir);
	free(dir);
	return 0;
}

static size_t count_entries(const char *dir)
{
	size_t n = 0;
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_mkdir_p(void **state)
{
	const char *dir = *state;
	struct err err = {0};
	char *deep = xasprintf("%s/a/b/c/d", dir);
	assert_false(path_exists(deep));
	assert_int_equal(mkdir_p(deep, 0755, &err), 0);
	assert_true(path_exists(deep));
	struct stat st;
	assert_int_equal(stat(deep, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* again: existing directories are fine */
	assert_int_equal(mkdir_p(deep, 0755, &err), 0);
	char *slash = xasprintf("%s/a/b/", dir);
	assert_int_equal(mkdir_p(slash, 0755, &err), 0);

	/* a file in the way fails with a message naming the path */
	char *file = xasprintf("%s/a/file", dir);
	assert_int_equal(file_write_atomic(file, "x", 1, 0644, &err), 0);
	char *under = xasprintf("%s/a/file/sub", dir);
	err_clear(&err);
	assert_int_equal(mkdir_p(under, 0755, &err), ERR_FAIL);
	assert_int_equal(err.code, ERR_FAIL);
	assert_non_null(strstr(err.msg, "a/file/sub"));
	free(under);
	free(file);
	free(slash);
	free(deep);
}

static void test_file_round_trip(void **state)
{
	const char *dir = *state;
	struct err err = {0};
	char *sub = path_join(dir, "conf/x");
	char *path = path_join(sub, "data.bin");
	assert_int_equal(mkdir_p(sub, 0700, &err), 0);

	/* bytes, including NUL, come back exactly and NUL-terminated */
	static const char data[] = "line one\nline\0two\n\xff";
	size_t dlen = sizeof data - 1;
	assert_int_equal(file_write_atomic(path, data, dlen, 0600, &err), 0);
	char *got = NULL;
	size_t len = 0;
	assert_int_equal(file_read(path, &got, &len, &err), 0);
	assert_int_equal(len, dlen);
	assert_memory_equal(got, data, dlen);
	assert_int_equal(got[len], '\0');
	free(got);

	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* replacing leaves only the file, no temporary beside it */
	assert_int_equal(file_write_atomic(path, "short", 5, 0600, &err), 0);
	assert_int_equal(file_read(path, &got, NULL, &err), 0);
	assert_string_equal(got, "short");
	free(got);
	assert_int_equal(count_entries(sub), 1);

	/* an empty file reads as "" */
	assert_int_equal(file_write_atomic(path, "", 0, 0600, &err), 0);
	assert_int_equal(file_read(path, &got, &len, &err), 0);
	assert_int_equal(len, 0);
	assert_string_equal(got, "");
	free(got);

	/* larger than one read buffer */
	size_t big = 200000;
	char *blob = malloc(big);
	for (size_t i = 0; i < big; i++)
		blob[i] = (char)(i * 31 + 7);
	assert_int_equal(file_write_atomic(path, blob, big, 0600, &err), 0);
	assert_int_equal(file_read(path, &got, &len, &err), 0);
	assert_int_equal(len, big);
	assert_memory_equal(got, blob, big);
	free(got);
	free(blob);

	free(path);
	free(sub);
}

static void test_file_errors(void **state)
{
	const char *dir = *state;
	struct err err = {0};
	char *missing = path_join(dir, "nope.yml");
	char *got = (char *)"untouched";
	assert_int_equal(file_read(missing, &got, NULL, &err), ERR_NOTFOUND);
	assert_int_equal(err.code, ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, "nope.yml"));
	assert_string_equal(got, "untouched");

	char *nodir = path_join(dir, "no/such/dir/f");
	err_clear(&err);
	assert_int_equal(file_write_atomic(nodir, "x", 1, 0644, &err), ERR_FAIL);
	assert_int_equal(err.code, ERR_FAIL);
	assert_non_null(strstr(err.msg, "no/such/dir/f"));
	assert_false(path_exists(nodir));
	assert_int_equal(count_entries(dir), 0);

	/* a NULL err is allowed */
	assert_int_equal(file_read(missing, &got, NULL, NULL), ERR_NOTFOUND);
	free(nodir);
	free(missing);
}

/* ---- err ------------------------------------------------------------------ */

static void test_err_set(void **state)
{
	(void)state;
	struct err e = {0};
	assert_int_equal(err_set(&e, "bad %s at %d", "thing", 3), ERR_FAIL);
	assert_int_equal(e.code, ERR_FAIL);
	assert_string_equal(e.msg, "bad thing at 3");
	assert_int_equal(err_setc(&e, ERR_CONFLICT, "fenced"), ERR_CONFLICT);
	assert_int_equal(e.code, ERR_CONFLICT);
	assert_string_equal(e.msg, "fenced");
	err_clear(&e);
	assert_int_equal(e.code, 0);
	assert_string_equal(e.msg, "");

	/* NULL err: nothing is written, the codes still come back */
	assert_int_equal(err_set(NULL, "x"), ERR_FAIL);
	assert_int_equal(err_setc(NULL, ERR_NOTFOUND, "x"), ERR_NOTFOUND);
	assert_int_equal(err_prefix(NULL, "x"), ERR_FAIL);
	err_clear(NULL);

	/* a message longer than the buffer is cut, still terminated */
	char *lng = malloc(3000);
	memset(lng, 'm', 2999);
	lng[2999] = '\0';
	err_set(&e, "%s", lng);
	assert_int_equal(strlen(e.msg), sizeof e.msg - 1);
	assert_int_equal(e.msg[0], 'm');
	free(lng);
}

static void test_err_prefix(void **state)
{
	(void)state;
	struct err e = {0};
	err_setc(&e, ERR_UNREACHABLE, "connection refused");
	assert_int_equal(err_prefix(&e, "warehouse"), ERR_UNREACHABLE); /* keeps the code */
	assert_string_equal(e.msg, "warehouse: connection refused");
	assert_int_equal(err_prefix(&e, "%s:%d", "f.yml", 4), ERR_UNREACHABLE);
	assert_string_equal(e.msg, "f.yml:4: warehouse: connection refused");

	/* without a code, the prefix returns ERR_FAIL */
	err_clear(&e);
	assert_int_equal(err_prefix(&e, "ctx"), ERR_FAIL);
	assert_string_equal(e.msg, "ctx: ");
}

static void test_err_prefix_truncation(void **state)
{
	(void)state;
	struct err e = {0};
	size_t max = sizeof e.msg - 1;
	char *fill = malloc(2000);
	memset(fill, 'o', 1999);
	fill[1999] = '\0';

	/* a long old message: the prefix stays whole, the old text is cut */
	err_set(&e, "%s", fill);
	err_prefix(&e, "ctx");
	assert_int_equal(strlen(e.msg), max);
	assert_memory_equal(e.msg, "ctx: ooo", 8);
	assert_int_equal(e.msg[max - 1], 'o');

	/* a prefix longer than the buffer: cut, no separator, terminated */
	err_set(&e, "old");
	char *pfx = malloc(2000);
	memset(pfx, 'p', 1999);
	pfx[1999] = '\0';
	err_prefix(&e, "%s", pfx);
	assert_int_equal(strlen(e.msg), max);
	assert_null(strchr(e.msg, ':'));
	assert_null(strstr(e.msg, "old"));

	/* a prefix that just fits: the separator, then as much as fits */
	err_set(&e, "tail");
	pfx[max - 4] = '\0'; /* 1019 chars + ": " leaves room for 2 */
	err_prefix(&e, "%s", pfx);
	assert_int_equal(strlen(e.msg), max);
	assert_string_equal(e.msg + max - 4, ": ta");

	/* three more: no room for the separator, the old text is dropped */
	pfx[max - 4] = 'p';
	pfx[max - 1] = '\0';
	err_set(&e, "tail");
	err_prefix(&e, "%s", pfx);
	assert_int_equal(strlen(e.msg), max - 1);
	assert_null(strchr(e.msg, ':'));
	assert_null(strstr(e.msg, "ta"));

	free(pfx);
	free(fill);
}

/* ---- diagnostics ----------------------------------------------------------- */

static char *print_diags(const struct diags *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	diags_print(d, f);
	fclose(f);
	return buf;
}

static void test_diags_sort_print(void **state)
{
	(void)state;
	struct diags d = {0};
	diags_add(&d, (struct loc){"pipelines/b.yml", 3, 5}, "b3");
	diags_add(&d, (struct loc){"pipelines/a.yml", 10, 1}, "a10");
	diags_add(&d, (struct loc){"pipelines/a.yml", 2, 9}, "a2c9");
	diags_add(&d, (struct loc){"pipelines/a.yml", 2, 3}, "a2c3 first");
	diags_add(&d, (struct loc){"pipelines/a.yml", 2, 3}, "a2c3 second");
	diags_add(&d, (struct loc){"sluice.yml", 1, 1}, "unknown key '%s' (did you mean '%s'?)",
		  "nmae", "name");
	diags_add(&d, (struct loc){"pipelines/a.yml", 2, 3}, "a2c3 third");
	diags_add(&d, (struct loc){"pipelines/a.yml", 0, 0}, "no position");
	diags_add(&d, (struct loc){NULL, 0, 0}, "no file");
	assert_int_equal(d.n, 9);
	diags_sort(&d);

	char *out = print_diags(&d);
	assert_string_equal(out,
		"error: no file\n"
		"pipelines/a.yml: error: no position\n"
		"pipelines/a.yml:2:3: error: a2c3 first\n"
		"pipelines/a.yml:2:3: error: a2c3 second\n"
		"pipelines/a.yml:2:3: error: a2c3 third\n"
		"pipelines/a.yml:2:9: error: a2c9\n"
		"pipelines/a.yml:10:1: error: a10\n"
		"pipelines/b.yml:3:5: error: b3\n"
		"sluice.yml:1:1: error: unknown key 'nmae' (did you mean 'name'?)\n");
	free(out);
	diags_free(&d);
	assert_null(d.v);
	assert_int_equal(d.n, 0);

	/* empty lists sort, print nothing and free */
	diags_sort(&d);
	out = print_diags(&d);
	assert_string_equal(out, "");
	free(out);
	diags_free(&d);
}

/* Many equal positions: the sort keeps the order they were added in. */
static void test_diags_sort_stable(void **state)
{
	(void)state;
	struct diags d = {0};
	for (int i = 0; i < 40; i++)
		diags_add(&d, (struct loc){i % 2 ? "b.yml" : "a.yml", 1 + i % 3, 1}, "%d", i);
	diags_sort(&d);
	for (size_t i = 1; i < d.n; i++) {
		const struct diag *p = &d.v[i - 1], *q = &d.v[i];
		int c = strcmp(p->file, q->file);
		assert_true(c <= 0);
		if (c == 0) {
			assert_true(p->line <= q->line);
			if (p->line == q->line)
				assert_true(atoi(p->msg) < atoi(q->msg));
		}
	}
	diags_free(&d);
}

static void test_sb_add_shell(void **state)
{
	(void)state;
	const char *cases[][2] = {
		{"daily_sales", "daily_sales"},
		{"2026-12-02", "2026-12-02"},
		{"k=v,w", "k=v,w"},
		{"", "''"},
		{"two words", "'two words'"},
		{"it's", "'it'\\''s'"},
		{"$HOME;rm", "'$HOME;rm'"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct strbuf b = {0};
		sb_add_shell(&b, cases[i][0]);
		assert_string_equal(b.s, cases[i][1]);
		sb_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strbuf_empty),
		cmocka_unit_test(test_strbuf_growth),
		cmocka_unit_test(test_strbuf_add_bytes),
		cmocka_unit_test(test_sb_addf),
		cmocka_unit_test(test_sb_add_shell),
		cmocka_unit_test(test_xasprintf_xstrdup),
		cmocka_unit_test(test_edit_distance),
		cmocka_unit_test(test_nearest_word),
		cmocka_unit_test(test_date_valid),
		cmocka_unit_test(test_date_today),
		cmocka_unit_test(test_path_join),
		cmocka_unit_test_setup_teardown(test_mkdir_p, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_file_round_trip, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_file_errors, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test(test_err_set),
		cmocka_unit_test(test_err_prefix),
		cmocka_unit_test(test_err_prefix_truncation),
		cmocka_unit_test(test_diags_sort_print),
		cmocka_unit_test(test_diags_sort_stable),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
