/* The JSON readers: JSON Lines (one object a line) and a JSON array of
 * objects (or objects one after another). Each value is cut out of the
 * buffer by a light scanner and parsed by jansson; its fields are the
 * declared columns or the first object's keys, as text. */
#include "connectors/records/internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/util.h"

static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The shortest text that reads back as the same double. */
static int real_text(double x, char *out, size_t size)
{
	int n = 0;
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(out, size, "%.*g", prec, x);
		if (strtod(out, NULL) == x)
			break;
	}
	return n;
}

/* Field i of a JSON record: the value as text. */
static void json_field(struct rec_reader *r, size_t i, const json_t *v, size_t *fl)
{
	char tmp[64];
	const char *s = NULL;
	size_t n = 0;
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_NULL:
		r->foff[i] = SIZE_MAX;
		r->flen[i] = 0;
		return;
	case JSON_STRING:
		s = json_string_value(v);
		n = json_string_length(v);
		break;
	case JSON_INTEGER:
		n = (size_t)snprintf(tmp, sizeof tmp, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		s = tmp;
		break;
	case JSON_REAL:
		n = (size_t)real_text(json_real_value(v), tmp, sizeof tmp);
		s = tmp;
		break;
	case JSON_TRUE:
		s = "true", n = 4;
		break;
	case JSON_FALSE:
		s = "false", n = 5;
		break;
	case JSON_OBJECT:
	case JSON_ARRAY:
		n = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
		fb_reserve(r, *fl + n + 1);
		json_dumpb(v, r->fb + *fl, n, JSON_COMPACT | JSON_ENCODE_ANY);
		break;
	}
	fb_reserve(r, *fl + n + 1);
	if (s)
		memcpy(r->fb + *fl, s, n);
	r->foff[i] = *fl;
	r->flen[i] = n;
	*fl += n;
	r->fb[(*fl)++] = '\0';
}

/* A record from one parsed JSON value (NULL after a syntax error, whose
 * message is in errbuf already). Takes the reference to v. */
static void json_record(struct rec_reader *r, struct record *rec, json_t *v, const unsigned char *raw,
			size_t raw_len, int64_t line)
{
	const char *error = v ? NULL : r->errbuf;
	int ecol = 0;
	size_t nf = 0, fl = 0;
	if (v && !json_is_object(v))
		rec_set_error(r, &error, &ecol, 0, "expected a JSON object, got %s", json_kind_phrase(v));
	else if (v) {
		if (!r->cols_known) {
			size_t n = json_object_size(v), i = 0;
			const char **names = xcalloc(n ? n : 1, sizeof *names);
			const char *k;
			json_t *x;
			json_object_foreach(v, k, x)
				names[i++] = k;
			rec_set_columns(r, names, NULL, n);
			free(names);
		}
		nf = r->n_cols;
		fields_reserve(r, nf);
		for (size_t i = 0; i < nf; i++) {
			const json_t *x = json_object_get(v, r->cols[i]);
			json_field(r, i, x, &fl);
			r->fq[i] = json_is_string(x);
			if (r->flen[i] > r->o.max_field)
				rec_set_error(r, &error, &ecol, (int)i + 1, "field %zu is longer than %zu bytes", i + 1,
					  r->o.max_field);
		}
	}
	json_decref(v);
	rec_record_fill(r, rec, nf, raw, raw_len, line, error, ecol);
}

static json_t *json_parse(struct rec_reader *r, const unsigned char *s, size_t n)
{
	json_error_t je;
	json_t *v = json_loadb((const char *)s, n, JSON_DECODE_ANY, &je);
	if (!v)
		snprintf(r->errbuf, sizeof r->errbuf, "invalid JSON at column %d: %s", je.column, je.text);
	return v;
}

static int jsonl_skip(struct rec_reader *r, struct err *err)
{
	for (;;) {
		const char *nlp = memchr(r->buf + r->pos, '\n', r->end - r->pos);
		if (nlp) {
			r->pos = (size_t)(nlp - r->buf) + 1;
			r->line++;
			r->skipping = false;
			return 0;
		}
		if (r->eof) {
			r->pos = r->end;
			r->skipping = false;
			return 0;
		}
		r->base += (int64_t)r->end;
		r->pos = r->end = 0;
		if (rec_fill(r, err) < 0)
			return -1;
	}
}

static int jsonl_parse(struct rec_reader *r, struct record *rec, struct err *err)
{
	const unsigned char *b = (const unsigned char *)r->buf;
	const unsigned char *p = b + r->pos, *e = b + r->end;
	if (p == e)
		return r->eof ? P_EOF : P_NEED;
	const unsigned char *nlp = memchr(p, '\n', (size_t)(e - p));
	const unsigned char *le = nlp ? nlp : e;
	if (!nlp && !r->eof) {
		if ((size_t)(e - p) <= r->max_record)
			return P_NEED;
		snprintf(r->errbuf, sizeof r->errbuf, "line is longer than %zu bytes", r->max_record);
		int64_t line = r->line;
		r->pos = r->end;
		r->skipping = true;
		fields_reserve(r, 1);
		rec_record_fill(r, rec, 0, p, (size_t)(e - p), line, r->errbuf, 0);
		return P_RECORD;
	}
	size_t len = (size_t)(le - p);
	if (len && p[len - 1] == '\r')
		len--;
	int64_t line = r->line;
	r->pos = nlp ? (size_t)(nlp + 1 - b) : r->end;
	r->line += nlp != NULL;
	size_t i = 0;
	while (i < len && is_ws(p[i]))
		i++;
	if (i == len)
		return P_AGAIN;
	json_record(r, rec, json_parse(r, p, len), p, len, line);
	return P_RECORD;
}

