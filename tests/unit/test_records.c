/* Unit tests: the streaming record readers (CSV edge cases of RFC 4180 and
 * beyond, encodings, malformed records, JSON Lines, JSON arrays, gzip,
 * stdin) and flat memory over a large file. */
#include "tests/unit/unit.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "base/util.h"
#include "connectors/records.h"

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/sluice-rec-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Writes len bytes to tmpdir/name; returns the path (owned by the caller). */
static char *put(const char *name, const char *data, size_t len)
{
	char *path = path_join(tmpdir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	return path;
}

/* Every record of a reader as one line of text:
 *   "L<line>: f1|f2|..."  fields; \N for NULL, "<q>" after a quoted field
 *   "L<line>! <error> [col K] raw=<raw>"  for a malformed record */
static char *dump_reader(struct rec_reader *r)
{
	struct strbuf b = {0};
	struct record rec;
	struct err err = {0};
	int rc;
	while ((rc = rec_next(r, &rec, &err)) == 1) {
		if (rec.error) {
			sb_addf(&b, "L%lld! %s", (long long)rec.line, rec.error);
			if (rec.error_col)
				sb_addf(&b, " [col %d]", rec.error_col);
			sb_adds(&b, " raw=");
			sb_add(&b, rec.raw, rec.raw_len);
			sb_addc(&b, '\n');
			continue;
		}
		sb_addf(&b, "L%lld: ", (long long)rec.line);
		for (size_t i = 0; i < rec.n; i++) {
			if (i)
				sb_addc(&b, '|');
			if (!rec.fields[i])
				sb_adds(&b, "\\N");
			else {
				assert_int_equal(strlen(rec.fields[i]), rec.lens[i]);
				sb_add(&b, rec.fields[i], rec.lens[i]);
			}
			if (rec.quoted && rec.quoted[i])
				sb_adds(&b, "<q>");
		}
		sb_addc(&b, '\n');
	}
	if (rc < 0)
		sb_addf(&b, "ERROR %s\n", err.msg);
	return sb_steal(&b);
}

static char *dump_opts(const char *name, const char *data, size_t len, const struct rec_opts *o)
{
	char *path = put(name, data, len);
	struct rec_reader *r;
	struct err err = {0};
	if (rec_open(path, o, &r, &err) < 0) {
		free(path);
		return xasprintf("OPEN %s\n", err.msg);
	}
	char *s = dump_reader(r);
	rec_close(r);
	free(path);
	return s;
}

static char *dump(const char *data)
{
	return dump_opts("t.csv", data, strlen(data), NULL);
}

#define assert_dump(got, want)                   \
	do {                                     \
		char *g_ = (got);                \
		assert_string_equal(g_, (want)); \
		free(g_);                        \
	} while (0)

/* ---- CSV ------------------------------------------------------------------ */

static void test_csv_basic(void **state)
{
	(void)state;
	assert_dump(dump("a,b,c\n1,2,3\n4,5,6\n"), "L2: 1|2|3\nL3: 4|5|6\n");
	/* no newline after the last record */
	assert_dump(dump("a,b\n1,2\n3,4"), "L2: 1|2\nL3: 3|4\n");
	/* only a header */
	assert_dump(dump("a,b\n"), "");
	assert_dump(dump(""), "");
}

static void test_csv_columns(void **state)
{
	(void)state;
	char *path = put("c.csv", "id,name\n1,x\n", 12);
	struct rec_reader *r;
	struct err err = {0};
	assert_int_equal(rec_open(path, NULL, &r, &err), 0);
	size_t n;
	rec_columns(r, &n);
	assert_int_equal(n, 0);
	struct record rec;
	assert_int_equal(rec_next(r, &rec, &err), 1);
	const char *const *cols = rec_columns(r, &n);
	assert_int_equal(n, 2);
	assert_string_equal(cols[0], "id");
	assert_string_equal(cols[1], "name");
	assert_int_equal(rec.offset, 8);
	assert_int_equal(rec.raw_len, 3);
	assert_memory_equal(rec.raw, "1,x", 3);
	assert_int_equal(rec_next(r, &rec, &err), 0);
	rec_close(r);
	free(path);
}

static void test_csv_quoting(void **state)
{
	(void)state;
	/* quoted delimiter, doubled quotes, quoted newline */
	assert_dump(dump("a,b\n\"x,y\",\"say \"\"hi\"\"\"\n\"multi\nline\",z\n"),
		    "L2: x,y<q>|say \"hi\"<q>\nL3: multi\nline<q>|z\n");
	/* empty quoted field vs empty field */
	assert_dump(dump("a,b,c\n\"\",,x\n"), "L2: <q>||x\n");
	/* a quote inside an unquoted field is text */
	assert_dump(dump("a,b\n5\" disk,ok\n"), "L2: 5\" disk|ok\n");
	/* text after a closing quote is an error */
	assert_dump(dump("a,b\n\"ab\"c,d\nok,1\n"),
		    "L2! text after the closing quote of field 1 [col 1] raw=\"ab\"c,d\nL3: ok|1\n");
	/* a trailing delimiter means one more, empty, field */
	assert_dump(dump("a,b,c\n1,2,\n"), "L2: 1|2|\n");
	/* quoted CRLF inside a field is kept */
	assert_dump(dump("a,b\r\n\"x\r\ny\",2\r\n"), "L2: x\r\ny<q>|2\n");
}

static void test_csv_line_endings(void **state)
{
	(void)state;
	assert_dump(dump("a,b\r\n1,2\r\n3,4\r\n"), "L2: 1|2\nL3: 3|4\n");
	assert_dump(dump("a,b\r\n1,2\r\n3,4"), "L2: 1|2\nL3: 3|4\n");
	/* a lone CR ends a record too */
	assert_dump(dump("a,b\r1,2\r3,4\r"), "L2: 1|2\nL3: 3|4\n");
	/* blank lines are skipped, and still counted */
	assert_dump(dump("a,b\n\n1,2\n\r\n3,4\n\n"), "L3: 1|2\nL5: 3|4\n");
	/* the line of a record after quoted newlines */
	assert_dump(dump("a,b\n\"1\n2\n3\",x\ny,z\n\"\n\",w\nlast,1\n"),
		    "L2: 1\n2\n3<q>|x\nL5: y|z\nL6: \n<q>|w\nL8: last|1\n");
}

static void test_csv_bom_and_header(void **state)
{
	(void)state;
	assert_dump(dump("\xEF\xBB\xBFid,v\n1,2\n"), "L2: 1|2\n");
	/* blank lines before the header are not the header */
	assert_dump(dump("\n\r\nid,v\n1,2\n"), "L4: 1|2\n");
	char *path = put("bom.csv", "\xEF\xBB\xBFid,v\n1,2\n", 13);
	struct rec_reader *r;
	struct err err = {0};
	assert_int_equal(rec_open(path, NULL, &r, &err), 0);
	struct record rec;
	assert_int_equal(rec_next(r, &rec, &err), 1);
	size_t n;
	const char *const *cols = rec_columns(r, &n);
	assert_string_equal(cols[0], "id");
	rec_close(r);
	free(path);

	/* headerless with declared columns: the first line is data */
	static const char *const cols3[] = {"x", "y", "z"};
	struct rec_opts o;
	rec_opts_init(&o);
	o.header = false;
	o.columns = cols3;
	o.n_columns = 3;
	assert_dump(dump_opts("h.csv", "1,2,3\n4,5\n", 10, &o), "L1: 1|2|3\nL2! expected 3 fields, got 2 raw=4,5\n");
	/* headerless without columns cannot be read */
	o.columns = NULL;
	o.n_columns = 0;
	char *s = dump_opts("h2.csv", "1,2\n", 4, &o);
	assert_non_null(strstr(s, "needs declared columns"));
	free(s);
}

static void test_csv_options(void **state)
{
	(void)state;
	struct rec_opts o;
	rec_opts_init(&o);
	o.delimiter = ';';
	o.quote = '\'';
	const char *t = "a;b\n'x;y';'it''s'\n\"q\";2\n";
	assert_dump(dump_opts("o.csv", t, strlen(t), &o), "L2: x;y<q>|it's<q>\nL3: \"q\"|2\n");
	o.delimiter = '\t';
	o.quote = '"';
	t = "a\tb\n1,5\t\"t\tab\"\n";
	assert_dump(dump_opts("o.tsv", t, strlen(t), &o), "L2: 1,5|t\tab<q>\n");
	o.delimiter = '"';
	char *s = dump_opts("bad.csv", "x", 1, &o);
	assert_non_null(strstr(s, "must differ"));
	free(s);
}

static void test_csv_latin1(void **state)
{
	(void)state;
	struct rec_opts o;
	rec_opts_init(&o);
	o.encoding = REC_LATIN1;
	const char *t = "name,city\nJos\xe9,M\xfcnchen\n";
	assert_dump(dump_opts("l.csv", t, strlen(t), &o), "L2: Jos\xc3\xa9|M\xc3\xbcnchen\n");
	/* over many read buffers, with every byte above 0x7f */
	struct strbuf b = {0}, want = {0};
	sb_adds(&b, "a,b\n");
	for (int i = 0; i < 200000; i++) {
		unsigned char c = (unsigned char)(0x80 + i % 128);
		sb_addf(&b, "%d,%c%c\n", i, c, c);
		sb_addf(&want, "L%d: %d|%c%c%c%c\n", i + 2, i, 0xC0 | (c >> 6), 0x80 | (c & 0x3F), 0xC0 | (c >> 6),
			0x80 | (c & 0x3F));
	}
	assert_dump(dump_opts("l2.csv", b.s, b.len, &o), want.s);
	sb_free(&b);
	sb_free(&want);
}

static void test_csv_invalid_utf8(void **state)
{
	(void)state;
	/* field 2 byte 3; the record's raw text has U+FFFD in place of the byte */
	assert_dump(dump("a,b\nok,ab\xff" "c\nnext,1\n"),
		    "L2! invalid UTF-8 at byte 3 of field 2 [col 2] raw=ok,ab\xEF\xBF\xBD" "c\nL3: next|1\n");
	/* a truncated sequence, an overlong encoding, a surrogate */
	assert_dump(dump("a\n\xc3\n"), "L2! invalid UTF-8 at byte 1 of field 1 [col 1] raw=\xEF\xBF\xBD\n");
	assert_dump(dump("a\n\xc0\xaf\n"),
		    "L2! invalid UTF-8 at byte 1 of field 1 [col 1] raw=\xEF\xBF\xBD\xEF\xBF\xBD\n");
	assert_dump(dump("a\n\"\xed\xa0\x80\"\n"),
		    "L2! invalid UTF-8 at byte 1 of field 1 [col 1] raw=\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"\n");
	/* valid multibyte text of every length */
	assert_dump(dump("a\n\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n"), "L2: \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n");
}

static void test_csv_nul(void **state)
{
	(void)state;
	assert_dump(dump_opts("n.csv", "a,b\nx,y\0z\n1,2\n", 14, NULL),
		    "L2! NUL byte at byte 2 of field 2 [col 2] raw=x,y\xEF\xBF\xBDz\nL3: 1|2\n");
}

static void test_csv_ragged_and_unterminated(void **state)
{
	(void)state;
	assert_dump(dump("a,b,c,d,e\n1,2,3,4\n1,2,3,4,5,6\n1,2,3,4,5\n"),
		    "L2! expected 5 fields, got 4 raw=1,2,3,4\nL3! expected 5 fields, got 6 raw=1,2,3,4,5,6\n"
		    "L4: 1|2|3|4|5\n");
	assert_dump(dump("a,b\n1,2\n3,\"open\nstill open\n"),
		    "L2: 1|2\nL3! unterminated quoted field 2 [col 2] raw=3,\"open\nstill open\n\n");
}

static void test_csv_overlong_field(void **state)
{
	(void)state;
	struct rec_opts o;
	rec_opts_init(&o);
	o.max_field = 8;
	const char *t = "a,b\n"
			"1,0123456789abcdef,more\n"
			"2,ok\n"
			"3,\"quoted 0123456789\n,\"\"still\"\" inside\nand here\",tail\n"
			"4,ok\n";
	assert_dump(dump_opts("long.csv", t, strlen(t), &o),
		    "L2! field 2 is longer than 8 bytes [col 2] raw=1,0123456789abcdef\n"
		    "L3: 2|ok\n"
		    "L4! field 2 is longer than 8 bytes [col 2] raw=3,\"quoted 0123456789\n"
		    "L7: 4|ok\n");

	/* a field far larger than the read buffer: the reader never holds it */
	rec_opts_init(&o);
	o.max_field = 1000;
	size_t big = 5u << 20;
	char *data = xmalloc(big + 64);
	size_t n = (size_t)sprintf(data, "a,b\n1,");
	memset(data + n, 'x', big);
	n += big;
	n += (size_t)sprintf(data + n, "\n2,fine\n");
	char *path = put("huge.csv", data, n);
	free(data);
	struct rec_reader *r;
	struct err err = {0};
	assert_int_equal(rec_open(path, &o, &r, &err), 0);
	struct record rec;
	assert_int_equal(rec_next(r, &rec, &err), 1);
	assert_string_equal(rec.error, "field 2 is longer than 1000 bytes");
	assert_true(rec.raw_len < (2u << 20));
	assert_int_equal(rec_next(r, &rec, &err), 1);
	assert_null(rec.error);
	assert_int_equal(rec.line, 3);
	assert_string_equal(rec.fields[1], "fine");
	assert_true(rec_buffer_size(r) < (8u << 20));
	assert_int_equal(rec_next(r, &rec, &err), 0);
	rec_close(r);
	free(path);
}

static void test_csv_big_record(void **state)
{
	(void)state;
	/* a record larger than the read buffer but within max_field is read whole */
	size_t big = 3u << 20;
	struct rec_opts o;
	rec_opts_init(&o);
	o.max_field = 4u << 20;
	char *data = xmalloc(big + 64);
	size_t n = (size_t)sprintf(data, "a,b\n1,\"");
	memset(data + n, 'y', big);
	data[n + 100] = '\n';
	n += big;
	n += (size_t)sprintf(data + n, "\"\n2,z\n");
	char *path = put("bigrec.csv", data, n);
	free(data);
	struct rec_reader *r;
	struct err err = {0};
	assert_int_equal(rec_open(path, &o, &r, &err), 0);
	struct record rec;
	assert_int_equal(rec_next(r, &rec, &err), 1);
	assert_null(rec.error);
	assert_int_equal(rec.lens[1], big);
	assert_int_equal(rec.fields[1][100], '\n');
	assert_int_equal(rec_next(r, &rec, &err), 1);
	assert_int_equal(rec.line, 4);
	assert_string_equal(rec.fields[0], "2");
	rec_close(r);
	free(path);
}

/* ---- JSON ----------------------------------------------------------------- */

static void test_jsonl(void **state)
{
	(void)state;
	const char *t = "{\"id\": 1, \"name\": \"a\", \"score\": 1.5, \"ok\": true, \"tags\": [1, \"x\"], \"m\": {\"k\": null}}\n"
			"\n"
			"{\"name\": \"b\", \"id\": 2, \"score\": null, \"ok\": false, \"extra\": 9}\r\n"
			"{not json}\n"
			"[1, 2]\n"
			"{\"id\": 3, \"name\": \"caf\xc3\xa9\", \"score\": 0.1}";
	assert_dump(dump_opts("t.jsonl", t, strlen(t), NULL),
		    "L1: 1|a<q>|1.5|true|[1,\"x\"]|{\"k\":null}\n"
		    "L3: 2|b<q>|\\N|false|\\N|\\N\n"
		    "L4! invalid JSON at column 4: string or '}' expected near 'not' raw={not json}\n"
		    "L5! expected a JSON object, got an array raw=[1, 2]\n"
		    "L6: 3|caf\xc3\xa9<q>|0.1|\\N|\\N|\\N\n");

	/* declared columns choose and order the fields */
	static const char *const cols[] = {"name", "id"};
	struct rec_opts o;
	rec_opts_init(&o);
	o.columns = cols;
	o.n_columns = 2;
	t = "{\"id\": 7, \"name\": \"z\", \"other\": 1}\n{\"id\": 8}\n";
	assert_dump(dump_opts("d.ndjson", t, strlen(t), &o), "L1: z<q>|7\nL2: \\N|8\n");
	/* an empty string is a value (quoted), null is NULL */
	t = "{\"id\": \"\", \"name\": null}\n";
	assert_dump(dump_opts("e.jsonl", t, strlen(t), &o), "L1: \\N|<q>\n");
	/* invalid UTF-8 is a record error, the next line is fine */
	t = "{\"id\": \"\xff\"}\n{\"id\": \"ok\"}\n";
	char *s = dump_opts("u.jsonl", t, strlen(t), &o);
	assert_non_null(strstr(s, "L1! invalid JSON"));
	assert_non_null(strstr(s, "L2: \\N|ok<q>\n"));
	free(s);
}

static void test_json_array(void **state)
{
	(void)state;
	const char *t = "[\n"
			"  {\"id\": 1, \"v\": \"a\"},\n"
			"  {\"id\": 2,\n   \"v\": \"b, [c]\\\" }\"},\n"
			"  {\"id\": 3, \"v\": {\"deep\": [1, {\"x\": \"]\"}]}}\n"
			"]\n";
	assert_dump(dump_opts("t.json", t, strlen(t), NULL),
		    "L2: 1|a<q>\nL3: 2|b, [c]\" }<q>\nL5: 3|{\"deep\":[1,{\"x\":\"]\"}]}\n");
	assert_dump(dump_opts("e.json", "[]", 2, NULL), "");
	assert_dump(dump_opts("e2.json", "  [ ]  \n", 8, NULL), "");
	/* objects one after another in a .json file read like JSON Lines */
	t = "{\"a\": 1}\n{\"a\": 2} {\"a\": 3}\n";
	assert_dump(dump_opts("seq.json", t, strlen(t), NULL), "L1: 1\nL2: 2\nL2: 3\n");
	/* a bad element is a record error; the array goes on */
	t = "[{\"a\": 1}, {\"a\": tru}, 5, {\"a\": 4}]";
	assert_dump(dump_opts("bad.json", t, strlen(t), NULL),
		    "L1: 1\nL1! invalid JSON at column 9: invalid token near 'tru' raw={\"a\": tru}\n"
		    "L1! expected a JSON object, got a number raw=5\nL1: 4\n");
	/* a missing comma or a cut-off array stops the file with a record error */
	t = "[{\"a\": 1} {\"a\": 2}]";
	assert_dump(dump_opts("comma.json", t, strlen(t), NULL),
		    "L1: 1\nL1! expected ',' or ']' after an array element raw={\"a\": 2}]\n");
	t = "[{\"a\": 1},\n{\"a\": 2";
	assert_dump(dump_opts("cut.json", t, strlen(t), NULL),
		    "L1: 1\nL2! invalid JSON at column 7: '}' expected near end of file raw={\"a\": 2\n");
	t = "[{\"a\": 1},\n";
	assert_dump(dump_opts("cut2.json", t, strlen(t), NULL), "L1: 1\nL2! unterminated JSON array raw=\n");
	char *s = dump_opts("notarr.json", "42", 2, NULL);
	assert_non_null(strstr(s, "expected a JSON array of objects"));
	free(s);
}

static void test_json_array_streams(void **state)
{
	(void)state;
	/* 100k objects through the 1 MiB buffer: read in order, memory flat */
	struct strbuf b = {0};
	sb_adds(&b, "[");
	for (int i = 0; i < 100000; i++)
		sb_addf(&b, "%s{\"id\": %d, \"name\": \"name %d\", \"amount\": %d.25}\n", i ? "," : "", i, i, i);
	sb_adds(&b, "]");
	char *path = put("many.json", b.s, b.len);
	sb_free(&b);
	struct rec_reader *r;
	struct err err = {0};
	assert_int_equal(rec_open(path, NULL, &r, &err), 0);
	struct record rec;
	int n = 0;
	while (rec_next(r, &rec, &err) == 1) {
		assert_null(rec.error);
		assert_int_equal(atoi(rec.fields[0]), n);
		assert_int_equal(rec.line, n + 1);
		n++;
	}
	assert_int_equal(n, 100000);
	assert_true(rec_buffer_size(r) < (3u << 20));
	rec_close(r);
	free(path);
}

/* ---- gzip and stdin ------------------------------------------------------- */

static char *put_gz(const char *name, const char *data, size_t len, int members)
{
	char *path = path_join(tmpdir, name);
	for (int m = 0; m < members; m++) {
		gzFile g = gzopen(path, m ? "ab" : "wb");
		assert_non_null(g);
		size_t part = len / (size_t)members, from = part * (size_t)m;
		if (m == members - 1)
			part = len - from;
		assert_int_equal(gzwrite(g, data + from, (unsigned)part), (int)part);
		gzclose(g);
	}
	return path;
}

static void test_gzip(void **state)
{
	(void)state;
	struct strbuf b = {0};
	sb_adds(&b, "id,text\n");
	for (int i = 0; i < 50000; i++)
		sb_addf(&b, "%d,\"row %d, with a comma\"\n", i, i);
	const char *names[] = {"data.csv.gz", "data_no_suffix.csv"};
	for (int k = 0; k < 2; k++) {
		char *path = put_gz(names[k], b.s, b.len, k + 1);
		struct rec_reader *r;
		struct err err = {0};
		assert_int_equal(rec_open(path, NULL, &r, &err), 0);
		struct record rec;
		int n = 0;
		int rc;
		while ((rc = rec_next(r, &rec, &err)) == 1) {
			assert_null(rec.error);
			assert_int_equal(atoi(rec.fields[0]), n);
			n++;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(n, 50000);
		int64_t done, size;
		rec_progress(r, &done, &size);
		assert_true(size > 0);
		assert_int_equal(done, size);
		assert_true(size < (int64_t)b.len / 2);
		rec_close(r);
		free(path);
	}
	/* gzip JSON Lines by name */
	const char *j = "{\"a\": \"x\"}\n{\"a\": \"y\"}\n";
	char *path = put_gz("t.jsonl.gz", j, strlen(j), 1);
	struct rec_reader *r;
	struct err err = {0};
	assert_int_equal(rec_open(path, NULL, &r, &err), 0);
	assert_dump(dump_reader(r), "L1: x<q>\nL2: y<q>\n");
	rec_close(r);
	free(path);
	/* a damaged file is an error of the file */
	path = put_gz("cut.csv.gz", b.s, b.len, 1);
	FILE *f = fopen(path, "r+b");
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	assert_int_equal(ftruncate(fileno(f), size / 2), 0);
	fclose(f);
	assert_int_equal(rec_open(path, NULL, &r, &err), 0);
	char *s = dump_reader(r);
	assert_non_null(strstr(s, "ERROR "));
	assert_non_null(strstr(s, "unexpected end of compressed data"));
	free(s);
	rec_close(r);
	free(path);
	sb_free(&b);
}

static void test_stdin(void **state)
{
	(void)state;
	char *path = put("in.csv", "a,b\n1,2\n", 8);
	int saved = dup(0);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	dup2(fd, 0);
	close(fd);
	struct rec_reader *r;
	struct err err = {0};
	assert_int_equal(rec_open("-", NULL, &r, &err), 0);
	assert_dump(dump_reader(r), "L2: 1|2\n");
	rec_close(r);
	dup2(saved, 0);
	close(saved);
	free(path);

	assert_int_equal(rec_open("/nonexistent/x.csv", NULL, &r, &err), ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, "/nonexistent/x.csv"));
}

/* Random valid records (quotes, doubled quotes, CRLF and LF, newlines in
 * quotes, multibyte UTF-8) over several read buffers: every field comes
 * back as written wherever the buffer boundaries fall. */
static void test_csv_random_boundaries(void **state)
{
	(void)state;
	static const char *const pieces[] = {"a", "xyz", ",", "\"", "\n", "\r\n", "\xc3\xa9", "\xe2\x82\xac",
					     "\xf0\x9f\x98\x80", " ", "0123456789"};
	unsigned seed = 12345;
	struct strbuf file = {0}, want = {0};
	sb_adds(&file, "a,b,c\n");
	int line = 2, nrec = 0;
	while (file.len < (3u << 20) + 4321) {
		int rec_line = line;
		struct strbuf fields = {0};
		for (int f = 0; f < 3; f++) {
			struct strbuf v = {0};
			int n = (int)(rand_r(&seed) % 12);
			bool quoted = false;
			for (int k = 0; k < n; k++) {
				const char *pc = pieces[rand_r(&seed) % (sizeof pieces / sizeof *pieces)];
				if (strpbrk(pc, ",\"\n\r"))
					quoted = true;
				sb_adds(&v, pc);
			}
			if (!quoted && rand_r(&seed) % 5 == 0)
				quoted = true;
			if (f)
				sb_addc(&file, ',');
			if (quoted) {
				sb_addc(&file, '"');
				for (size_t k = 0; k < v.len; k++) {
					if (v.s[k] == '"')
						sb_addc(&file, '"');
					if (v.s[k] == '\n')
						line++;
					sb_addc(&file, v.s[k]);
				}
				sb_addc(&file, '"');
			} else if (v.len)
				sb_add(&file, v.s, v.len);
			sb_addf(&fields, "%s", f ? "|" : "");
			if (v.len)
				sb_add(&fields, v.s, v.len);
			if (quoted)
				sb_adds(&fields, "<q>");
			sb_free(&v);
		}
		/* a record of one empty unquoted field would be a blank line */
		sb_adds(&file, rand_r(&seed) % 2 ? "\r\n" : "\n");
		line++;
		sb_addf(&want, "L%d: %s\n", rec_line, fields.s);
		sb_free(&fields);
		nrec++;
	}
	assert_true(nrec > 10000);
	assert_dump(dump_opts("random.csv", file.s, file.len, NULL), want.s);
	/* and the same through gzip */
	char *path = put_gz("random.csv.gz", file.s, file.len, 1);
	struct rec_reader *r;
	struct err err = {0};
	assert_int_equal(rec_open(path, NULL, &r, &err), 0);
	assert_dump(dump_reader(r), want.s);
	rec_close(r);
	free(path);
	sb_free(&file);
	sb_free(&want);
}

/* ---- a large file --------------------------------------------------------- */

static void test_large_file_flat_memory(void **state)
{
	(void)state;
	/* 200k records of about 100 bytes, some quoted */
	char *path = path_join(tmpdir, "large.csv");
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("id,name,email,amount,created_at,status\n", f);
	for (int i = 0; i < 200000; i++)
		fprintf(f, "%d,\"Customer %06d, Ltd\",customer%06d@example.com,%d.%02d,2024-01-%02dT10:%02d:00Z,active\n",
			i, i, i, i % 100000, i % 100, 1 + i % 28, i % 60);
	long bytes = ftell(f);
	fclose(f);

	struct rec_reader *r;
	struct err err = {0};
	assert_int_equal(rec_open(path, NULL, &r, &err), 0);
	struct record rec;
	int64_t n = 0;
	size_t first_size = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (rec_next(r, &rec, &err) == 1) {
		if (rec.error)
			fail_msg("line %lld: %s", (long long)rec.line, rec.error);
		if (n == 1000)
			first_size = rec_buffer_size(r);
		if (n % 50000 == 0)
			assert_int_equal(atoi(rec.fields[0]), n);
		n++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(n, 200000);
	/* the buffers did not grow after the first records */
	assert_int_equal(rec_buffer_size(r), first_size);
	assert_true(first_size < (4u << 20));
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("# csv: %ld bytes, %lld records in %.3f s: %.0f MB/s, %.0f records/s\n", bytes, (long long)n, secs,
	       (double)bytes / 1e6 / secs, (double)n / secs);
	rec_close(r);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_basic),
		cmocka_unit_test(test_csv_columns),
		cmocka_unit_test(test_csv_quoting),
		cmocka_unit_test(test_csv_line_endings),
		cmocka_unit_test(test_csv_bom_and_header),
		cmocka_unit_test(test_csv_options),
		cmocka_unit_test(test_csv_latin1),
		cmocka_unit_test(test_csv_invalid_utf8),
		cmocka_unit_test(test_csv_nul),
		cmocka_unit_test(test_csv_ragged_and_unterminated),
		cmocka_unit_test(test_csv_overlong_field),
		cmocka_unit_test(test_csv_big_record),
		cmocka_unit_test(test_jsonl),
		cmocka_unit_test(test_json_array),
		cmocka_unit_test(test_json_array_streams),
		cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_stdin),
		cmocka_unit_test(test_csv_random_boundaries),
		cmocka_unit_test(test_large_file_flat_memory),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
