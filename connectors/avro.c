/* Avro object container files: the writer's pipeline (the caller encodes a
 * block while threads compress and write the ones before it, in order) and
 * the reader. See connectors/avro.h. */
#include "connectors/avro.h"

#include <errno.h>
#include <pthread.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include "base/util.h"

static const unsigned char MAGIC[4] = {'O', 'b', 'j', 1};
#define SYNC_SIZE 16
#define DEFAULT_BLOCK (256 * 1024)
/* zlib's fastest: on row data it gives within a few percent of level 6's
 * size at under two thirds of its time */
#define DEFAULT_LEVEL 1
/* a block's data or a header entry bigger than this is taken for a corrupt
 * length (the writer's blocks are far smaller) */
#define MAX_BLOCK ((int64_t)1 << 30)

int avro_codec_parse(const char *name, enum avro_codec *out)
{
	if (!strcmp(name, "null"))
		*out = AVRO_CODEC_NULL;
	else if (!strcmp(name, "deflate"))
		*out = AVRO_CODEC_DEFLATE;
	else if (!strcmp(name, "snappy"))
		*out = AVRO_CODEC_SNAPPY;
	else
		return -1;
	return 0;
}

const char *avro_codec_name(enum avro_codec c)
{
	return c == AVRO_CODEC_DEFLATE ? "deflate" : c == AVRO_CODEC_SNAPPY ? "snappy" : "null";
}

