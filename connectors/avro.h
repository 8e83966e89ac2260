/* Avro object container files (Avro 1.11 specification, "Object Container
 * Files"): the binary encoding of values, and a writer and a reader of the
 * container (magic, header map with avro.schema and avro.codec, 16-byte sync
 * marker, blocks of count, size, data, sync), codecs null, deflate (raw
 * deflate, zlib) and snappy (each block followed by the big-endian CRC32 of
 * its uncompressed data). Knows nothing of tables: the caller gives the
 * schema's JSON and encodes the records itself.
 *
 * Written here rather than with Apache avro-c 1.11, whose file writer drops
 * every logicalType (and precision, scale) from the schema it puts in the
 * header and compresses deflate blocks at level 9 only. */
#ifndef SLUICE_AVRO_H
#define SLUICE_AVRO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"

enum avro_codec { AVRO_CODEC_NULL, AVRO_CODEC_DEFLATE, AVRO_CODEC_SNAPPY };

/* "null", "deflate", "snappy" to a codec: 0, or -1 for another name. */
int avro_codec_parse(const char *name, enum avro_codec *out);
const char *avro_codec_name(enum avro_codec c);

/* ---- encoding: a growable byte buffer ------------------------------------ */

struct avro_buf {
	unsigned char *p;
	size_t len, cap;
};

/* Makes room for n more bytes. */
void avro_buf_grow(struct avro_buf *b, size_t n);
void avro_buf_free(struct avro_buf *b);

static inline void avro_buf_need(struct avro_buf *b, size_t n)
{
	if (b->cap - b->len < n)
		avro_buf_grow(b, n);
}

/* A long or an int: zig-zag, then 7 bits a byte, low first. */
static inline void avro_put_long(struct avro_buf *b, int64_t v)
{
	avro_buf_need(b, 10);
	uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
	unsigned char *p = b->p + b->len;
	while (z >= 0x80) {
		*p++ = (unsigned char)(z | 0x80);
		z >>= 7;
	}
	*p++ = (unsigned char)z;
	b->len = (size_t)(p - b->p);
}

/* bytes and string: the length, then the bytes. */
static inline void avro_put_bytes(struct avro_buf *b, const void *s, size_t n)
{
	avro_put_long(b, (int64_t)n);
	avro_buf_need(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static inline void avro_put_raw(struct avro_buf *b, const void *s, size_t n)
{
	avro_buf_need(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* ---- decoding: a cursor over bytes ---------------------------------------- */

struct avro_cur {
	const unsigned char *p, *end;
};

/* 0, or -1 when the varint is longer than 10 bytes or runs past the end. */
static inline int avro_get_long(struct avro_cur *c, int64_t *v)
{
	uint64_t z = 0;
	for (int shift = 0; shift < 70; shift += 7) {
		if (c->p >= c->end)
			return -1;
		unsigned ch = *c->p++;
		z |= (uint64_t)(ch & 0x7f) << shift;
		if (!(ch & 0x80)) {
			*v = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
			return 0;
		}
	}
	return -1;
}

/* bytes or string: *s points into the cursor's bytes. 0 or -1 (a bad length
 * or one that runs past the end). */
static inline int avro_get_bytes(struct avro_cur *c, const unsigned char **s, size_t *n)
{
	int64_t len;
	if (avro_get_long(c, &len) < 0 || len < 0 || len > c->end - c->p)
		return -1;
	*s = c->p;
	*n = (size_t)len;
	c->p += len;
	return 0;
}

/* ---- the writer ------------------------------------------------------------ */

/* The writer compresses and writes blocks on threads of its own while the
 * caller encodes the next ones: a pipeline of a few blocks (memory stays
 * bounded whatever the rows). */
struct avro_writer;

struct avro_writer_opts {
	enum avro_codec codec;
	int level;           /* deflate: zlib level 1-9 (0: the default, 1) */
	int threads;         /* compressing threads, 1 or more (0: 1) */
	size_t block_size;   /* uncompressed bytes a block holds (0: the default) */
	/* the number of records and the CRC32 of every block's uncompressed
	 * data in the header, as "sluice.rows" (20 digits) and "sluice.crc32"
	 * (8 hex digits), written in place by finish (fd must be a new regular
	 * file): so that a file cut short at a block boundary can be told from
	 * a whole one, and a changed byte found in a deflate or null block,
	 * which have no checksum of their own */
	bool counts_in_header;
};

/* The header entries counts_in_header writes. */
#define AVRO_META_ROWS "sluice.rows"
#define AVRO_META_CRC "sluice.crc32"

/* Writes the header (schema_json as avro.schema, the codec, a new sync
 * marker) to fd and starts the threads. NULL with err set when that fails.
 * fd stays the caller's. */
struct avro_writer *avro_writer_new(int fd, const char *schema_json, const struct avro_writer_opts *o,
				    struct err *err);
/* The buffer the caller encodes the current record into. */
struct avro_buf *avro_writer_buf(struct avro_writer *w);
/* Ends the record just encoded: when the block is full it goes to the
 * threads and the buffer is a fresh one (reread avro_writer_buf). 0, or -1
 * with err set when a thread failed to write. */
int avro_writer_row(struct avro_writer *w, struct err *err);
/* Writes the last block and waits for the threads. 0 or -1 with err set. */
int avro_writer_finish(struct avro_writer *w, struct err *err);
/* Stops the threads (when finish was not called) and frees; NULL is fine. */
void avro_writer_free(struct avro_writer *w);
/* Records, blocks and bytes written so far (the header included). */
void avro_writer_stats(struct avro_writer *w, int64_t *rows, int64_t *blocks, int64_t *bytes);

/* ---- the reader ------------------------------------------------------------ */

struct avro_reader;

/* Reads the header of the container on fd (name for messages). NULL with err
 * set ("not an Avro object container file (bad magic)", an unknown codec, a
 * short header). fd stays the caller's. */
struct avro_reader *avro_reader_open(int fd, const char *name, struct err *err);
void avro_reader_free(struct avro_reader *r);
/* A header entry (avro.schema, avro.codec, ...), not NUL-terminated; NULL
 * when absent. */
const char *avro_reader_meta(const struct avro_reader *r, const char *key, size_t *len);
enum avro_codec avro_reader_codec(const struct avro_reader *r);
/* The next block, decompressed: *data valid until the next call. 1 with a
 * block, 0 at the end of the file, -1 with err naming the block (from 1)
 * and its byte offset: a short read, a bad count or length, a bad varint, a
 * sync marker that is not the header's, data that does not decompress, a
 * CRC that does not match. */
int avro_reader_next(struct avro_reader *r, struct avro_cur *data, int64_t *count, struct err *err);
/* The current block's number (from 1) and the offset of its first byte in
 * the file: for errors found while decoding it. */
int64_t avro_reader_block_no(const struct avro_reader *r);
/* The CRC32 of the uncompressed data of the blocks read so far. */
uint32_t avro_reader_crc(const struct avro_reader *r);
int64_t avro_reader_block_off(const struct avro_reader *r);

#endif
