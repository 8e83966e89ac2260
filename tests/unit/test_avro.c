/* The Avro container (connectors/avro.c) and the numeric conversions
 * (core/avronum.c): varints at their edges, records written and read back
 * with each codec across many blocks, a corrupt block named, and numerics
 * through PostgreSQL's binary form and Avro's decimal and back. */
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connectors/avro.h"
#include "core/avromap.h"

static void test_varints(void **state)
{
	(void)state;
	const int64_t v[] = {0, 1, -1, 63, -64, 64, 300, -300, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN};
	struct avro_buf b = {0};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		avro_put_long(&b, v[i]);
	assert_int_equal(b.p[0], 0);
	assert_int_equal(b.p[1], 2);
	assert_int_equal(b.p[2], 1);
	struct avro_cur c = {b.p, b.p + b.len};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		int64_t got;
		assert_int_equal(avro_get_long(&c, &got), 0);
		assert_true(got == v[i]);
	}
	int64_t x;
	assert_int_equal(avro_get_long(&c, &x), -1); /* the end */
	unsigned char bad[11];
	memset(bad, 0xff, sizeof bad);
	struct avro_cur cb = {bad, bad + sizeof bad};
	assert_int_equal(avro_get_long(&cb, &x), -1); /* longer than 10 bytes */
	avro_buf_free(&b);
}

/* Writes n records (a long and a string each) with codec to a temporary
 * file; returns its fd, at the start. */