void avro_buf_grow(struct avro_buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 4096;
	while (cap - b->len < n)
		cap *= 2;
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

void avro_buf_free(struct avro_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

/* Writes all of the iovecs (a signal or a short write resumes). */
static int write_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* ---- the writer ---------------------------------------------------------------- */

/* A block on its way: filled by the caller, compressed and written by a
 * thread. Slot seq % N_SLOTS holds block seq. */
enum slot_state { SLOT_FREE, SLOT_FILLED, SLOT_BUSY };

struct slot {
	struct avro_buf raw;   /* the encoded records */
	struct avro_buf out;   /* compressed (unused for the null codec) */
	int64_t count;
	int64_t seq;
	uint32_t crc;          /* of raw */
	enum slot_state state;
};

#define MAX_THREADS 8
#define N_SLOTS (2 * MAX_THREADS)

struct avro_writer {
	int fd;
	struct avro_writer_opts o;
	unsigned char sync[SYNC_SIZE];
	size_t n_slots;
	struct slot slots[N_SLOTS];
	struct slot *cur;        /* being filled by the caller */
	int64_t next_seq;        /* the next block the caller submits */
	pthread_t threads[MAX_THREADS];
	int n_threads;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int64_t next_take;       /* the next block a thread compresses */
	int64_t next_write;      /* the next block to be written */
	bool closing;            /* no more blocks come */
	bool failed;
	char error[512];
	int64_t rows, blocks, bytes;
	int64_t rows_at;         /* the offset of sluice.rows' digits, or -1 */
	uint32_t crc;            /* of the blocks written, in order */
};

static void writer_fail(struct avro_writer *w, const char *fmt, const char *what)
{
	pthread_mutex_lock(&w->mu);
	if (!w->failed) {
		w->failed = true;
		snprintf(w->error, sizeof w->error, fmt, what);
	}
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->mu);
}

/* Compresses s->raw into s->out with the thread's z stream; 0 or -1. */
static int compress_slot(struct avro_writer *w, struct slot *s, z_stream *z)
{
	s->crc = (uint32_t)crc32(0L, s->raw.p, (uInt)s->raw.len);
	if (w->o.codec == AVRO_CODEC_DEFLATE) {
		deflateReset(z);
		s->out.len = 0;
		avro_buf_need(&s->out, deflateBound(z, s->raw.len));
		z->next_in = s->raw.p;
		z->avail_in = (uInt)s->raw.len;
		z->next_out = s->out.p;
		z->avail_out = (uInt)s->out.cap;
		if (deflate(z, Z_FINISH) != Z_STREAM_END)
			return -1;
		s->out.len = s->out.cap - z->avail_out;
	} else if (w->o.codec == AVRO_CODEC_SNAPPY) {
		s->out.len = 0;
		size_t n = snappy_max_compressed_length(s->raw.len);
		avro_buf_need(&s->out, n + 4);
		if (snappy_compress((const char *)s->raw.p, s->raw.len, (char *)s->out.p, &n) != SNAPPY_OK)
			return -1;
		uint32_t crc = s->crc;
		unsigned char *c = s->out.p + n;
		c[0] = (unsigned char)(crc >> 24);
		c[1] = (unsigned char)(crc >> 16);
		c[2] = (unsigned char)(crc >> 8);
		c[3] = (unsigned char)crc;
		s->out.len = n + 4;
	}
	return 0;
}

static int write_slot(struct avro_writer *w, struct slot *s)
{
	const struct avro_buf *data = w->o.codec == AVRO_CODEC_NULL ? &s->raw : &s->out;
	unsigned char head[20];
	struct avro_buf h = {head, 0, sizeof head};
	avro_put_long(&h, s->count);
	avro_put_long(&h, (int64_t)data->len);
	struct iovec iov[3] = {{head, h.len}, {data->p, data->len}, {w->sync, SYNC_SIZE}};
	if (write_all(w->fd, iov, 3) < 0)
		return -1;
	/* the counts change under the lock: the caller reads them for progress */
	pthread_mutex_lock(&w->mu);
	w->bytes += (int64_t)(h.len + data->len + SYNC_SIZE);
	w->blocks++;
	pthread_mutex_unlock(&w->mu);
	w->crc = (uint32_t)crc32_combine(w->crc, s->crc, (z_off_t)s->raw.len);
	return 0;
}

static void *writer_thread(void *arg)
{
	struct avro_writer *w = arg;
	z_stream z = {0};
	bool z_ok = w->o.codec != AVRO_CODEC_DEFLATE ||
		    deflateInit2(&z, w->o.level, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) == Z_OK;
	if (!z_ok) {
		writer_fail(w, "%s", "deflate: cannot start zlib");
		return NULL;
	}
	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct slot *s = &w->slots[w->next_take % (int64_t)w->n_slots];
		while (!w->failed && !(s->state == SLOT_FILLED && s->seq == w->next_take) &&
		       !(w->closing && w->next_take == w->next_seq)) {
			pthread_cond_wait(&w->cond, &w->mu);
			s = &w->slots[w->next_take % (int64_t)w->n_slots];
		}
		if (w->failed || (w->closing && w->next_take == w->next_seq))
			break;
		s->state = SLOT_BUSY;
		int64_t seq = w->next_take++;
		pthread_mutex_unlock(&w->mu);
		int rc = compress_slot(w, s, &z);
		pthread_mutex_lock(&w->mu);
		if (rc < 0) {
			pthread_mutex_unlock(&w->mu);
			writer_fail(w, "%s: compression failed", avro_codec_name(w->o.codec));
			pthread_mutex_lock(&w->mu);
			break;
		}
		/* blocks go out in their order */
		while (!w->failed && w->next_write != seq)
			pthread_cond_wait(&w->cond, &w->mu);
		if (w->failed)
			break;
		pthread_mutex_unlock(&w->mu);
		rc = write_slot(w, s);
		pthread_mutex_lock(&w->mu);
		if (rc < 0) {
			int en = errno;
			pthread_mutex_unlock(&w->mu);
			writer_fail(w, "write: %s", strerror(en));
			pthread_mutex_lock(&w->mu);
			break;
		}
		s->raw.len = 0;
		s->count = 0;
		s->state = SLOT_FREE;
		w->next_write++;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->mu);
	if (w->o.codec == AVRO_CODEC_DEFLATE)
		deflateEnd(&z);
	return NULL;
}

static void put_meta(struct avro_buf *b, const char *key, const char *val, size_t n)
{
	avro_put_bytes(b, key, strlen(key));
	avro_put_bytes(b, val, n);
}

