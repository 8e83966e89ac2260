/* Unit tests for what the s3 and ftp connectors read: their connections
 * (the fields, secrets from ${ENV} or a file, what is refused, what may be
 * shown), S3's XML (a ListObjectsV2 page, an error), and FTP listings
 * (MLSD facts, ls -l lines). */
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/err.h"
#include "base/fs.h"
#include "base/util.h"
#include "connectors/ftp.h"
#include "connectors/s3.h"
#include "core/connections.h"

static char dir[256];

static int setup(void **state)
{
	snprintf(dir, sizeof dir, "/tmp/sluice-test-objstore.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	int rc = system(cmd);
	free(cmd);
	return rc;
}

/* Writes text as DIR/name (mode 0600) and loads it: the return code, with
 * the error in e. */
static int load(const char *text, struct connections *c, struct err *e)
{
	char *path = xasprintf("%s/connections.yml", dir);
	struct err we = {0};
	assert_int_equal(file_write_atomic(path, text, strlen(text), 0600, &we), 0);
	chmod(path, 0600);
	memset(e, 0, sizeof *e);
	int rc = connections_load(path, c, e);
	free(path);
	return rc;
}

static void test_s3_connection(void **state)
{
	struct connections c;
	struct err e;
	char *secret = xasprintf("%s/s3.secret", dir);
	struct err we = {0};
	assert_int_equal(file_write_atomic(secret, "FileSecret/42+x\n", 16, 0600, &we), 0);
	chmod(secret, 0600);
	free(secret);
	setenv("OBJ_UNIT_SECRET", "EnvSecret/7", 1);
	int rc = load("connections:\n"
		      "  lake:\n"
		      "    type: s3\n"
		      "    endpoint: http://127.0.0.1:9000\n"
		      "    bucket: raw\n"
		      "    access_key_id: AKID1\n"
		      "    secret_access_key: ${OBJ_UNIT_SECRET}\n"
		      "  aws:\n"
		      "    type: s3\n"
		      "    region: eu-west-1\n"
		      "    bucket: b2\n"
		      "    access_key_id: AKID2\n"
		      "    secret_access_key_file: s3.secret\n"
		      "  anon: { type: s3, url: 'http://h:1/', bucket: b3, path_style: false }\n"
		      "  userinfo: { type: s3, endpoint: 'https://me:UrlSecret9@h:2/base', bucket: b4 }\n",
		      &c, &e);
	if (rc)
		fail_msg("%s", e.msg);
	const struct connection *k = connections_get(&c, "lake");
	assert_non_null(k);
	assert_int_equal(k->type, CONN_S3);
	struct s3_conf s;
	assert_int_equal(s3_conf_parse(k->dsn, &s, &e), 0);
	assert_string_equal(s.endpoint, "http://127.0.0.1:9000");
	assert_string_equal(s.bucket, "raw");
	assert_string_equal(s.access_key, "AKID1");
	assert_string_equal(s.secret_key, "EnvSecret/7");
	assert_true(s.path_style); /* an endpoint: path-style unless told */
	assert_null(strstr(k->display, "EnvSecret"));
	assert_null(strstr(k->display, "AKID1"));
	assert_string_equal(k->display, "s3://raw (http://127.0.0.1:9000)");
	s3_conf_clear(&s);

	k = connections_get(&c, "aws");
	assert_int_equal(s3_conf_parse(k->dsn, &s, &e), 0);
	assert_null(s.endpoint);
	assert_string_equal(s.region, "eu-west-1");
	assert_string_equal(s.secret_key, "FileSecret/42+x"); /* its newline dropped */
	assert_false(s.path_style);
	s3_conf_clear(&s);

	k = connections_get(&c, "anon");
	assert_int_equal(s3_conf_parse(k->dsn, &s, &e), 0);
	assert_string_equal(s.endpoint, "http://h:1/");
	assert_null(s.access_key);
	assert_null(s.secret_key);
	assert_false(s.path_style);
	s3_conf_clear(&s);
	assert_string_equal(connections_get(&c, "anon")->display, "s3://b3 (http://h:1)");
	assert_string_equal(connections_get(&c, "userinfo")->display, "s3://b4 (https://h:2/***)");
	connections_free(&c);
}

static void test_ftp_connection(void **state)
{
	struct connections c;
	struct err e;
	int rc = load("connections:\n"
		      "  files: { type: ftp, host: ftp.example.com, port: 2121, user: u1, password: 'p@ss:w/rd', ftps: true }\n"
		      "  anon: { type: ftp, host: 127.0.0.1 }\n",
		      &c, &e);
	if (rc)
		fail_msg("%s", e.msg);
	const struct connection *k = connections_get(&c, "files");
	assert_int_equal(k->type, CONN_FTP);
	struct ftp_conf f;
	assert_int_equal(ftp_conf_parse(k->dsn, &f, &e), 0);
	assert_string_equal(f.host, "ftp.example.com");
	assert_string_equal(f.port, "2121");
	assert_string_equal(f.user, "u1");
	assert_string_equal(f.password, "p@ss:w/rd");
	assert_true(f.ftps);
	assert_string_equal(k->display, "ftp://u1@ftp.example.com:2121 (ftps)");
	ftp_conf_clear(&f);
	k = connections_get(&c, "anon");
	assert_int_equal(ftp_conf_parse(k->dsn, &f, &e), 0);
	assert_null(f.user);
	assert_null(f.port);
	assert_false(f.ftps);
	ftp_conf_clear(&f);
	connections_free(&c);
}

/* Each text is refused with a message that has want in it, at its line. */
static void test_refused(void **state)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{"connections:\n  x: { type: s3, endpoint: 'http://h', region: r }\n", "needs 'bucket'"},
		{"connections:\n  x: { type: s3, bucket: b, access_key_id: A }\n", "together"},
		{"connections:\n  x: { type: s3, bucket: b, endpoint: 'ftp://h' }\n", "http:// or https://"},
		{"connections:\n  x: { type: s3, bucket: b, endpoint: 'http://h', url: 'http://h' }\n", "not both"},
		{"connections:\n  x: { type: s3, bucket: b, password: p }\n", "'password' does not apply to an s3"},
		{"connections:\n  x: { type: s3, bucket: b, path_style: 'yes' }\n", "must be true or false"},
		{"connections:\n  x: { type: s3, bucket: b, access_key_id: A, secret_access_key: s, secret_access_key_file: f }\n",
		 "not both"},
		{"connections:\n  x: { type: s3, bucket: b, access_key_id: A, secret_access_key_file: missing.secret }\n",
		 "secret_access_key_file"},
		{"connections:\n  x: { type: ftp, port: 21 }\n", "needs 'host'"},
		{"connections:\n  x: { type: ftp, host: h, bucket: b }\n", "'bucket' does not apply to an ftp"},
		{"connections:\n  x: { type: ftp, host: h, ftps: 1 }\n", "must be true or false"},
		{"connections:\n  x: { type: postgres, host: h, bucket: b }\n", "'bucket' is for s3 and ftp"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct connections c;
		struct err e;
		int rc = load(bad[i].text, &c, &e);
		connections_free(&c);
		if (rc == 0 || !strstr(e.msg, bad[i].want) || !strstr(e.msg, "connections.yml:2:"))
			fail_msg("%s: got rc %d '%s', want '%s'", bad[i].text, rc, e.msg, bad[i].want);
	}
}

