/* Writing connections.yml (add, replace, remove keep every other line as it
 * was, 0600, a backup) and the dsn guards against a server that hangs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/fs.h"
#include "base/util.h"
#include "core/connections.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/sluice-test-conns.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char *cmd = xasprintf("rm -rf '%s'", dir);
	int rc = system(cmd);
	free(cmd);
	return rc;
}

static char *path_in(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static void write_file(const char *path, const char *text, int mode)
{
	struct err e = {0};
	assert_int_equal(file_write_atomic(path, text, strlen(text), mode, &e), 0);
	chmod(path, (mode_t)mode);
}

static char *read_all(const char *path)
{
	char *s;
	size_t n;
	struct err e = {0};
	assert_int_equal(file_read(path, &s, &n, &e), 0);
	return s;
}

static int mode_of(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (int)(st.st_mode & 0777);
}

static const char ORIGINAL[] =
	"# team connections\n"
	"connections:\n"
	"  # the replica\n"
	"  a:\n"
	"    host: db1\n"
	"    dbname: x   # nightly\n"
	"    password: \"${A_PW}\"\n"
	"\n"
	"  # b is flow style\n"
	"  b: { dsn: \"postgresql://u:pw1@db2/y\" }\n"
	"  c:\n"
	"    host: db3\n"
	"    password_file: secrets/c\n"
	"# the end\n";

static void test_add_to_missing_file(void **state)
{
	(void)state;
	char *p = xasprintf("%s/sub/dir/connections.yml", dir);
	struct conn_spec s = {.name = "wh", .url = "postgresql://etl@db1/wh", .password = "s3cret \"x\""};
	struct err e = {0};
	assert_int_equal(connections_put(p, &s, false, &e), 0);
	assert_int_equal(mode_of(p), 0600);
	char *bak = xasprintf("%s.bak", p);
	assert_int_not_equal(access(bak, F_OK), 0);
	struct connections c;
	assert_int_equal(connections_load(p, &c, &e), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.v[0].name, "wh");
	assert_int_equal(c.v[0].line, 2);
	assert_non_null(strstr(c.v[0].dsn, "password="));
	assert_null(strstr(c.v[0].display, "s3cret"));
	connections_free(&c);
	free(bak);
	free(p);
}

static void test_add_keeps_the_rest(void **state)
{
	(void)state;
	char *p = path_in("keep.yml");
	write_file(p, ORIGINAL, 0600);
	struct conn_spec s = {.name = "d", .host = "db4", .port = "5433", .dbname = "z", .user = "me"};
	struct err e = {0};
	assert_int_equal(connections_put(p, &s, false, &e), 0);
	char *got = read_all(p);
	/* the new entry goes after the last one's last line, before the comment
	 * that ends the file */
	char *want = xasprintf("%.*s  d:\n    type: postgres\n    host: \"db4\"\n    port: \"5433\"\n"
			       "    dbname: \"z\"\n    user: \"me\"\n# the end\n",
			       (int)(strstr(ORIGINAL, "# the end") - ORIGINAL), ORIGINAL);
	assert_string_equal(got, want);
	char *bakp = xasprintf("%s.bak", p);
	char *bak = read_all(bakp);
	assert_string_equal(bak, ORIGINAL);
	assert_int_equal(mode_of(bakp), 0600);
	assert_int_equal(connections_put(p, &s, false, &e), ERR_EXISTS);
	free(got);
	free(want);
	free(bak);
	free(bakp);
	free(p);
}

static void test_replace_in_place(void **state)
{
	(void)state;
	char *p = path_in("replace.yml");
	write_file(p, ORIGINAL, 0600);
	struct err e = {0};
	/* no password given: a's stays as written, a reference */
	struct conn_spec s = {.name = "a", .host = "db9", .dbname = "x2"};
	assert_int_equal(connections_put(p, &s, true, &e), 0);
	char *got = read_all(p);
	assert_non_null(strstr(got, "# team connections\nconnections:\n  # the replica\n  a:\n    type: postgres\n"
				    "    host: \"db9\"\n    dbname: \"x2\"\n    password: \"${A_PW}\"\n\n  # b is flow style\n"));
	free(got);
	/* b's password was in its URL: it is kept apart from the new one */
	struct conn_spec sb = {.name = "b", .url = "postgresql://u@db2/other"};
	assert_int_equal(connections_put(p, &sb, true, &e), 0);
	got = read_all(p);
	assert_non_null(strstr(got, "  b:\n    type: postgres\n    dsn: \"postgresql://u@db2/other\"\n    password: \"pw1\"\n  c:\n"));
	free(got);
	struct conn_spec sc = {.name = "c", .host = "db3", .user = "u3"};
	assert_int_equal(connections_put(p, &sc, true, &e), 0);
	got = read_all(p);
	assert_non_null(strstr(got, "  c:\n    type: postgres\n    host: \"db3\"\n    user: \"u3\"\n"
				    "    password_file: \"secrets/c\"\n# the end\n"));
	free(got);
	struct conn_spec sn = {.name = "nope", .host = "h"};
	assert_int_equal(connections_put(p, &sn, true, &e), ERR_NOTFOUND);
	free(p);
}

