/* Unit tests: data contracts. The YAML loader (every error with its place),
 * each type and rule, the cleaning before the checks, number words, and
 * key uniqueness. */
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "core/contract.h"
#include "core/contract/internal.h"

/* tests/fixtures/contracts, from the source tree */
static char *fixture(const char *name)
{
	const char *top = getenv("SLUICE_SRCDIR");
	char *dir;
	if (top)
		dir = xasprintf("%s/tests/fixtures/contracts", top);
	else {
		/* __FILE__ is relative to the build directory the test runs in */
		dir = xstrdup(__FILE__);
		*strrchr(dir, '/') = '\0';
		*strrchr(dir, '/') = '\0';
		char *d = xasprintf("%s/fixtures/contracts", dir);
		free(dir);
		dir = d;
	}
	char *p = path_join(dir, name);
	free(dir);
	return p;
}

/* A contract from YAML text; fails the test on any diagnostic. */
static struct contract *from_yaml(const char *yaml)
{
	char path[] = "/tmp/sluice-contract-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	struct contract *c = NULL;
	struct diags d = {0};
	int rc = contract_load(path, &c, &d);
	if (rc < 0) {
		diags_print(&d, stderr);
		fail_msg("contract did not load");
	}
	diags_free(&d);
	unlink(path);
	return c;
}

/* Diagnostics of loading YAML text, as "line:col: msg" lines. */
static char *load_errors(const char *file)
{
	struct contract *c = NULL;
	struct diags d = {0};
	int rc = contract_load(file, &c, &d);
	assert_int_equal(rc, -1);
	assert_null(c);
	diags_sort(&d);
	struct strbuf b = {0};
	for (size_t i = 0; i < d.n; i++) {
		const char *f = strrchr(d.v[i].file, '/');
		sb_addf(&b, "%s:%d:%d: %s\n", f ? f + 1 : d.v[i].file, d.v[i].line, d.v[i].col, d.v[i].msg);
	}
	diags_free(&d);
	return sb_steal(&b);
}

/* Checks one value in a one-column contract: the cleaned value, "NULL", or
 * "ERR <reason>". */
static char *chk(const struct contract *c, const char *value)
{
	assert_int_equal(c->n_cols, 1);
	struct contract_scratch *s = contract_scratch_new();
	const char *in[1] = {value};
	const char *out[1];
	int bad = 0;
	char reason[256];
	char *res;
	if (contract_check(c, s, in, NULL, out, &bad, reason, sizeof reason) < 0) {
		assert_int_equal(bad, 0);
		res = xasprintf("ERR %s", reason);
	} else
		res = xstrdup(out[0] ? out[0] : "NULL");
	contract_scratch_free(s);
	return res;
}

#define assert_chk(c, value, want)                    \
	do {                                          \
		char *g_ = chk((c), (value));         \
		assert_string_equal(g_, (want));      \
		free(g_);                             \
	} while (0)

/* ---- loading -------------------------------------------------------------- */