static int keep(const struct s3_object *o, void *arg)
{
	struct strbuf *b = arg;
	sb_addf(b, "%s|%lld|%s|%s\n", o->key, o->size, o->etag ? o->etag : "-", o->last_modified ? o->last_modified : "-");
	return 0;
}

static void test_s3_xml(void **state)
{
	const char *page =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name><Prefix>a/</Prefix>"
		"<KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>"
		"<Contents><Key>a/x &amp; y.csv</Key><LastModified>2024-01-31T12:00:00.000Z</LastModified>"
		"<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>1234</Size>"
		"<StorageClass>STANDARD</StorageClass></Contents>"
		"<Contents><Key>a/&#233;t&#xE9;</Key><Size>0</Size></Contents>"
		"<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
		"</ListBucketResult>";
	struct strbuf b = {0};
	char *next = NULL;
	struct err e = {0};
	assert_int_equal(s3_parse_list(page, strlen(page), keep, &b, &next, &e), 0);
	assert_string_equal(b.s, "a/x & y.csv|1234|9b2cf535f27731c974343645a3985328|2024-01-31T12:00:00.000Z\n"
				 "a/\xc3\xa9t\xc3\xa9|0|-|-\n");
	assert_string_equal(next, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
	free(next);
	sb_free(&b);

	/* the last page, an empty one */
	const char *last = "<ListBucketResult><IsTruncated>false</IsTruncated><KeyCount>0</KeyCount></ListBucketResult>";
	assert_int_equal(s3_parse_list(last, strlen(last), keep, &b, &next, &e), 0);
	assert_null(next);
	assert_null(b.s);
	/* truncated without a token, an entry without a size, not a listing */
	const char *broken[] = {
		"<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
		"<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>",
		"<Error><Code>AccessDenied</Code></Error>",
	};
	for (size_t i = 0; i < 3; i++) {
		assert_int_not_equal(s3_parse_list(broken[i], strlen(broken[i]), keep, &b, &next, &e), 0);
		assert_null(next);
	}
	sb_free(&b);

	const char *er = "<?xml version=\"1.0\"?>\n<Error>\n<Code>SignatureDoesNotMatch</Code>\n<Message>The request "
			 "signature we calculated\ndoes not match</Message><StringToSign>AWS4-HMAC-SHA256 secret"
			 "</StringToSign><SignatureProvided>abc</SignatureProvided></Error>";
	char *t = s3_error_text(er, strlen(er));
	assert_string_equal(t, "SignatureDoesNotMatch: The request signature we calculated does not match");
	free(t);
	assert_null(s3_error_text("", 0));
	assert_null(s3_error_text("<html>oops</html>", 17));
}

static void test_ftp_listings(void **state)
{
	struct ftp_entry e;
	char l1[] = "type=file;size=1500000;modify=20240131123456;perm=r; big file.bin";
	assert_true(ftp_parse_mlsd(l1, &e));
	assert_string_equal(e.name, "big file.bin");
	assert_int_equal(e.type, 'f');
	assert_int_equal(e.size, 1500000);
	assert_int_equal(e.mtime, 1706704496);
	char l2[] = "Type=dir;Modify=20240131123456.123;UNIX.mode=0755; sub";
	assert_true(ftp_parse_mlsd(l2, &e));
	assert_int_equal(e.type, 'd');
	assert_int_equal(e.size, -1);
	assert_int_equal(e.mtime, 1706704496);
	char l3[] = "type=cdir;modify=20240131123456; .";
	assert_true(ftp_parse_mlsd(l3, &e));
	assert_int_equal(e.type, '.');
	char l4[] = "garbage";
	assert_false(ftp_parse_mlsd(l4, &e));

	time_t now = 1706704496 + 86400 * 30; /* 2024-03-01 */
	char s1[] = "-rw-r--r--   1 owner    group     1234 Jan 31 12:34 a b.csv";
	assert_true(ftp_parse_list(s1, now, &e));
	assert_string_equal(e.name, "a b.csv");
	assert_int_equal(e.type, 'f');
	assert_int_equal(e.size, 1234);
	assert_int_equal(e.mtime, 1706704440); /* minutes only */
	char s2[] = "drwxr-xr-x 2 o g 4096 Dec 24  2019 old";
	assert_true(ftp_parse_list(s2, now, &e));
	assert_int_equal(e.type, 'd');
	assert_int_equal(e.mtime, 1577145600);
	/* a date later than now in this year is last year's */
	char s3[] = "-rw-r--r-- 1 o g 5 Dec 24 10:00 late";
	assert_true(ftp_parse_list(s3, now, &e));
	assert_int_equal(e.mtime, 1703412000);
	char s4[] = "lrwxrwxrwx 1 o g 7 Jan 31 12:34 link -> target";
	assert_true(ftp_parse_list(s4, now, &e));
	assert_int_equal(e.type, 'l');
	assert_string_equal(e.name, "link");
	char s5[] = "total 12";
	assert_false(ftp_parse_list(s5, now, &e));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s3_connection),
		cmocka_unit_test(test_ftp_connection),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_s3_xml),
		cmocka_unit_test(test_ftp_listings),
	};
	return cmocka_run_group_tests_name("objstore", tests, setup, teardown);
}