struct avro_writer *avro_writer_new(int fd, const char *schema_json, const struct avro_writer_opts *o,
				    struct err *err)
{
	struct avro_writer *w = xcalloc(1, sizeof *w);
	w->fd = fd;
	w->o = *o;
	if (w->o.level <= 0 || w->o.level > 9)
		w->o.level = DEFAULT_LEVEL;
	if (w->o.threads <= 0)
		w->o.threads = 1;
	if (w->o.threads > MAX_THREADS)
		w->o.threads = MAX_THREADS;
	if (!w->o.block_size)
		w->o.block_size = DEFAULT_BLOCK;
	w->n_slots = (size_t)(2 * w->o.threads + 1);
	if (w->n_slots > N_SLOTS)
		w->n_slots = N_SLOTS;
	if (getrandom(w->sync, SYNC_SIZE, 0) != SYNC_SIZE) {
		/* no entropy at hand: the marker needs only to be unlikely in the data */
		uint64_t t = (uint64_t)now_ms() * 0x9E3779B97F4A7C15ull ^ (uint64_t)getpid();
		for (int i = 0; i < SYNC_SIZE; i++, t = t * 6364136223846793005ull + 1442695040888963407ull)
			w->sync[i] = (unsigned char)(t >> 56);
	}
	struct avro_buf h = {0};
	avro_put_raw(&h, MAGIC, sizeof MAGIC);
	avro_put_long(&h, w->o.counts_in_header ? 4 : 2);
	put_meta(&h, "avro.schema", schema_json, strlen(schema_json));
	const char *codec = avro_codec_name(w->o.codec);
	put_meta(&h, "avro.codec", codec, strlen(codec));
	w->rows_at = -1;
	if (w->o.counts_in_header) {
		put_meta(&h, AVRO_META_ROWS, "00000000000000000000", 20);
		w->rows_at = (int64_t)h.len - 20;
		/* right after the rows: one write at the end fills both */
		put_meta(&h, AVRO_META_CRC, "00000000", 8);
	}
	avro_put_long(&h, 0);
	avro_put_raw(&h, w->sync, SYNC_SIZE);
	struct iovec iov = {h.p, h.len};
	if (write_all(fd, &iov, 1) < 0) {
		err_set(err, "write: %s", strerror(errno));
		avro_buf_free(&h);
		free(w);
		return NULL;
	}
	w->bytes = (int64_t)h.len;
	avro_buf_free(&h);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cond, NULL);
	for (size_t i = 0; i < w->n_slots; i++)
		avro_buf_grow(&w->slots[i].raw, w->o.block_size + 4096);
	w->cur = &w->slots[0];
	w->cur->state = SLOT_BUSY;
	for (int i = 0; i < w->o.threads; i++) {
		if (pthread_create(&w->threads[i], NULL, writer_thread, w) != 0) {
			err_set(err, "cannot start a thread: %s", strerror(errno));
			avro_writer_free(w);
			return NULL;
		}
		w->n_threads++;
	}
	return w;
}

struct avro_buf *avro_writer_buf(struct avro_writer *w)
{
	return &w->cur->raw;
}

/* Hands the current block to the threads and waits for the next slot. */
static int submit(struct avro_writer *w, bool last, struct err *err)
{
	pthread_mutex_lock(&w->mu);
	if (w->cur->count) {
		w->cur->seq = w->next_seq++;
		w->cur->state = SLOT_FILLED;
	} else {
		w->cur->state = SLOT_FREE;
	}
	if (last)
		w->closing = true;
	pthread_cond_broadcast(&w->cond);
	if (!last) {
		struct slot *s = &w->slots[w->next_seq % (int64_t)w->n_slots];
		while (!w->failed && s->state != SLOT_FREE)
			pthread_cond_wait(&w->cond, &w->mu);
		s->state = SLOT_BUSY;
		s->raw.len = 0;
		s->count = 0;
		w->cur = s;
	}
	bool failed = w->failed;
	pthread_mutex_unlock(&w->mu);
	if (failed)
		return err_set(err, "%s", w->error);
	return 0;
}

int avro_writer_row(struct avro_writer *w, struct err *err)
{
	w->cur->count++;
	w->rows++;
	if (w->cur->raw.len < w->o.block_size)
		return 0;
	return submit(w, false, err);
}

static void join_threads(struct avro_writer *w)
{
	for (int i = 0; i < w->n_threads; i++)
		pthread_join(w->threads[i], NULL);
	w->n_threads = 0;
}

int avro_writer_finish(struct avro_writer *w, struct err *err)
{
	int rc = submit(w, true, err);
	join_threads(w);
	if (!rc && w->failed)
		rc = err_set(err, "%s", w->error);
	if (!rc && w->rows_at >= 0) {
		/* the 20 digits, then the crc entry's key and length, then 8 hex digits */
		struct avro_buf b = {0};
		char digits[21];
		snprintf(digits, sizeof digits, "%020lld", (long long)w->rows);
		avro_put_raw(&b, digits, 20);
		avro_put_bytes(&b, AVRO_META_CRC, strlen(AVRO_META_CRC));
		avro_put_long(&b, 8);
		snprintf(digits, sizeof digits, "%08x", (unsigned)w->crc);
		avro_put_raw(&b, digits, 8);
		if (pwrite(w->fd, b.p, b.len, (off_t)w->rows_at) != (ssize_t)b.len)
			rc = err_set(err, "write: %s", strerror(errno));
		avro_buf_free(&b);
	}
	return rc;
}

