/* Streaming record readers for files: CSV (RFC 4180), JSON Lines and a JSON
 * array of objects, optionally gzip-compressed, in UTF-8 or latin1. Memory
 * stays flat whatever the file size: one record (and a read buffer) at a time.
 * A malformed record is not an error of the whole file: it comes back with
 * its reason, line and column so the caller can reject it and go on. */
#ifndef SLUICE_RECORDS_H
#define SLUICE_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

enum rec_format { REC_CSV, REC_JSONL, REC_JSON_ARRAY };
enum rec_encoding { REC_UTF8, REC_LATIN1 };

struct rec_opts {
	enum rec_format format;     /* default: from the file name (.csv .jsonl .json, then .gz) */
	bool format_set;
	enum rec_encoding encoding; /* latin1 input is converted to UTF-8 */
	char delimiter;             /* CSV, default ',' */
	char quote;                 /* CSV, default '"' */
	bool header;                /* CSV: the first record names the columns (default true) */
	const char *const *columns; /* declared column names: required for a headerless CSV; for
				     * JSON, the fields to take in this order (default: the first
				     * object's keys) */
	size_t n_columns;
	size_t max_field;           /* longest field accepted, bytes (default 1 MiB) */
	int gzip;                   /* -1 = from the name or magic bytes, 0 no, 1 yes */
};

/* Defaults for opts (call before setting fields). */
void rec_opts_init(struct rec_opts *o);

struct record {
	size_t n;                   /* number of fields */
	const char *const *fields;  /* NUL-terminated UTF-8; NULL for a JSON null */
	const size_t *lens;
	/* the field was written in quotes: a quoted CSV field, so "" can be
	 * told from an empty field (NULL in COPY's CSV); a JSON string */
	const bool *quoted;
	int64_t line;               /* 1-based line where the record starts */
	int64_t offset;             /* byte offset (of the decompressed input) where it starts */
	const char *raw;            /* the record's text as read (after decoding), for rejects */
	size_t raw_len;
	/* set when the record is malformed: it must be rejected, not loaded */
	const char *error;          /* reason, e.g. "unterminated quoted field", "invalid UTF-8" */
	int error_col;              /* 1-based field number the problem is in (0 if none) */
};

struct rec_reader;

/* Opens path ("-" = stdin). The record passed to rec_next stays valid until
 * the next call. */
int rec_open(const char *path, const struct rec_opts *o, struct rec_reader **out, struct err *err);
/* 1 = a record (possibly with rec->error set), 0 = end of input, <0 = an I/O
 * or decompression error (err says what and where). */
int rec_next(struct rec_reader *r, struct record *rec, struct err *err);
/* Column names: the header, the declared columns, or the JSON keys. Valid
 * after the first rec_next (or after rec_open for declared columns). */
const char *const *rec_columns(const struct rec_reader *r, size_t *n);
/* Bytes of the (compressed) file consumed so far and its size (for
 * progress); size is -1 when unknown (stdin). */
void rec_progress(const struct rec_reader *r, int64_t *done, int64_t *size);
void rec_close(struct rec_reader *r);
/* Bytes the reader holds in its buffers: stays flat over a file of ordinary
 * records whatever its size (for tests and diagnostics). */
size_t rec_buffer_size(const struct rec_reader *r);

#endif