/* The end of the JSON value starting at p (strings and nesting followed,
 * not checked: json_loadb does that), or NULL if it runs past e. Counts the
 * newlines inside it. */
static const unsigned char *json_extent(const unsigned char *p, const unsigned char *e, int64_t *nl)
{
	size_t depth = 0;
	bool instr = false, esc = false;
	*nl = 0;
	for (const unsigned char *q = p; q < e; q++) {
		unsigned char c = *q;
		if (instr) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"') {
				instr = false;
				if (!depth)
					return q + 1;
			} else if (c == '\n')
				(*nl)++;
			continue;
		}
		if (!depth && q > p && (c == ',' || c == ']' || c == '}' || is_ws(c)))
			return q;
		if (c == '\n')
			(*nl)++;
		if (c == '"')
			instr = true;
		else if (c == '{' || c == '[')
			depth++;
		else if ((c == '}' || c == ']') && depth && !--depth)
			return q + 1;
	}
	return NULL;
}

/* The text from p to the end of its line, as the raw text of a record that
 * says what is wrong with the array around it. */
static int ja_error(struct rec_reader *r, struct record *rec, const unsigned char *p, const char *msg)
{
	const unsigned char *e = (const unsigned char *)r->buf + r->end;
	const unsigned char *nlp = memchr(p, '\n', (size_t)(e - p));
	snprintf(r->errbuf, sizeof r->errbuf, "%s", msg);
	fields_reserve(r, 1);
	rec_record_fill(r, rec, 0, p, (size_t)((nlp ? nlp : e) - p), r->line, r->errbuf, 0);
	r->ja = JA_DONE + 1; /* nothing more is read */
	return P_RECORD;
}

static int ja_parse(struct rec_reader *r, struct record *rec, struct err *err)
{
	if (r->ja > JA_DONE)
		return P_EOF;
	for (;;) {
		const unsigned char *b = (const unsigned char *)r->buf;
		const unsigned char *p = b + r->pos, *e = b + r->end;
		while (p < e && is_ws(*p))
			r->line += *p++ == '\n';
		r->pos = (size_t)(p - b);
		if (p == e) {
			if (!r->eof)
				return P_NEED;
			if (r->ja == JA_ITEM || r->ja == JA_AFTER)
				return ja_error(r, rec, p, "unterminated JSON array");
			return P_EOF;
		}
		switch (r->ja) {
		case JA_START:
			if (*p == '[') {
				r->pos++;
				r->ja = JA_ITEM;
			} else if (*p == '{')
				r->ja = JA_SEQ; /* objects one after another, as in JSON Lines */
			else
				return err_set(err, "%s:%lld: expected a JSON array of objects", r->path,
					       (long long)r->line);
			continue;
		case JA_AFTER:
			if (*p == ',')
				r->ja = JA_ITEM;
			else if (*p == ']')
				r->ja = JA_DONE;
			else
				return ja_error(r, rec, p, "expected ',' or ']' after an array element");
			r->pos++;
			continue;
		case JA_DONE:
			return ja_error(r, rec, p, "text after the end of the JSON array");
		}
		if (r->ja == JA_ITEM && *p == ']') {
			r->pos++;
			r->ja = JA_DONE;
			continue;
		}
		int64_t nl;
		const unsigned char *q = json_extent(p, e, &nl);
		if (!q && !r->eof) {
			if ((size_t)(e - p) > r->max_record)
				return err_set(err, "%s:%lld: JSON value longer than %zu bytes", r->path,
					       (long long)r->line, r->max_record);
			return P_NEED;
		}
		bool cut = !q; /* the input ends inside this value */
		if (cut)
			q = e;
		int64_t line = r->line;
		r->line += nl;
		r->pos = (size_t)(q - b);
		if (cut)
			r->ja = JA_DONE + 1;
		else if (r->ja == JA_ITEM)
			r->ja = JA_AFTER;
		json_record(r, rec, json_parse(r, p, (size_t)(q - p)), p, (size_t)(q - p), line);
		return P_RECORD;
	}
}

const struct rec_format_ops rec_jsonl_ops = {
	.exts = (const char *const[]){".jsonl", ".ndjson", NULL},
	.parse = jsonl_parse,
	.skip = jsonl_skip,
};

const struct rec_format_ops rec_json_array_ops = {
	.exts = (const char *const[]){".json", NULL},
	.parse = ja_parse,
	.skip = jsonl_skip,
};