void avro_writer_free(struct avro_writer *w)
{
	if (!w)
		return;
	if (w->n_threads) {
		pthread_mutex_lock(&w->mu);
		w->failed = true;
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->mu);
		join_threads(w);
	}
	for (size_t i = 0; i < N_SLOTS; i++) {
		avro_buf_free(&w->slots[i].raw);
		avro_buf_free(&w->slots[i].out);
	}
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cond);
	free(w);
}

void avro_writer_stats(struct avro_writer *w, int64_t *rows, int64_t *blocks, int64_t *bytes)
{
	*rows = w->rows;
	pthread_mutex_lock(&w->mu);
	*blocks = w->blocks;
	*bytes = w->bytes;
	pthread_mutex_unlock(&w->mu);
}

/* ---- the reader ---------------------------------------------------------------- */

struct meta {
	char *key;
	char *val;
	size_t len;
};

struct avro_reader {
	int fd;
	char *name;
	enum avro_codec codec;
	unsigned char sync[SYNC_SIZE];
	struct meta *meta;
	size_t n_meta;
	/* read buffer: bytes [pos, len) of buf are unread; off is the file
	 * offset of buf[0] */
	unsigned char *buf;
	size_t pos, len, cap;
	int64_t off;
	bool eof;
	struct avro_buf data;    /* a block's data as read */
	struct avro_buf plain;   /* decompressed */
	z_stream z;
	bool z_ok;
	int64_t block_no, block_off;
	uint32_t crc;            /* of the blocks' uncompressed data so far */
};

/* Makes at least n bytes readable at buf[pos] (fewer only at the end of the
 * file): the number readable, or -1 on a read error (errno). */
static ssize_t fill(struct avro_reader *r, size_t n)
{
	if (r->len - r->pos >= n || r->eof)
		return (ssize_t)(r->len - r->pos);
	if (r->pos) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->off += (int64_t)r->pos;
		r->len -= r->pos;
		r->pos = 0;
	}
	if (r->cap < n) {
		size_t cap = r->cap ? r->cap : 1 << 20;
		while (cap < n)
			cap *= 2;
		r->buf = xrealloc(r->buf, cap);
		r->cap = cap;
	}
	while (r->len < n) {
		ssize_t got = read(r->fd, r->buf + r->len, r->cap - r->len);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (!got) {
			r->eof = true;
			break;
		}
		r->len += (size_t)got;
	}
	return (ssize_t)(r->len - r->pos);
}

static int64_t here(const struct avro_reader *r)
{
	return r->off + (int64_t)r->pos;
}

/* A varint from the stream: 0, 1 at a clean end of file (nothing read), -1
 * (bad or cut short: *why says which), -2 read error. */
static int read_long(struct avro_reader *r, int64_t *v, const char **why)
{
	ssize_t have = fill(r, 10);
	if (have < 0)
		return -2;
	if (have == 0) {
		*why = "the file ends";
		return 1;
	}
	struct avro_cur c = {r->buf + r->pos, r->buf + r->pos + have};
	if (avro_get_long(&c, v) < 0) {
		*why = have < 10 ? "the file ends inside a number" : "bad varint";
		return -1;
	}
	r->pos = (size_t)(c.p - r->buf);
	return 0;
}

/* n bytes from the stream, borrowed until the next read: NULL when the file
 * ends first (or a read error: errno set and *short_read false). */
static const unsigned char *read_n(struct avro_reader *r, size_t n, bool *short_read)
{
	ssize_t have = fill(r, n);
	*short_read = have >= 0;
	if (have < 0 || (size_t)have < n)
		return NULL;
	const unsigned char *p = r->buf + r->pos;
	r->pos += n;
	return p;
}

static void reader_free_meta(struct avro_reader *r)
{
	for (size_t i = 0; i < r->n_meta; i++) {
		free(r->meta[i].key);
		free(r->meta[i].val);
	}
	free(r->meta);
	r->meta = NULL;
	r->n_meta = 0;
}

/* The header map: blocks of entries (a negative count has a byte size
 * after it), ended by a count of 0. */
