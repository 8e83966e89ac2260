/* Data contracts (contracts/NAME.yml): the data dictionary a load is checked
 * against. Columns with a type, required, regex, min/max, max length, accepted
 * values, a key unique within the input; and cleaning applied before the
 * checks: trim, null tokens, date formats, number words ("Two Hundred" ->
 * 200). A record that breaks the contract is rejected with the column and
 * the reason, never loaded.
 *
 *   name: employees                # default: the file name
 *   key: [employee_id]             # or one name; unique within the input
 *   trim: false                    # defaults for every column: trim, null
 *   null: ["", "NA"]
 *   columns:                       # in this order
 *     employee_id: { type: int, required: true, min: 1 }
 *     hired:       { type: timestamptz, formats: ["%m/%d/%Y %H:%M"] }
 *     amount:      { type: "numeric(12,2)", number_words: true }
 *     status:      { type: text, accepted: [active, left], max_length: 10 }
 *     code:        { type: text, regex: "^[A-Z]{3}$" }
 *     flag:        bool            # a type alone
 *
 * Types: int, bigint, numeric(p,s), text (varchar(n) = max_length n), bool,
 * date, timestamp, timestamptz, uuid. Values come out in PostgreSQL's input
 * form: numeric(p,s) rounded to s places (half away from zero) and rejected
 * with more than p-s integer digits; bool as t/f; dates ISO; timestamptz in
 * UTC (no zone in the input = UTC); uuid lower-case. Numbers, dates and
 * booleans are always trimmed, text only with trim: true; an empty value is
 * NULL for every type but text unless the column lists its own null tokens.
 * Dates are ISO 8601 unless formats: lists strptime formats (%f = fraction
 * of a second). regex and accepted apply to the cleaned value. */
#ifndef SLUICE_CONTRACT_H
#define SLUICE_CONTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* In the order error messages list them; each has a row in
 * core/contract/types.c. */
enum col_type {
	COL_INT, COL_BIGINT, COL_NUMERIC, COL_TEXT, COL_BOOL,
	COL_DATE, COL_TIMESTAMP, COL_TIMESTAMPTZ, COL_UUID,
	COL_N_TYPES /* how many there are, not a type */
};

struct contract_col {
	char *name;
	enum col_type type;
	int precision, scale;     /* numeric(p,s); 0 = unconstrained */
	int max_length;           /* text; 0 = none */
	bool required;
	char *regex;              /* POSIX extended, anchored by the writer if wanted */
	bool has_min, has_max;
	double min, max;          /* numbers; dates compare as YYYYMMDD, timestamps as
				   * YYYYMMDDhhmmss (timestamptz in UTC) */
	char **accepted;          /* accepted values, NULL if any */
	size_t n_accepted;
	/* cleaning */
	bool trim;
	char **null_tokens;       /* values that mean NULL ("", "NA", "n/a", ...) */
	size_t n_null_tokens;
	char **date_formats;      /* strptime formats tried in order, e.g. "%m/%d/%Y %H:%M" */
	size_t n_date_formats;
	bool number_words;        /* "fifteen", "Two Hundred" -> 15, 200 */
	void *priv;               /* compiled regex etc. */
};

struct contract {
	char *name;
	char *file;
	struct contract_col *cols;
	size_t n_cols;
	char **key;               /* columns whose combination must be unique in the input */
	size_t n_key;
	size_t *key_idx;          /* their indexes in cols */
};

/* Loads contracts/NAME.yml (or a path); every problem goes to d with
 * file:line:col. Returns 0 or -1. */
int contract_load(const char *path, struct contract **out, struct diags *d);
void contract_free(struct contract *c);
/* The index of the column called name in cols, or -1. */
int contract_col_index(const struct contract *c, const char *name);
/* An integer as int and bigint columns take it: [+-]digits. 0, -1 not an
 * integer, -2 out of int64's range. */
int contract_int_parse(const char *s, size_t n, int64_t *out);
/* The name a contract writes a type with ("int", "numeric", "timestamptz"). */
const char *contract_type_name(enum col_type t);
/* The SQL type for CREATE TABLE (e.g. "numeric(12,2)", "timestamptz"). */
const char *contract_sql_type(const struct contract_col *c, char *buf, size_t size);

/* Checks one record against the contract. in[i]/in_len[i] are the fields in
 * the contract's column order (NULL = SQL NULL; NUL-terminated; in_len may be
 * NULL). On success fills out[i] with
 * the cleaned value in PostgreSQL's text input form (NULL for NULL; the
 * pointers may point into in[] or into scratch, which the caller reuses per
 * record) and returns 0. On a violation returns -1 and sets *bad_col
 * (0-based) and reason ("'amount': 'abc' is not a number"). */
struct contract_scratch;
struct contract_scratch *contract_scratch_new(void);
void contract_scratch_free(struct contract_scratch *s);
int contract_check(const struct contract *c, struct contract_scratch *s, const char *const *in,
		   const size_t *in_len, const char **out, int *bad_col, char *reason, size_t reason_size);

/* Key uniqueness within one input. values is a whole row in the contract's
 * column order (contract_check's out); the key columns are taken from it.
 * Returns 1 if that key was added before (*first_line = the line given
 * then), 0 if it is new (it is remembered with line). Without a key in the
 * contract every row is new. Memory grows with the distinct keys. */
struct contract_keys;
struct contract_keys *contract_keys_new(const struct contract *c);
int contract_keys_add(struct contract_keys *k, const char *const *values, int64_t line, int64_t *first_line);
size_t contract_keys_count(const struct contract_keys *k);
void contract_keys_free(struct contract_keys *k);

/* Number words to a number: "fifteen" -> 15, "Two Hundred" -> 200,
 * "one thousand two hundred and five" -> 1205, "minus three" -> -3. Returns 0
 * and *out, or -1 if text is not number words. Exposed for tests. */
int number_words_parse(const char *text, long long *out);

#endif