static void test_remove(void **state)
{
	(void)state;
	char *p = path_in("remove.yml");
	write_file(p, ORIGINAL, 0600);
	struct err e = {0};
	assert_int_equal(connections_remove(p, "b", &e), 0);
	char *got = read_all(p);
	char *want = xstrdup(ORIGINAL);
	char *b = strstr(want, "  b: {");
	memmove(b, strchr(b, '\n') + 1, strlen(strchr(b, '\n') + 1) + 1);
	assert_string_equal(got, want);
	free(got);
	assert_int_equal(connections_remove(p, "a", &e), 0);
	got = read_all(p);
	assert_string_equal(got, "# team connections\nconnections:\n  # the replica\n\n  # b is flow style\n  c:\n"
				 "    host: db3\n    password_file: secrets/c\n# the end\n");
	assert_int_equal(connections_remove(p, "a", &e), ERR_NOTFOUND);
	free(got);
	free(want);
	free(p);
}

static void test_empty_mapping(void **state)
{
	(void)state;
	const char *starts[] = {"", "# only a comment\n", "connections:\n", "connections: {}\n", "connections: ~\n"};
	for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
		char *p = path_in("empty.yml");
		write_file(p, starts[i], 0600);
		struct conn_spec s = {.name = "n", .host = "h"};
		struct err e = {0};
		assert_int_equal(connections_put(p, &s, false, &e), 0);
		struct connections c;
		assert_int_equal(connections_load(p, &c, &e), 0);
		assert_int_equal(c.n, 1);
		connections_free(&c);
		unlink(p);
		free(p);
	}
}

static void test_symlink_stays(void **state)
{
	(void)state;
	char *real = path_in("real.yml"), *link = path_in("link.yml");
	write_file(real, "connections:\n", 0600);
	assert_int_equal(symlink(real, link), 0);
	struct conn_spec s = {.name = "n", .host = "h"};
	struct err e = {0};
	assert_int_equal(connections_put(link, &s, false, &e), 0);
	struct stat st;
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	char *got = read_all(real);
	assert_non_null(strstr(got, "  n:\n"));
	free(got);
	free(real);
	free(link);
}

static void test_refusals(void **state)
{
	(void)state;
	char *p = path_in("refuse.yml");
	struct err e = {0};
	struct conn_spec s = {.name = "x", .url = "postgresql://u:pw@h/d"};
	assert_true(connections_put(p, &s, false, &e) < 0);
	assert_non_null(strstr(e.msg, "holds a password"));
	assert_null(strstr(e.msg, "pw@"));
	struct conn_spec d = {.name = "default", .host = "h"};
	assert_int_equal(connections_put(p, &d, false, &e), ERR_EXISTS);
	struct conn_spec bad = {.name = "a b", .host = "h"};
	assert_true(connections_put(p, &bad, false, &e) < 0);
	write_file(p, ORIGINAL, 0644);
	struct conn_spec ok = {.name = "y", .host = "h"};
	assert_true(connections_put(p, &ok, false, &e) < 0);
	assert_non_null(strstr(e.msg, "chmod 600"));
	free(p);
}

static void test_has_password(void **state)
{
	(void)state;
	assert_true(connections_dsn_has_password("postgresql://u:p@h/d"));
	assert_true(connections_dsn_has_password("postgresql://u@h/d?password=p"));
	assert_true(connections_dsn_has_password("host=h password='a b'"));
	assert_true(connections_dsn_has_password("redis://:p@h:6379/0"));
	assert_false(connections_dsn_has_password("postgresql://u@h/d"));
	assert_false(connections_dsn_has_password("host=h user=u"));
	assert_false(connections_dsn_has_password("redis://h:6379/0"));
}

static void test_guarded(void **state)
{
	(void)state;
	char *g = connections_dsn_guarded("host=h dbname=d", 0);
	assert_string_equal(g, "host=h dbname=d connect_timeout=10 keepalives=1 keepalives_idle=30 keepalives_interval=10"
			       " keepalives_count=3");
	free(g);
	g = connections_dsn_guarded("host=h connect_timeout = 3 keepalives=0", 0);
	assert_string_equal(g, "host=h connect_timeout = 3 keepalives=0 keepalives_idle=30 keepalives_interval=10"
			       " keepalives_count=3");
	free(g);
	g = connections_dsn_guarded("host=h connect_timeout=30", 2);
	assert_non_null(strstr(g, " connect_timeout=2"));
	free(g);
	g = connections_dsn_guarded("postgresql://u@h/d", 0);
	assert_string_equal(g, "postgresql://u@h/d?connect_timeout=10&keepalives=1&keepalives_idle=30"
			       "&keepalives_interval=10&keepalives_count=3");
	free(g);
	g = connections_dsn_guarded("postgresql://u:a?b@h/d?sslmode=require&connect_timeout=4", 0);
	assert_string_equal(g, "postgresql://u:a?b@h/d?sslmode=require&connect_timeout=4&keepalives=1&keepalives_idle=30"
			       "&keepalives_interval=10&keepalives_count=3");
	free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_to_missing_file),
		cmocka_unit_test(test_add_keeps_the_rest),
		cmocka_unit_test(test_replace_in_place),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_empty_mapping),
		cmocka_unit_test(test_symlink_stays),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_has_password),
		cmocka_unit_test(test_guarded),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