static int read_header(struct avro_reader *r, struct err *err)
{
	bool sr;
	const unsigned char *m = read_n(r, 4, &sr);
	if (!m || memcmp(m, MAGIC, 4))
		return err_set(err, "%s: not an Avro object container file (bad magic at byte 0)", r->name);
	for (;;) {
		int64_t n, at = here(r);
		const char *why = "";
		int rc = read_long(r, &n, &why);
		if (rc)
			return err_set(err, "%s: header at byte %lld: %s", r->name, (long long)at,
				       rc == -2 ? strerror(errno) : why);
		if (n == 0)
			break;
		if (n < 0) {
			int64_t size;
			if (read_long(r, &size, &why))
				return err_set(err, "%s: header at byte %lld: %s", r->name, (long long)here(r), why);
			n = -n;
		}
		if (n > 1000)
			return err_set(err, "%s: header at byte %lld: %lld entries is not a header", r->name, (long long)at,
				       (long long)n);
		for (int64_t i = 0; i < n; i++) {
			char *kv[2];
			size_t lens[2];
			for (int k = 0; k < 2; k++) {
				int64_t len;
				at = here(r);
				if ((rc = read_long(r, &len, &why)) || len < 0 || len > MAX_BLOCK) {
					if (k)
						free(kv[0]);
					return err_set(err, "%s: header at byte %lld: %s", r->name, (long long)at,
						       rc ? why : "bad length");
				}
				const unsigned char *s = read_n(r, (size_t)len, &sr);
				if (!s) {
					if (k)
						free(kv[0]);
					return err_set(err, "%s: header at byte %lld: the file ends inside the header",
						       r->name, (long long)at);
				}
				kv[k] = xstrndup((const char *)s, (size_t)len);
				lens[k] = (size_t)len;
			}
			r->meta = xrealloc(r->meta, (r->n_meta + 1) * sizeof *r->meta);
			r->meta[r->n_meta++] = (struct meta){kv[0], kv[1], lens[1]};
		}
	}
	const unsigned char *s = read_n(r, SYNC_SIZE, &sr);
	if (!s)
		return err_set(err, "%s: the file ends inside the header (at byte %lld)", r->name, (long long)here(r));
	memcpy(r->sync, s, SYNC_SIZE);
	size_t n = 0;
	const char *codec = avro_reader_meta(r, "avro.codec", &n);
	char name[32];
	snprintf(name, sizeof name, "%.*s", (int)(n < 31 ? n : 31), codec ? codec : "null");
	if (avro_codec_parse(name, &r->codec) < 0)
		return err_set(err, "%s: codec '%s' is not supported (null, deflate, snappy)", r->name, name);
	if (!avro_reader_meta(r, "avro.schema", &n))
		return err_set(err, "%s: the header has no avro.schema", r->name);
	return 0;
}

struct avro_reader *avro_reader_open(int fd, const char *name, struct err *err)
{
	struct avro_reader *r = xcalloc(1, sizeof *r);
	r->fd = fd;
	r->name = xstrdup(name);
	if (read_header(r, err) < 0) {
		avro_reader_free(r);
		return NULL;
	}
	if (r->codec == AVRO_CODEC_DEFLATE) {
		if (inflateInit2(&r->z, -15) != Z_OK) {
			err_set(err, "%s: cannot start zlib", name);
			avro_reader_free(r);
			return NULL;
		}
		r->z_ok = true;
	}
	return r;
}

void avro_reader_free(struct avro_reader *r)
{
	if (!r)
		return;
	if (r->z_ok)
		inflateEnd(&r->z);
	reader_free_meta(r);
	free(r->buf);
	avro_buf_free(&r->data);
	avro_buf_free(&r->plain);
	free(r->name);
	free(r);
}

const char *avro_reader_meta(const struct avro_reader *r, const char *key, size_t *len)
{
	for (size_t i = 0; i < r->n_meta; i++)
		if (!strcmp(r->meta[i].key, key)) {
			*len = r->meta[i].len;
			return r->meta[i].val;
		}
	return NULL;
}

enum avro_codec avro_reader_codec(const struct avro_reader *r)
{
	return r->codec;
}

int64_t avro_reader_block_no(const struct avro_reader *r)
{
	return r->block_no;
}

uint32_t avro_reader_crc(const struct avro_reader *r)
{
	return r->crc;
}

int64_t avro_reader_block_off(const struct avro_reader *r)
{
	return r->block_off;
}

static int block_error(struct avro_reader *r, struct err *err, int64_t at, const char *what)
{
	return err_set(err, "%s: block %lld (at byte %lld): %s at byte %lld", r->name, (long long)r->block_no,
		       (long long)r->block_off, what, (long long)at);
}

