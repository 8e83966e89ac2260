/* What the record readers share: the reader's state, the parser steps'
 * answers, and the helpers that build a record and its error. records.c is
 * the common core (opening, rec_next, the record), input.c reads and
 * decompresses, csv.c and json.c parse. A new format is one
 * file ending in its struct rec_format_ops, its enum rec_format value, and a
 * row in records.c's format table. */
#ifndef SLUICE_RECORDS_INT_H
#define SLUICE_RECORDS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <zlib.h>

#include "base/err.h"
#include "connectors/records.h"

#define READ_BUF (1u << 20)   /* decoded text buffer, and what one read asks for */
#define ZBUF (256u << 10)     /* compressed (or sniffed) input */
#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD, for bytes that are not UTF-8 */

/* What a parser step says when it is not a record. */
enum { P_EOF = 0, P_RECORD = 1, P_NEED = 2, P_AGAIN = 3 };

/* Where the JSON array scanner is between elements. */
enum { JA_START, JA_ITEM, JA_AFTER, JA_SEQ, JA_DONE };

struct rec_reader {
	struct rec_opts o;
	char *path;
	int fd;
	bool own_fd;

	/* input: plain reads, or inflate over zbuf */
	bool gz;
	z_stream zs;
	bool zs_live;
	bool z_member_end;        /* a gzip member ended; another may follow */
	bool in_eof;              /* read() returned 0 */
	unsigned char *zbuf;
	size_t zlen, zoff;        /* sniffed bytes not yet handed on (plain input) */
	int64_t in_done, in_size;
	unsigned char *lat;       /* latin1 bytes before they become UTF-8 */
	size_t lat_cap;

	/* decoded text: buf[pos, end) not yet parsed; base = input offset of buf[0] */
	char *buf;
	size_t cap, pos, end;
	int64_t base;
	bool eof;
	bool started;             /* BOM looked for */
	int64_t line;             /* line of buf[pos] */
	size_t max_record;

	/* the current record */
	char *fb;                 /* field text, each NUL-terminated */
	size_t fcap;
	size_t *foff, *flen;
	const char **fptr;
	bool *fq;
	size_t fn_cap;
	char *rawb;               /* raw text of an error record, made valid UTF-8 */
	size_t rawb_cap;
	char errbuf[256];

	/* columns: header, declared, or the first JSON object's keys */
	char **cols;
	size_t n_cols;
	bool cols_known;
	size_t expected;          /* CSV fields per record, 0 = not known yet */

	/* CSV */
	unsigned char cls_u[256]; /* bytes an unquoted field stops at */
	unsigned char cls_q[256]; /* bytes a quoted field stops at */
	unsigned char delim, quote;
	bool skipping;            /* dropping the rest of an oversized record */
	bool skip_inq, skip_qpend, skip_fstart;
	bool after_cr;            /* the last record ended with \r: a \n may follow */

	int ja;                   /* JSON array scanner state */
};

/* One input format: a row of records.c's table, indexed by enum rec_format. */
struct rec_format_ops {
	const char *const *exts;  /* file name endings that mean it (before .gz), NULL-ended */
	/* ready r for this format (optional) */
	void (*init)(struct rec_reader *r);
	/* One record from buf[pos]: P_RECORD, P_AGAIN (something that is no
	 * record was consumed), P_NEED (more input first), P_EOF or -1 (err). */
	int (*parse)(struct rec_reader *r, struct record *rec, struct err *err);
	/* Drops the rest of a record that was too long (after r->skipping is set). */
	int (*skip)(struct rec_reader *r, struct err *err);
};

extern const struct rec_format_ops rec_csv_ops, rec_jsonl_ops, rec_json_array_ops;

static inline bool ends_with(const char *s, size_t n, const char *suf)
{
	size_t k = strlen(suf);
	return n >= k && !strncasecmp(s + n - k, suf, k);
}

/* ---- input (input.c) ------------------------------------------- */

/* Opens path ("-" = stdin) into r: the file, its size, gzip by magic bytes
 * or name. */
int rec_input_open(struct rec_reader *r, const char *path, struct err *err);
void rec_input_close(struct rec_reader *r);
/* Moves the unparsed bytes to the front (growing the buffer when one record
 * fills it) and reads more, decoded to UTF-8. Sets eof at the end of the
 * input. */
int rec_fill(struct rec_reader *r, struct err *err);

/* ---- the record (records.c) -------------------------------------------- */

/* Length of the UTF-8 sequence at p: 1..4 if valid, -1 if not, 0 if it may
 * be valid but runs past e. */
static inline int utf8_len(const unsigned char *p, const unsigned char *e)
{
	unsigned c = p[0];
	int n;
	unsigned lo = 0x80, hi = 0xBF;
	if (c < 0x80)
		return 1;
	if (c < 0xC2)
		return -1;
	if (c < 0xE0)
		n = 2;
	else if (c < 0xF0) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c < 0xF5) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else
		return -1;
	for (int i = 1; i < n; i++) {
		if (p + i >= e)
			return 0;
		unsigned b = p[i];
		if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
			return -1;
	}
	return n;
}

void rec_fb_grow(struct rec_reader *r, size_t need);
void rec_fields_grow(struct rec_reader *r, size_t n);

/* Room for need bytes of field text; inline, as the parsers call it per field. */
static inline void fb_reserve(struct rec_reader *r, size_t need)
{
	if (need > r->fcap)
		rec_fb_grow(r, need);
}

/* Room for n fields. */
static inline void fields_reserve(struct rec_reader *r, size_t n)
{
	if (n > r->fn_cap)
		rec_fields_grow(r, n);
}

/* The first problem of a record is the one reported. */
void rec_set_error(struct rec_reader *r, const char **error, int *ecol, int col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void rec_set_columns(struct rec_reader *r, const char *const *names, const size_t *lens, size_t n);
/* The longest raw record accepted with n fields (0 = not known yet). */
size_t rec_record_limit(const struct rec_reader *r, size_t n);
/* Fills rec from the fields parsed (foff/flen/fq), its raw text and line;
 * an error record's raw text is made valid UTF-8. */
void rec_record_fill(struct rec_reader *r, struct record *rec, size_t nf, const unsigned char *raw, size_t raw_len,
		     int64_t line, const char *error, int ecol);

#endif