static int write_file(enum avro_codec codec, int n, int threads)
{
	char path[] = "/tmp/test_avro.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	struct avro_writer_opts o = {.codec = codec, .threads = threads, .block_size = 4096, .counts_in_header = true};
	struct err e = {0};
	struct avro_writer *w = avro_writer_new(fd, "{\"type\":\"record\",\"name\":\"r\",\"fields\":[]}", &o, &e);
	assert_non_null(w);
	char s[64];
	for (int i = 0; i < n; i++) {
		struct avro_buf *b = avro_writer_buf(w);
		avro_put_long(b, (int64_t)i * 7919 - 1000000);
		int len = snprintf(s, sizeof s, "row %d of the test", i);
		avro_put_bytes(b, s, (size_t)len);
		assert_int_equal(avro_writer_row(w, &e), 0);
	}
	assert_int_equal(avro_writer_finish(w, &e), 0);
	int64_t rows, blocks, bytes;
	avro_writer_stats(w, &rows, &blocks, &bytes);
	assert_int_equal(rows, n);
	assert_true(blocks > 10);
	assert_int_equal(bytes, lseek(fd, 0, SEEK_END));
	avro_writer_free(w);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static void test_round_trip(void **state)
{
	(void)state;
	const enum avro_codec codecs[] = {AVRO_CODEC_NULL, AVRO_CODEC_DEFLATE, AVRO_CODEC_SNAPPY};
	for (size_t k = 0; k < 3; k++) {
		int fd = write_file(codecs[k], 5000, 2);
		struct err e = {0};
		struct avro_reader *r = avro_reader_open(fd, "t.avro", &e);
		assert_non_null(r);
		assert_int_equal(avro_reader_codec(r), codecs[k]);
		size_t len;
		const char *rows = avro_reader_meta(r, AVRO_META_ROWS, &len);
		assert_non_null(rows);
		assert_int_equal(strtoll(rows, NULL, 10), 5000);
		int i = 0, got;
		struct avro_cur c;
		int64_t count;
		while ((got = avro_reader_next(r, &c, &count, &e)) == 1) {
			for (int64_t j = 0; j < count; j++, i++) {
				int64_t v;
				const unsigned char *s;
				size_t n;
				char want[64];
				assert_int_equal(avro_get_long(&c, &v), 0);
				assert_true(v == (int64_t)i * 7919 - 1000000);
				assert_int_equal(avro_get_bytes(&c, &s, &n), 0);
				snprintf(want, sizeof want, "row %d of the test", i);
				assert_int_equal(n, strlen(want));
				assert_memory_equal(s, want, n);
			}
			assert_ptr_equal(c.p, c.end);
		}
		assert_int_equal(got, 0);
		assert_int_equal(i, 5000);
		const char *crc = avro_reader_meta(r, AVRO_META_CRC, &len);
		assert_non_null(crc);
		assert_int_equal((uint32_t)strtoul(crc, NULL, 16), avro_reader_crc(r));
		avro_reader_free(r);
		close(fd);
	}
}

static void test_corrupt_block(void **state)
{
	(void)state;
	int fd = write_file(AVRO_CODEC_SNAPPY, 3000, 1);
	off_t size = lseek(fd, 0, SEEK_END);
	/* a byte in the middle of the file: some block's data, size or sync */
	unsigned char ch;
	assert_int_equal(pread(fd, &ch, 1, size / 2), 1);
	ch ^= 0x40;
	assert_int_equal(pwrite(fd, &ch, 1, size / 2), 1);
	lseek(fd, 0, SEEK_SET);
	struct err e = {0};
	struct avro_reader *r = avro_reader_open(fd, "t.avro", &e);
	assert_non_null(r);
	struct avro_cur c;
	int64_t count;
	int got;
	while ((got = avro_reader_next(r, &c, &count, &e)) == 1)
		;
	assert_int_equal(got, -1);
	assert_non_null(strstr(e.msg, "t.avro: block "));
	assert_non_null(strstr(e.msg, "(at byte "));
	avro_reader_free(r);
	close(fd);
	/* not a container at all */
	char path[] = "/tmp/test_avro.XXXXXX";
	fd = mkstemp(path);
	unlink(path);
	assert_int_equal(write(fd, "PAR1", 4), 4);
	lseek(fd, 0, SEEK_SET);
	assert_null(avro_reader_open(fd, "p.parquet", &e));
	assert_string_equal(e.msg, "p.parquet: not an Avro object container file (bad magic at byte 0)");
	close(fd);
}

/* text -> binary numeric -> decimal of scale -> binary numeric of dscale:
 * the same bytes as the text's own binary form */
static void numeric_round_trip(const char *text, int scale)
{
	struct avro_buf pg = {0}, dec = {0}, back = {0};
	struct err e = {0};
	assert_int_equal(avnum_text_to_pg(text, strlen(text), &pg, &e), 0);
	bool nan;
	assert_int_equal(avnum_pg_to_decimal(pg.p + 4, pg.len - 4, scale, &dec, &nan, &e), 0);
	assert_false(nan);
	struct avro_cur c = {dec.p, dec.p + dec.len};
	const unsigned char *b = NULL;
	size_t n = 0;
	assert_int_equal(avro_get_bytes(&c, &b, &n), 0);
	assert_int_equal(avnum_decimal_to_pg(b, n, scale, scale, &back, &e), 0);
	if (pg.len != back.len || memcmp(pg.p, back.p, pg.len))
		fail_msg("%s at scale %d does not come back the same", text, scale);
	avro_buf_free(&pg);
	avro_buf_free(&dec);
	avro_buf_free(&back);
}

static void test_numerics(void **state)
{
	(void)state;
	numeric_round_trip("0.00", 2);
	numeric_round_trip("12.34", 2);
	numeric_round_trip("-0.01", 2);
	numeric_round_trip("9999999999.99", 2);
	numeric_round_trip("-9999999999.99", 2);
	numeric_round_trip("127", 0);
	numeric_round_trip("128", 0);
	numeric_round_trip("-128", 0);
	numeric_round_trip("-129", 0);
	numeric_round_trip("10000", 0);
	numeric_round_trip("0.00001", 5);
	numeric_round_trip("99999999999999999999999999999999999999", 0);   /* 38 digits: 128 bits */
	numeric_round_trip("-99999999999999999999999999999999999999", 0);
	numeric_round_trip("123456789012345678901234567890.1234567891", 10); /* 40 digits: the limbs */
	numeric_round_trip("-123456789012345678901234567890.1234567891", 10);
	numeric_round_trip("0.000000000000000000000000000000000000000001", 42);
	/* the decimal's bytes: two's complement, fewest bytes */
	struct avro_buf pg = {0}, dec = {0};
	struct err e = {0};
	bool nan;
	avnum_text_to_pg("-1.28", 5, &pg, &e);
	avnum_pg_to_decimal(pg.p + 4, pg.len - 4, 2, &dec, &nan, &e);
	assert_int_equal(dec.len, 2);
	assert_int_equal(dec.p[1], 0x80); /* -128 in one byte */
	/* NaN: no decimal, a flag */
	pg.len = dec.len = 0;
	avnum_text_to_pg("NaN", 3, &pg, &e);
	assert_int_equal(avnum_pg_to_decimal(pg.p + 4, pg.len - 4, 2, &dec, &nan, &e), 0);
	assert_true(nan);
	/* more decimals than the scale, and infinity, are errors */
	pg.len = 0;
	avnum_text_to_pg("1.234", 5, &pg, &e);
	assert_int_equal(avnum_pg_to_decimal(pg.p + 4, pg.len - 4, 2, &dec, &nan, &e), -1);
	pg.len = 0;
	avnum_text_to_pg("Infinity", 8, &pg, &e);
	assert_int_equal(avnum_pg_to_decimal(pg.p + 4, pg.len - 4, 2, &dec, &nan, &e), -1);
	assert_int_equal(avnum_text_to_pg("1e5", 3, &pg, &e), -1);
	avro_buf_free(&pg);
	avro_buf_free(&dec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_varints),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_corrupt_block),
		cmocka_unit_test(test_numerics),
	};
	return cmocka_run_group_tests_name("avro", tests, NULL, NULL);
}