static int inflate_block(struct avro_reader *r, const unsigned char *in, size_t n)
{
	inflateReset(&r->z);
	r->plain.len = 0;
	r->z.next_in = (unsigned char *)in;
	r->z.avail_in = (uInt)n;
	for (;;) {
		avro_buf_need(&r->plain, n * 2 + 4096);
		r->z.next_out = r->plain.p + r->plain.len;
		r->z.avail_out = (uInt)(r->plain.cap - r->plain.len);
		int rc = inflate(&r->z, Z_FINISH);
		r->plain.len = r->plain.cap - r->z.avail_out;
		/* bytes after the stream's end are left: Apache's Python writer
		 * leaves three bytes of zlib's adler32 there */
		if (rc == Z_STREAM_END)
			return 0;
		if (rc != Z_OK && rc != Z_BUF_ERROR)
			return -1;
		if (rc == Z_BUF_ERROR && r->z.avail_out)
			return -1; /* no progress with room to spare: the data is cut short */
	}
}

int avro_reader_next(struct avro_reader *r, struct avro_cur *data, int64_t *count, struct err *err)
{
	int64_t n, size, at = here(r);
	const char *why = "";
	r->block_no++;
	r->block_off = at;
	int rc = read_long(r, &n, &why);
	if (rc == 1)
		return 0; /* the end, between blocks */
	if (rc == -2)
		return block_error(r, err, at, strerror(errno));
	if (rc)
		return block_error(r, err, at, why);
	if (n < 0 || n > MAX_BLOCK)
		return block_error(r, err, at, "bad record count");
	at = here(r);
	if ((rc = read_long(r, &size, &why)) != 0)
		return block_error(r, err, at, rc == 1 ? "the file ends before the block's size" : why);
	if (size < 0 || size > MAX_BLOCK)
		return block_error(r, err, at, "bad block length");
	at = here(r);
	bool sr;
	const unsigned char *d = read_n(r, (size_t)size, &sr);
	if (!d) {
		char m[120];
		snprintf(m, sizeof m, "the file ends inside the block's %lld bytes of data", (long long)size);
		return block_error(r, err, at, sr ? m : strerror(errno));
	}
	/* the data is borrowed from the read buffer, which the sync marker's
	 * read may move: keep a copy when it must be kept as it is */
	const unsigned char *plain;
	size_t plain_len;
	if (r->codec == AVRO_CODEC_NULL) {
		r->data.len = 0;
		avro_put_raw(&r->data, d, (size_t)size);
		plain = r->data.p;
		plain_len = r->data.len;
	} else if (r->codec == AVRO_CODEC_DEFLATE) {
		if (inflate_block(r, d, (size_t)size) < 0)
			return block_error(r, err, at, "deflate data that does not inflate");
		plain = r->plain.p;
		plain_len = r->plain.len;
	} else {
		size_t ulen;
		if (size < 4 || snappy_uncompressed_length((const char *)d, (size_t)size - 4, &ulen) != SNAPPY_OK ||
		    (int64_t)ulen > MAX_BLOCK)
			return block_error(r, err, at, "snappy data that does not uncompress");
		r->plain.len = 0;
		avro_buf_need(&r->plain, ulen + 1);
		if (snappy_uncompress((const char *)d, (size_t)size - 4, (char *)r->plain.p, &ulen) != SNAPPY_OK)
			return block_error(r, err, at, "snappy data that does not uncompress");
		r->plain.len = ulen;
		const unsigned char *c = d + size - 4;
		uint32_t want = (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3];
		uint32_t got = (uint32_t)crc32(0L, r->plain.p, (uInt)ulen);
		if (got != want)
			return block_error(r, err, at + size - 4, "bad CRC of the uncompressed data (snappy)");
		r->crc = (uint32_t)crc32_combine(r->crc, got, (z_off_t)ulen);
		plain = r->plain.p;
		plain_len = r->plain.len;
	}
	at = here(r);
	const unsigned char *s = read_n(r, SYNC_SIZE, &sr);
	if (!s)
		return block_error(r, err, at, sr ? "the file ends before the block's sync marker" : strerror(errno));
	if (memcmp(s, r->sync, SYNC_SIZE))
		return block_error(r, err, at, "bad sync marker");
	if (r->codec != AVRO_CODEC_SNAPPY)
		r->crc = (uint32_t)crc32(r->crc, plain, (uInt)plain_len);
	data->p = plain;
	data->end = plain + plain_len;
	*count = n;
	return 1;
}