static void test_load_fixture(void **state)
{
	(void)state;
	char *path = fixture("employees.yml");
	struct contract *c = NULL;
	struct diags d = {0};
	int rc = contract_load(path, &c, &d);
	diags_print(&d, stderr);
	assert_int_equal(rc, 0);
	assert_string_equal(c->name, "employees");
	assert_int_equal(c->n_cols, 9);
	assert_int_equal(c->n_key, 1);
	assert_string_equal(c->key[0], "employee_id");
	assert_int_equal(c->key_idx[0], 0);
	assert_int_equal(contract_col_index(c, "amount"), 5);
	assert_int_equal(contract_col_index(c, "nope"), -1);
	const struct contract_col *a = &c->cols[5];
	assert_int_equal(a->type, COL_NUMERIC);
	assert_int_equal(a->precision, 12);
	assert_int_equal(a->scale, 2);
	assert_true(a->number_words);
	assert_int_equal(a->n_null_tokens, 2);
	assert_true(c->cols[1].trim);
	assert_int_equal(c->cols[1].max_length, 200);
	assert_int_equal(c->cols[2].n_date_formats, 1);
	assert_true(c->cols[0].has_min);
	assert_int_equal(c->cols[7].type, COL_BOOL);
	char buf[32];
	static const char *const sql[] = {"integer", "text", "timestamptz", "integer", "text", "numeric(12,2)",
					  "text", "boolean", "uuid"};
	for (size_t i = 0; i < c->n_cols; i++)
		assert_string_equal(contract_sql_type(&c->cols[i], buf, sizeof buf), sql[i]);

	/* one whole record, and one that breaks the contract */
	struct contract_scratch *s = contract_scratch_new();
	const char *in[] = {"7", "  Ada Lovelace ", "2021-03-04T05:06:07Z", "3", "active", "Two Hundred", "ABC",
			    "yes", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"};
	const char *out[9];
	int bad;
	char reason[200];
	assert_int_equal(contract_check(c, s, in, NULL, out, &bad, reason, sizeof reason), 0);
	assert_string_equal(out[0], "7");
	assert_string_equal(out[1], "Ada Lovelace");
	assert_string_equal(out[2], "2021-03-04 05:06:07+00");
	assert_string_equal(out[5], "200.00");
	assert_string_equal(out[7], "t");
	assert_string_equal(out[8], "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
	in[5] = "abc";
	assert_int_equal(contract_check(c, s, in, NULL, out, &bad, reason, sizeof reason), -1);
	assert_int_equal(bad, 5);
	assert_string_equal(reason, "'amount': 'abc' is not a number");
	in[5] = "NA";
	in[2] = "2021-13-01T00:00:00Z";
	assert_int_equal(contract_check(c, s, in, NULL, out, &bad, reason, sizeof reason), -1);
	assert_int_equal(bad, 2);
	assert_string_equal(reason,
			    "'hiring_date': '2021-13-01T00:00:00Z' is not a valid timestamp (expected %Y-%m-%dT%H:%M:%SZ)");
	contract_scratch_free(s);
	contract_free(c);
	free(path);
	diags_free(&d);
}

static void test_load_errors(void **state)
{
	(void)state;
	char *p = fixture("unknown_key.yml");
	char *e = load_errors(p);
	assert_string_equal(e, "unknown_key.yml:2:1: unknown key 'colums' in a contract; did you mean 'columns'?\n"
			       "unknown_key.yml:4:20: unknown key 'requird' in a column; did you mean 'required'?\n");
	free(e);
	free(p);

	p = fixture("bad_type.yml");
	e = load_errors(p);
	assert_string_equal(e,
			    "bad_type.yml:2:15: unknown type 'integr'; expected one of: int, bigint, numeric(p,s), text, "
			    "bool, date, timestamp, timestamptz, uuid; did you mean 'integer'?\n"
			    "bad_type.yml:3:19: bad arguments in type 'numeric(2,5)' (numeric(p,s): 1 <= p <= 1000, 0 <= s "
			    "<= p; varchar(n))\n"
			    "bad_type.yml:4:58: 'max_length' applies to text columns only\n");
	free(e);
	free(p);

	p = fixture("bad_regex.yml");
	e = load_errors(p);
	assert_non_null(strstr(e, "bad_regex.yml:1:7: key column 'idd' is not a column; did you mean 'id'?\n"));
	assert_non_null(strstr(e, "bad_regex.yml:4:30: bad regex '([A-Z': "));
	free(e);
	free(p);

	e = load_errors("/nonexistent/c.yml");
	assert_non_null(strstr(e, "cannot read"));
	free(e);
}

static void test_load_errors_more(void **state)
{
	(void)state;
	static const struct {
		const char *yaml, *want;
	} cases[] = {
		{"columns: [a, b]\n", "'columns' must be a mapping of column names to types, got list"},
		{"name: x\n", "contract 'x': missing required key 'columns'"},
		{"columns:\n  a: { required: true }\n", "column 'a' needs a 'type'"},
		{"columns:\n  a: { type: text, min: 3 }\n", "'min' applies to number and date columns only"},
		{"columns:\n  a: { type: date, min: 2020-13-01 }\n", "'min' must be a date like 2020-01-31"},
		{"columns:\n  a: { type: int, min: 5, max: 1 }\n", "'max' is less than 'min'"},
		{"columns:\n  a: { type: text, number_words: true }\n", "'number_words' applies to int, bigint and numeric"},
		{"columns:\n  a: { type: int, formats: [\"%Y\"] }\n", "'formats' applies to date and timestamp columns only"},
		{"columns:\n  a: { type: date, formats: [\"Ymd\"] }\n", "date format 'Ymd' has no % directive"},
		{"columns:\n  a: { type: int, required: yes }\n", "'required' must be true or false, got string"},
		{"columns:\n  a: { type: text, accepted: [x, [y]] }\n", "'accepted' must list strings or numbers, got list"},
		{"columns:\n  a: 12\n", "column 'a' must be a type or a mapping"},
		{"columns: {a: int\n", "did not find expected"},
		{"- 1\n", "a contract file must be a mapping, got list"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char path[] = "/tmp/sluice-contract-XXXXXX";
		int fd = mkstemp(path);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, cases[i].yaml, strlen(cases[i].yaml)), (ssize_t)strlen(cases[i].yaml));
		close(fd);
		char *e = load_errors(path);
		if (!strstr(e, cases[i].want))
			fail_msg("case %zu: '%s' not in '%s'", i, cases[i].want, e);
		/* every diagnostic has a place */
		assert_null(strstr(e, ":0:0:"));
		free(e);
		unlink(path);
	}
}

/* ---- types ---------------------------------------------------------------- */

/* Every column type has its row: a name, an SQL type, a check, and its
 * first spelling reads back as that type. */
static void test_type_table(void **state)
{
	(void)state;
	for (int t = 0; t < COL_N_TYPES; t++) {
		const struct col_type_def *d = &col_types[t];
		assert_non_null(d->shown);
		assert_non_null(d->word);
		assert_non_null(d->sql);
		assert_non_null(d->check);
		assert_non_null(d->spellings[0].word);
		struct contract_col c = {0};
		assert_int_equal(col_type_parse(d->spellings[0].word, &c), 0);
		assert_int_equal(c.type, t);
	}
}

static void test_type_int(void **state)
{
	(void)state;
	struct contract *c = from_yaml("columns:\n  n: int\n");
	assert_chk(c, "42", "42");
	assert_chk(c, " -7 ", "-7");
	assert_chk(c, "+3", "+3");
	assert_chk(c, "2147483647", "2147483647");
	assert_chk(c, "2147483648", "ERR 'n': '2147483648' is out of range for int");
	assert_chk(c, "-2147483649", "ERR 'n': '-2147483649' is out of range for int");
	assert_chk(c, "12abc", "ERR 'n': '12abc' is not an integer");
	assert_chk(c, "1.5", "ERR 'n': '1.5' is not an integer");
	assert_chk(c, "-", "ERR 'n': '-' is not an integer");
	assert_chk(c, "fifteen", "ERR 'n': 'fifteen' is not an integer");
	assert_chk(c, "", "NULL");
	assert_chk(c, NULL, "NULL");
	contract_free(c);

	c = from_yaml("columns:\n  n: bigint\n");
	assert_chk(c, "9223372036854775807", "9223372036854775807");
	assert_chk(c, "-9223372036854775808", "-9223372036854775808");
	assert_chk(c, "9223372036854775808", "ERR 'n': '9223372036854775808' is out of range for bigint");
	contract_free(c);
}

static void test_type_numeric(void **state)
{
	(void)state;
	struct contract *c = from_yaml("columns:\n  amount: \"numeric(6,2)\"\n");
	assert_chk(c, "12.3", "12.30");
	assert_chk(c, "12.345", "12.35");   /* rounds half away from zero, like PostgreSQL */
	assert_chk(c, "-12.345", "-12.35");
	assert_chk(c, "12.344", "12.34");
	assert_chk(c, "9999.994", "9999.99");
	assert_chk(c, "9999.995", "ERR 'amount': '9999.995' is out of range for numeric(6,2)");
	assert_chk(c, "12345", "ERR 'amount': '12345' is out of range for numeric(6,2)");
	assert_chk(c, "0.001", "0.00");
	assert_chk(c, "-0.001", "0.00");
	assert_chk(c, ".5", "0.50");
	assert_chk(c, "5.", "5.00");
	assert_chk(c, "007.10", "7.10");
	assert_chk(c, "1.5e2", "150.00");
	assert_chk(c, "15E-1", "1.50");
	assert_chk(c, "1e5", "ERR 'amount': '1e5' is out of range for numeric(6,2)");
	assert_chk(c, "abc", "ERR 'amount': 'abc' is not a number");
	assert_chk(c, "12abc", "ERR 'amount': '12abc' is not a number");
	assert_chk(c, "1.2.3", "ERR 'amount': '1.2.3' is not a number");
	assert_chk(c, "NaN", "ERR 'amount': 'NaN' is not a number");
	assert_chk(c, "1e", "ERR 'amount': '1e' is not a number");
	assert_chk(c, ".", "ERR 'amount': '.' is not a number");
	contract_free(c);

	c = from_yaml("columns:\n  x: numeric\n");
	assert_chk(c, "1.5e300", "1.5e300");
	assert_chk(c, "-0.000001", "-0.000001");
	contract_free(c);
	/* exponents within a large precision, and far beyond it */
	c = from_yaml("columns:\n  x: numeric(1000,500)\n");
	char *got = chk(c, "1e499");
	assert_int_equal(strlen(got), 500 + 1 + 500);
	assert_int_equal(got[0], '1');
	free(got);
	got = chk(c, "1e500");
	assert_string_equal(got, "ERR 'x': '1e500' is out of range for numeric(1000,500)");
	free(got);
	got = chk(c, "-1e-500");
	assert_int_equal(strlen(got), 503);
	assert_string_equal(got + 496, "0000001");
	free(got);
	/* rounds away to zero: "0." and 500 zeros */
	got = chk(c, "1e-501");
	assert_int_equal(strlen(got), 502);
	assert_int_equal(strspn(got + 2, "0"), 500);
	free(got);
	assert_chk(c, "1e999999", "ERR 'x': '1e999999' is out of range for numeric(1000,500)");
	contract_free(c);
	c = from_yaml("columns:\n  x: decimal(3)\n");
	assert_chk(c, "999.4", "999");
	assert_chk(c, "999.5", "ERR 'x': '999.5' is out of range for numeric(3,0)");
	contract_free(c);
}

static void test_type_text(void **state)
{
	(void)state;
	struct contract *c = from_yaml("columns:\n  t: { type: text, max_length: 4 }\n");
	assert_chk(c, "abcd", "abcd");
	assert_chk(c, " ab ", " ab ");       /* text is not trimmed unless asked */
	assert_chk(c, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"); /* characters, not bytes */
	assert_chk(c, "abcde", "ERR 't': 'abcde' is longer than 4 characters");
	assert_chk(c, "", "");               /* an empty text is a value */
	contract_free(c);
	c = from_yaml("columns:\n  t: varchar(2)\n");
	assert_int_equal(c->cols[0].max_length, 2);
	assert_chk(c, "abc", "ERR 't': 'abc' is longer than 2 characters");
	contract_free(c);
}

static void test_type_bool(void **state)
{
	(void)state;
	struct contract *c = from_yaml("columns:\n  b: boolean\n");
	static const char *const yes[] = {"true", "TRUE", "t", "yes", "Y", "1", "on"};
	static const char *const no[] = {"false", "f", "No", "n", "0", "OFF"};
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
		assert_chk(c, yes[i], "t");
	for (size_t i = 0; i < sizeof no / sizeof *no; i++)
		assert_chk(c, no[i], "f");
	assert_chk(c, "maybe", "ERR 'b': 'maybe' is not a boolean (true/false, yes/no, t/f, 1/0)");
	contract_free(c);
}

static void test_type_dates(void **state)
{
	(void)state;
	struct contract *c = from_yaml("columns:\n  d: date\n");
	assert_chk(c, "2024-02-29", "2024-02-29");
	assert_chk(c, "2023-02-29", "ERR 'd': '2023-02-29' is not a valid date (expected YYYY-MM-DD)");
	assert_chk(c, "2021-13-01", "ERR 'd': '2021-13-01' is not a valid date (expected YYYY-MM-DD)");
	assert_chk(c, "2021-1-01", "ERR 'd': '2021-1-01' is not a valid date (expected YYYY-MM-DD)");
	assert_chk(c, "2021-01-01 10:00", "ERR 'd': '2021-01-01 10:00' is not a valid date (expected YYYY-MM-DD)");
	contract_free(c);

	c = from_yaml("columns:\n  ts: timestamp\n");
	assert_chk(c, "2021-03-01", "2021-03-01 00:00:00");
	assert_chk(c, "2021-03-01 12:34", "2021-03-01 12:34:00");
	assert_chk(c, "2021-03-01T12:34:56.5", "2021-03-01 12:34:56.500000");
	assert_chk(c, "2021-03-01T12:34:56.1234567", "2021-03-01 12:34:56.123456");
	assert_chk(c, "2021-03-01 24:00:00",
		   "ERR 'ts': '2021-03-01 24:00:00' is not a valid timestamp (expected ISO 8601, e.g. 2021-03-01 12:00:00)");
	contract_free(c);

	c = from_yaml("columns:\n  tz: timestamptz\n");
	assert_chk(c, "2021-03-01T12:00:00Z", "2021-03-01 12:00:00+00");
	assert_chk(c, "2021-03-01T12:00:00", "2021-03-01 12:00:00+00"); /* no zone: UTC */
	assert_chk(c, "2021-03-01T01:30:00+02:00", "2021-02-28 23:30:00+00");
	assert_chk(c, "2020-12-31T23:00:00-0130", "2021-01-01 00:30:00+00");
	assert_chk(c, "2021-03-01T12:00:00+2", "ERR 'tz': '2021-03-01T12:00:00+2' is not a valid timestamp (expected ISO "
					       "8601, e.g. 2021-03-01 12:00:00)");
	contract_free(c);
}

static void test_type_uuid(void **state)
{
	(void)state;
	struct contract *c = from_yaml("columns:\n  u: uuid\n");
	assert_chk(c, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
	assert_chk(c, "{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
	assert_chk(c, "a0eebc999c0b4ef8bb6d6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
	assert_chk(c, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", "ERR 'u': 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1' is not a valid UUID");
	assert_chk(c, "a0eebc99x9c0b-4ef8-bb6d-6bb9bd380a11", "ERR 'u': 'a0eebc99x9c0b-4ef8-bb6d-6bb9bd380a11' is not a valid UUID");
	assert_chk(c, "g0eebc999c0b4ef8bb6d6bb9bd380a11", "ERR 'u': 'g0eebc999c0b4ef8bb6d6bb9bd380a11' is not a valid UUID");
	contract_free(c);
}

/* ---- rules ---------------------------------------------------------------- */

static void test_rule_required(void **state)
{
	(void)state;
	struct contract *c = from_yaml("columns:\n  r: { type: text, required: true }\n");
	assert_chk(c, NULL, "ERR 'r': a value is required");
	assert_chk(c, "", "");
	contract_free(c);
	c = from_yaml("columns:\n  r: { type: text, required: true, null: [\"\"] }\n");
	assert_chk(c, "", "ERR 'r': a value is required");
	contract_free(c);
	c = from_yaml("columns:\n  r: { type: int, required: true }\n");
	assert_chk(c, "  ", "ERR 'r': a value is required");
	contract_free(c);
}

static void test_rule_regex(void **state)
{
	(void)state;
	struct contract *c = from_yaml("columns:\n  code: { type: text, regex: \"^[A-Z]{3}$\" }\n");
	assert_chk(c, "ABC", "ABC");
	assert_chk(c, "ABCD", "ERR 'code': 'ABCD' does not match ^[A-Z]{3}$");
	assert_chk(c, "abc", "ERR 'code': 'abc' does not match ^[A-Z]{3}$");
	assert_chk(c, NULL, "NULL");
	contract_free(c);
}

static void test_rule_min_max(void **state)
{
	(void)state;
	struct contract *c = from_yaml("columns:\n  n: { type: int, min: 1, max: 10 }\n");
	assert_chk(c, "1", "1");
	assert_chk(c, "10", "10");
	assert_chk(c, "0", "ERR 'n': '0' is less than the minimum 1");
	assert_chk(c, "11", "ERR 'n': '11' is greater than the maximum 10");
	contract_free(c);
	c = from_yaml("columns:\n  x: { type: numeric, min: -1.5 }\n");
	assert_chk(c, "-1.5", "-1.5");
	assert_chk(c, "-1.51", "ERR 'x': '-1.51' is less than the minimum -1.5");
	contract_free(c);
	c = from_yaml("columns:\n  d: { type: date, min: \"2020-01-01\", max: \"2020-12-31\" }\n");
	assert_chk(c, "2020-06-01", "2020-06-01");
	assert_chk(c, "2019-12-31", "ERR 'd': '2019-12-31' is before the minimum 2020-01-01");
	assert_chk(c, "2021-01-01", "ERR 'd': '2021-01-01' is after the maximum 2020-12-31");
	contract_free(c);
	c = from_yaml("columns:\n  t: { type: timestamptz, max: \"2020-01-01 12:00:00\" }\n");
	assert_chk(c, "2020-01-01T13:30:00+02:00", "2020-01-01 11:30:00+00");
	assert_chk(c, "2020-01-01T12:00:01Z", "ERR 't': '2020-01-01T12:00:01Z' is after the maximum 2020-01-01 12:00:00");
	contract_free(c);
}

static void test_rule_accepted(void **state)
{
	(void)state;
	struct contract *c = from_yaml("columns:\n  status: { type: text, accepted: [active, left] }\n");
	assert_chk(c, "active", "active");
	assert_chk(c, "Active", "ERR 'status': 'Active' is not one of the accepted values (active, left)");
	contract_free(c);
	c = from_yaml("columns:\n  n: { type: int, accepted: [1, 2, 3] }\n");
	assert_chk(c, "2", "2");
	assert_chk(c, "4", "ERR 'n': '4' is not one of the accepted values (1, 2, 3)");
	contract_free(c);
}

static void test_reason_truncated(void **state)
{
	(void)state;
	struct contract *c = from_yaml("columns:\n  n: int\n");
	char *long_value = xmalloc(200);
	memset(long_value, 'x', 199);
	long_value[199] = '\0';
	long_value[38] = '\xc3'; /* a two-byte character across the cut */
	long_value[39] = '\xa9';
	long_value[40] = '\xc3';
	long_value[41] = '\xa9';
	char *got = chk(c, long_value);
	assert_string_equal(got, "ERR 'n': 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\xc3\xa9...' is not an integer");
	free(got);
	free(long_value);
	contract_free(c);
}

/* ---- cleaning ------------------------------------------------------------- */

static void test_clean_trim_and_nulls(void **state)
{
	(void)state;
	struct contract *c = from_yaml("columns:\n  t: { type: text, trim: true, null: [\"\", NA, \"n/a\"] }\n");
	assert_chk(c, "  x y \t", "x y");
	assert_chk(c, " NA ", "NULL");
	assert_chk(c, "n/a", "NULL");
	assert_chk(c, "", "NULL");
	assert_chk(c, "na", "na");
	contract_free(c);
	/* defaults at the top apply to every column that does not say otherwise */
	c = from_yaml("trim: true\nnull: [\"-\"]\ncolumns:\n  t: text\n");
	assert_chk(c, " a ", "a");
	assert_chk(c, "-", "NULL");
	contract_free(c);
	/* a number column with its own null tokens: an empty value is not one */
	c = from_yaml("columns:\n  n: { type: int, null: [NA] }\n");
	assert_chk(c, "NA", "NULL");
	assert_chk(c, "", "ERR 'n': '' is not an integer");
	contract_free(c);
}

static void test_clean_date_formats(void **state)
{
	(void)state;
	struct contract *c = from_yaml("columns:\n  ts: { type: timestamp, formats: [\"%m/%d/%Y %H:%M\", \"%Y-%m-%d\"] }\n");
	assert_chk(c, "12/1/2010 8:26", "2010-12-01 08:26:00");
	assert_chk(c, "2010-12-01", "2010-12-01 00:00:00");
	assert_chk(c, "2/30/2010 8:26", "ERR 'ts': '2/30/2010 8:26' is not a valid timestamp (expected %m/%d/%Y %H:%M or "
					"%Y-%m-%d)");
	assert_chk(c, "12/1/2010 8:26 extra", "ERR 'ts': '12/1/2010 8:26 extra' is not a valid timestamp (expected "
					      "%m/%d/%Y %H:%M or %Y-%m-%d)");
	contract_free(c);
	c = from_yaml("columns:\n  d: { type: date, formats: [\"%d.%m.%Y\"] }\n");
	assert_chk(c, "31.12.1999", "1999-12-31");
	assert_chk(c, "1999-12-31", "ERR 'd': '1999-12-31' is not a valid date (expected %d.%m.%Y)");
	contract_free(c);
	c = from_yaml("columns:\n  tz: { type: timestamptz, formats: [\"%Y-%m-%d %H:%M:%S.%f %z\", \"%d/%m/%Y\"] }\n");
	assert_chk(c, "2021-06-01 10:00:00.25 +0200", "2021-06-01 08:00:00.250000+00");
	assert_chk(c, "01/06/2021", "2021-06-01 00:00:00+00");
	contract_free(c);
}

static void test_clean_number_words(void **state)
{
	(void)state;
	struct contract *c = from_yaml("columns:\n  q: { type: int, number_words: true }\n");
	assert_chk(c, "fifteen", "15");
	assert_chk(c, "Two Hundred", "200");
	assert_chk(c, "12", "12");
	assert_chk(c, "twelve apples", "ERR 'q': 'twelve apples' is not an integer");
	contract_free(c);
	c = from_yaml("columns:\n  a: { type: \"numeric(8,2)\", number_words: true }\n");
	assert_chk(c, "one thousand two hundred and five", "1205.00");
	assert_chk(c, "3.5", "3.50");
	contract_free(c);

	static const struct {
		const char *text;
		long long v;
	} ok[] = {
		{"zero", 0}, {"one", 1}, {"fifteen", 15}, {"Two Hundred", 200}, {"twenty-one", 21},
		{"twenty one", 21}, {"ninety-nine", 99}, {"one thousand two hundred and five", 1205},
		{"a hundred", 100}, {"minus three", -3}, {"negative forty two", -42}, {"twelve hundred", 1200},
		{"one million, two hundred thousand", 1200000}, {"FIVE BILLION", 5000000000LL},
		{"three hundred thousand and one", 300001}, {"one hundred and twenty-three", 123},
	};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		long long v = -999;
		if (number_words_parse(ok[i].text, &v) < 0 || v != ok[i].v)
			fail_msg("'%s': got %lld, want %lld", ok[i].text, v, ok[i].v);
	}
	static const char *const bad[] = {
		"", "five five", "hello", "twenty thirty", "hundred", "one hundred hundred", "zero one",
		"one and", "and one", "thousand", "one thousand one million", "fifteen three", "minus", "a",
		"twenty-one-two", "12", "one two three", "minus minus one",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		long long v;
		if (number_words_parse(bad[i], &v) == 0)
			fail_msg("'%s' parsed as %lld", bad[i], v);
	}
}

/* ---- keys ----------------------------------------------------------------- */

static void test_keys(void **state)
{
	(void)state;
	struct contract *c = from_yaml("key: [a, b]\ncolumns:\n  a: text\n  x: text\n  b: int\n");
	struct contract_keys *k = contract_keys_new(c);
	int64_t first = 0;
	const char *r1[] = {"x", "ignored", "1"};
	const char *r2[] = {"x", "other", "2"};
	const char *r3[] = {"x", "again", "1"};
	const char *r4[] = {"x1", "", ""};  /* not confused with ("x", "1") */
	const char *r5[] = {NULL, "", "1"};
	const char *r6[] = {"", "", "1"};   /* NULL and empty differ */
	assert_int_equal(contract_keys_add(k, r1, 2, &first), 0);
	assert_int_equal(contract_keys_add(k, r2, 3, &first), 0);
	assert_int_equal(contract_keys_add(k, r3, 4, &first), 1);
	assert_int_equal(first, 2);
	assert_int_equal(contract_keys_add(k, r4, 5, &first), 0);
	assert_int_equal(contract_keys_add(k, r5, 6, &first), 0);
	assert_int_equal(contract_keys_add(k, r6, 7, &first), 0);
	assert_int_equal(contract_keys_add(k, r5, 8, &first), 1);
	assert_int_equal(first, 6);
	assert_int_equal(contract_keys_count(k), 5);
	/* many keys: the table grows and still finds every one */
	char a[32], b[32];
	for (int i = 0; i < 100000; i++) {
		snprintf(a, sizeof a, "k%d", i);
		snprintf(b, sizeof b, "%d", i % 7);
		const char *row[] = {a, "", b};
		assert_int_equal(contract_keys_add(k, row, 100 + i, &first), 0);
	}
	for (int i = 0; i < 100000; i += 997) {
		snprintf(a, sizeof a, "k%d", i);
		snprintf(b, sizeof b, "%d", i % 7);
		const char *row[] = {a, "", b};
		assert_int_equal(contract_keys_add(k, row, 1, &first), 1);
		assert_int_equal(first, 100 + i);
	}
	assert_int_equal(contract_keys_count(k), 100005);
	contract_keys_free(k);
	contract_free(c);

	/* ids one after another (their slots side by side), lines past 32 bits */
	c = from_yaml("key: [id]\ncolumns:\n  id: bigint\n");
	k = contract_keys_new(c);
	for (int i = 0; i < 200000; i++) {
		snprintf(a, sizeof a, "%d", i);
		const char *row[] = {a};
		assert_int_equal(contract_keys_add(k, row, ((int64_t)1 << 40) + i, &first), 0);
	}
	for (int i = 0; i < 200000; i += 1009) {
		snprintf(a, sizeof a, "%d", i);
		const char *row[] = {a};
		assert_int_equal(contract_keys_add(k, row, 1, &first), 1);
		assert_int_equal(first, ((int64_t)1 << 40) + i);
	}
	const char *nul[] = {NULL}, *empty[] = {""};
	assert_int_equal(contract_keys_add(k, nul, 5, &first), 0);
	assert_int_equal(contract_keys_add(k, empty, 6, &first), 0);
	assert_int_equal(contract_keys_add(k, nul, 7, &first), 1);
	assert_int_equal(first, 5);
	contract_keys_free(k);
	contract_free(c);

	/* no key: every row is new */
	c = from_yaml("columns:\n  a: text\n");
	k = contract_keys_new(c);
	const char *row[] = {"same"};
	assert_int_equal(contract_keys_add(k, row, 1, &first), 0);
	assert_int_equal(contract_keys_add(k, row, 2, &first), 0);
	contract_keys_free(k);
	contract_free(c);
	contract_keys_free(NULL);
	contract_free(NULL);
	contract_scratch_free(NULL);
}

/* Simple regexes are matched without regexec (fastre.c): the same answer as
 * regexec for every pattern and value, and the ones it cannot read left
 * to regexec. */
static void test_fast_regex(void **state)
{
	(void)state;
	static const char *const simple[] = {
		"^REF-[0-9a-f]{24}$", "^[A-Z]{3}$", "a.c", "x+y?z*", "^\\.[[:digit:]]{2,4}$", "[^a-c]+$", "^a{2,}b",
		"^[]x-]*$", "^a*a*a*b$", "", "^$", "o{0}k", "^[[:alpha:]_][[:alnum:]_]*$", "a\\+b",
	};
	static const char *const values[] = {
		"REF-0123456789abcdef01234567", "REF-0123456789abcdef0123456", "REF-0123456789ABCDEF01234567", "ABC", "AB",
		"abc", "xabcx", "a", "", "xyz", "xz", "yz", ".12", ".12345", "x.123", "dd", "abc d", "aab", "aaab", "ab",
		"]x-", "ok", "k", "_id9", "9id", "a+b", "aab", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac",
		"line\nbreak", "tab\there", "ü", "REF-0123456789abcdef0123456ü",
	};
	for (size_t i = 0; i < N_OF(simple); i++) {
		struct fast_re *f = fast_re_compile(simple[i]);
		assert_non_null(f);
		regex_t re;
		assert_int_equal(regcomp(&re, simple[i], REG_EXTENDED | REG_NOSUB), 0);
		for (size_t k = 0; k < N_OF(values); k++) {
			int want = regexec(&re, values[k], 0, NULL, 0) == 0;
			int got = fast_re_match(f, values[k], strlen(values[k]));
			if (got >= 0 && got != want)
				fail_msg("/%s/ on '%s': %d, regexec %d", simple[i], values[k], got, want);
		}
		regfree(&re);
		fast_re_free(f);
	}
	/* past ASCII: regexec's (the locale's) answer */
	struct fast_re *f = fast_re_compile("^.$");
	assert_int_equal(fast_re_match(f, "ü", strlen("ü")), -1);
	fast_re_free(f);
	static const char *const other[] = {"(a|b)", "a|b", "a{2}{3}", "\\w+", "ab$c", "a^b", "x**", "\\1", "é", "[a"};
	for (size_t i = 0; i < N_OF(other); i++)
		assert_null(fast_re_compile(other[i]));
}

/* Plain strptime formats are read without strptime: the same times and the
 * same refusals as strptime's (a format with a space goes to strptime, and
 * a trailing space changes nothing else). */
static void test_fast_strptime(void **state)
{
	(void)state;
	static const char *const fmts[] = {"%Y-%m-%dT%H:%M:%SZ", "%d/%m/%Y", "%Y%m%d", "%Y-%m-%d%%", "%H:%M %d.%m.%Y"};
	static const char *const values[] = {
		"2025-03-01T12:34:56Z", "2025-3-1T1:2:3Z", " 2025-03-01T12:34:56Z", "2025-13-01T00:00:00Z",
		"2025-02-30T00:00:00Z", "25-03-01T00:00:00Z", "12025-03-01T00:00:00Z", "2025-03-01T24:00:00Z",
		"2025-03-01T23:60:00Z", "2025-03-01T23:59:60Z", "2025-03-01T23:59:59", "2025-03-01T23:59:59Zx",
		"2025-03-01T23:59:59Z  ", "", "2025-03-01T12: 4:56Z", "01/02/2024", "1/2/2024", "31/12/9999", "20240229",
		"20230229", "2024-02-29%", "2024-02-29", "12:30 01.02.2024", "0000-01-01T00:00:00Z", "2024-1-011T0:0:0Z",
	};
	for (size_t i = 0; i < N_OF(fmts); i++) {
		char *slow = xasprintf("%s ", fmts[i]);
		char *fa[1] = {(char *)fmts[i]}, *sa[1] = {slow}, *fb[1] = {NULL};
		bool tz[1] = {false};
		struct col_priv fast = {.fmt_a = fa, .fmt_b = fb, .fmt_tz = tz}, ref = {.fmt_a = sa, .fmt_b = fb, .fmt_tz = tz};
		for (size_t k = 0; k < N_OF(values); k++) {
			struct when a, b;
			int ra = when_fmt_parse(&fast, 0, values[k], &a), rb = when_fmt_parse(&ref, 0, values[k], &b);
			if (ra != rb || (ra == 0 && memcmp(&a, &b, sizeof a)))
				fail_msg("'%s' as %s: %d, strptime %d", values[k], fmts[i], ra, rb);
		}
		free(slow);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_fixture),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_load_errors_more),
		cmocka_unit_test(test_type_table),
		cmocka_unit_test(test_type_int),
		cmocka_unit_test(test_type_numeric),
		cmocka_unit_test(test_type_text),
		cmocka_unit_test(test_type_bool),
		cmocka_unit_test(test_type_dates),
		cmocka_unit_test(test_type_uuid),
		cmocka_unit_test(test_rule_required),
		cmocka_unit_test(test_rule_regex),
		cmocka_unit_test(test_rule_min_max),
		cmocka_unit_test(test_rule_accepted),
		cmocka_unit_test(test_reason_truncated),
		cmocka_unit_test(test_clean_trim_and_nulls),
		cmocka_unit_test(test_clean_date_formats),
		cmocka_unit_test(test_clean_number_words),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_fast_regex),
		cmocka_unit_test(test_fast_strptime),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
