/* Unit tests: the broker address parser both the connection and the ping
 * use (credentials up to the last '@', sockets in three spellings, [v6]
 * hosts, the database, a query ignored, and what is refused). */
#include "tests/unit/unit.h"

#include <stdlib.h>
#include <string.h>

#include "connectors/redis.h"

/* Parses url and checks every field; NULL strings must be NULL. */
static void want(const char *url, const char *path, const char *host, int port, const char *user, const char *pass,
		 int db)
{
	struct redis_url u;
	struct err e = {0};
	if (redis_url_parse(url, &u, &e) != 0)
		fail_msg("%s: %s", url, e.msg);
#define SAME(got, exp)                                                                                                 \
	do {                                                                                                           \
		if ((exp) == NULL ? (got) != NULL : (got) == NULL || strcmp((got), (exp)))                               \
			fail_msg("%s: %s is '%s', want '%s'", url, #got, (got) ? (got) : "(null)", (exp) ? (exp) : "(null)"); \
	} while (0)
	SAME(u.path, path);
	SAME(u.host, host);
	SAME(u.user, user);
	SAME(u.pass, pass);
#undef SAME
	if (!path)
		assert_int_equal(u.port, port);
	assert_int_equal(u.db, db);
	redis_url_clear(&u);
}

static void refused(const char *url, const char *why)
{
	struct redis_url u;
	struct err e = {0};
	assert_int_equal(redis_url_parse(url, &u, &e), ERR_FAIL);
	if (!strstr(e.msg, why))
		fail_msg("%s: '%s' does not say '%s'", url, e.msg, why);
	assert_null(u.host);
	assert_null(u.path);
}

static void test_sockets(void **state)
{
	(void)state;
	want("unix:/run/redis.sock", "/run/redis.sock", NULL, 0, NULL, NULL, 0);
	want("unix:///run/redis.sock", "/run/redis.sock", NULL, 0, NULL, NULL, 0);
	want("/run/redis.sock", "/run/redis.sock", NULL, 0, NULL, NULL, 0);
	want("unix:/run/redis.sock?db=2", "/run/redis.sock", NULL, 0, NULL, NULL, 0);
	refused("unix:", "no socket path");
}

static void test_tcp(void **state)
{
	(void)state;
	want("redis://h", NULL, "h", 6379, NULL, NULL, 0);
	want("redis://h:6380", NULL, "h", 6380, NULL, NULL, 0);
	want("redis://h:6380/3", NULL, "h", 6380, NULL, NULL, 3);
	want("redis://h/", NULL, "h", 6379, NULL, NULL, 0);
	want("redis://h:1/2?timeout=5", NULL, "h", 1, NULL, NULL, 2);
	want("redis://", NULL, "127.0.0.1", 6379, NULL, NULL, 0);
	want("redis://:7000", NULL, "127.0.0.1", 7000, NULL, NULL, 0);
	want("redis://[::1]:6390/1", NULL, "::1", 6390, NULL, NULL, 1);
	want("redis://[fe80::1]", NULL, "fe80::1", 6379, NULL, NULL, 0);
}

static void test_credentials(void **state)
{
	(void)state;
	want("redis://:s3cr3t@127.0.0.1:6379/2", NULL, "127.0.0.1", 6379, NULL, "s3cr3t", 2);
	want("redis://bob:pw@h", NULL, "h", 6379, "bob", "pw", 0);
	want("redis://pw@h", NULL, "h", 6379, NULL, "pw", 0);
	/* the last '@' ends the credentials; ':' and '/' in a password too */
	want("redis://bob:p@ss:w/rd@h:1/4", NULL, "h", 1, "bob", "p@ss:w/rd", 4);
	want("redis://:a@b@[::1]:2", NULL, "::1", 2, NULL, "a@b", 0);
	want("redis://bob:@h", NULL, "h", 6379, "bob", "", 0);
}

static void test_refused(void **state)
{
	(void)state;
	refused("http://h", "expected redis://");
	refused("h:6379", "expected redis://");
	refused("redis://h:port", "port must be a number");
	refused("redis://h:0", "port must be a number");
	refused("redis://h:70000", "port must be a number");
	refused("redis://h:", "port must be a number");
	refused("redis://h/x", "database must be a number");
	refused("redis://[::1", "unclosed '['");
	refused("redis://[::1]x", "expected ':port'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sockets),
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_credentials),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests_name("redis_url", tests, NULL, NULL);
}
