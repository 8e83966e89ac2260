/* Unit tests: YAML into jansson with positions. */
#include "tests/unit/unit.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/util.h"
#include "core/yamltree.h"

struct doc {
	json_t *root;
	struct ypos *pos;
};

static struct doc load_ok(const char *text)
{
	struct doc d;
	struct err e = {0};
	int rc = yaml_load_string("t.yml", text, strlen(text), &d.root, &d.pos, &e);
	if (rc)
		fail_msg("unexpected error: %s", e.msg);
	return d;
}

static void doc_free(struct doc *d)
{
	json_decref(d->root);
	ypos_free(d->pos);
}

static void load_err(const char *text, const char *want)
{
	json_t *root = (json_t *)1;
	struct ypos *pos = (struct ypos *)1;
	struct err e = {0};
	int rc = yaml_load_string("t.yml", text, strlen(text), &root, &pos, &e);
	assert_int_equal(rc, ERR_FAIL);
	assert_null(root);
	assert_null(pos);
	assert_string_equal(e.msg, want);
}

#define assert_loc(l, L, C)                          \
	do {                                         \
		struct loc l_ = (l);                 \
		assert_int_equal(l_.line, (L));      \
		assert_int_equal(l_.col, (C));       \
	} while (0)

static void test_positions(void **state)
{
	(void)state;
	struct doc d = load_ok("name: demo\n"
			       "tasks:\n"
			       "  a:\n"
			       "    kind: shell\n"
			       "  b: [1, \"x\", {k: v}]\n"
			       "list:\n"
			       "  - one\n"
			       "  -   two\n");
	assert_string_equal(ypos_file(d.pos), "t.yml");
	assert_loc(ypos_root(d.pos), 1, 1);
	assert_loc(ypos_key(d.pos, d.root, "name"), 1, 1);
	assert_loc(ypos_value(d.pos, d.root, "name"), 1, 7);
	assert_loc(ypos_key(d.pos, d.root, "tasks"), 2, 1);
	json_t *tasks = json_object_get(d.root, "tasks");
	assert_loc(ypos_value(d.pos, d.root, "tasks"), 3, 3);
	assert_loc(ypos_key(d.pos, tasks, "a"), 3, 3);
	assert_loc(ypos_value(d.pos, tasks, "a"), 4, 5);
	json_t *a = json_object_get(tasks, "a");
	assert_loc(ypos_value(d.pos, a, "kind"), 4, 11);
	json_t *b = json_object_get(tasks, "b");
	assert_loc(ypos_value(d.pos, tasks, "b"), 5, 6);
	assert_loc(ypos_item(d.pos, b, 0), 5, 7);
	assert_loc(ypos_item(d.pos, b, 1), 5, 10);
	assert_loc(ypos_item(d.pos, b, 2), 5, 15);
	assert_loc(ypos_value(d.pos, json_array_get(b, 2), "k"), 5, 19);
	json_t *list = json_object_get(d.root, "list");
	assert_loc(ypos_item(d.pos, list, 0), 7, 5);
	assert_loc(ypos_item(d.pos, list, 1), 8, 7);
	/* unknown places are 0:0 with the file still named */
	struct loc none = ypos_value(d.pos, d.root, "nope");
	assert_int_equal(none.line, 0);
	assert_string_equal(none.file, "t.yml");
	assert_loc(ypos_item(d.pos, list, 9), 0, 0);
	doc_free(&d);
}

static void test_positions_shared_singletons(void **state)
{
	(void)state;
	/* true/null are one jansson object each: positions must still differ */
	struct doc d = load_ok("a: true\nb:  true\nc: ~\nd:    null\n");
	assert_ptr_equal(json_object_get(d.root, "a"), json_object_get(d.root, "b"));
	assert_loc(ypos_value(d.pos, d.root, "a"), 1, 4);
	assert_loc(ypos_value(d.pos, d.root, "b"), 2, 5);
	assert_loc(ypos_value(d.pos, d.root, "c"), 3, 4);
	assert_loc(ypos_value(d.pos, d.root, "d"), 4, 7);
	doc_free(&d);
}

static void test_utf8_columns(void **state)
{
	(void)state;
	/* columns count characters, like libyaml and editors do */
	struct doc d = load_ok("k: \"\xc3\xa9t\xc3\xa9\"\nx: {\xc3\xa9: 1, y: 2}\n");
	json_t *x = json_object_get(d.root, "x");
	assert_loc(ypos_value(d.pos, x, "y"), 2, 14);
	/* offset 2 is the 't' after a two-byte character */
	assert_loc(ypos_value_offset(d.pos, d.root, "k", 0, 2), 1, 6);
	doc_free(&d);
}

static void test_scalar_types(void **state)
{
	(void)state;
	struct doc d = load_ok("i: 42\n"
			       "neg: -7\n"
			       "pos: +3\n"
			       "hex: 0x1F\n"
			       "oct: 0o17\n"
			       "f: 1.5\n"
			       "e: 1e3\n"
			       "dot: .5\n"
			       "t: true\n"
			       "T: True\n"
			       "F: FALSE\n"
			       "n1: ~\n"
			       "n2: null\n"
			       "n3:\n"
			       "yes: yes\n"
			       "date: 2026-01-01\n"
			       "qi: \"42\"\n"
			       "sq: 'true'\n"
			       "inf: .inf\n"
			       "ver: 1.2.3\n"
			       "tagged: !!str 12\n"
			       "tf: !!float 3\n"
			       "block: |\n"
			       "  12\n"
			       "folded: >\n"
			       "  a\n"
			       "  b\n");
	json_t *r = d.root;
	assert_true(json_is_integer(json_object_get(r, "i")));
	assert_int_equal(json_integer_value(json_object_get(r, "i")), 42);
	assert_int_equal(json_integer_value(json_object_get(r, "neg")), -7);
	assert_int_equal(json_integer_value(json_object_get(r, "pos")), 3);
	assert_int_equal(json_integer_value(json_object_get(r, "hex")), 31);
	assert_int_equal(json_integer_value(json_object_get(r, "oct")), 15);
	assert_true(json_is_real(json_object_get(r, "f")));
	assert_true(json_real_value(json_object_get(r, "f")) == 1.5);
	assert_true(json_real_value(json_object_get(r, "e")) == 1000.0);
	assert_true(json_real_value(json_object_get(r, "dot")) == 0.5);
	assert_true(json_is_true(json_object_get(r, "t")));
	assert_true(json_is_true(json_object_get(r, "T")));
	assert_true(json_is_false(json_object_get(r, "F")));
	assert_true(json_is_null(json_object_get(r, "n1")));
	assert_true(json_is_null(json_object_get(r, "n2")));
	assert_true(json_is_null(json_object_get(r, "n3")));
	/* YAML 1.2: yes/no are strings, dates are strings */
	assert_string_equal(json_string_value(json_object_get(r, "yes")), "yes");
	assert_string_equal(json_string_value(json_object_get(r, "date")), "2026-01-01");
	assert_string_equal(json_string_value(json_object_get(r, "qi")), "42");
	assert_string_equal(json_string_value(json_object_get(r, "sq")), "true");
	assert_string_equal(json_string_value(json_object_get(r, "inf")), ".inf");
	assert_string_equal(json_string_value(json_object_get(r, "ver")), "1.2.3");
	assert_string_equal(json_string_value(json_object_get(r, "tagged")), "12");
	assert_true(json_is_real(json_object_get(r, "tf")));
	assert_string_equal(json_string_value(json_object_get(r, "block")), "12\n");
	assert_string_equal(json_string_value(json_object_get(r, "folded")), "a b\n");
	doc_free(&d);
}

static void test_scalar_errors(void **state)
{
	(void)state;
	load_err("a: 99999999999999999999\n", "t.yml:1:4: integer '99999999999999999999' is out of range");
	load_err("a: 1e999\n", "t.yml:1:4: number '1e999' is out of range");
	load_err("a: !!int x\n", "t.yml:1:4: 'x' is not a valid !!int");
	load_err("a: !Ref x\n", "t.yml:1:4: unsupported tag '!Ref'");
}

static void test_empty_and_documents(void **state)
{
	(void)state;
	struct doc d = load_ok("");
	assert_true(json_is_null(d.root));
	assert_loc(ypos_root(d.pos), 1, 1);
	doc_free(&d);
	d = load_ok("# only a comment\n");
	assert_true(json_is_null(d.root));
	doc_free(&d);
	d = load_ok("- 1\n- 2\n");
	assert_int_equal(json_array_size(d.root), 2);
	doc_free(&d);
	load_err("a: 1\n---\nb: 2\n", "t.yml:2:1: expected a single YAML document, found a second one");
}

static void test_aliases(void **state)
{
	(void)state;
	struct doc d = load_ok("base: &b\n"
			       "  x: 1\n"
			       "  y: [a, b]\n"
			       "use: *b\n"
			       "s: &s hello\n"
			       "t: *s\n"
			       "merged:\n"
			       "  <<: *b\n"
			       "  x: 2\n"
			       "  z: 3\n"
			       "many:\n"
			       "  <<: [*b, {w: 4}]\n");
	json_t *r = d.root;
	json_t *base = json_object_get(r, "base"), *use = json_object_get(r, "use");
	assert_true(json_equal(base, use));
	/* a copy: changing one does not change the other */
	assert_ptr_not_equal(base, use);
	json_object_set_new(use, "x", json_integer(5));
	assert_int_equal(json_integer_value(json_object_get(base, "x")), 1);
	/* positions inside the copy point at the anchored text */
	assert_loc(ypos_value(d.pos, r, "use"), 4, 6);
	assert_loc(ypos_value(d.pos, use, "y"), 3, 6);
	assert_loc(ypos_item(d.pos, json_object_get(use, "y"), 1), 3, 10);
	assert_string_equal(json_string_value(json_object_get(r, "t")), "hello");
	assert_loc(ypos_value(d.pos, r, "t"), 6, 4);
	json_t *m = json_object_get(r, "merged");
	assert_int_equal(json_integer_value(json_object_get(m, "x")), 2);
	assert_int_equal(json_integer_value(json_object_get(m, "z")), 3);
	assert_true(json_is_array(json_object_get(m, "y")));
	assert_null(json_object_get(m, "<<"));
	assert_loc(ypos_value(d.pos, m, "x"), 9, 6);
	assert_loc(ypos_key(d.pos, m, "y"), 3, 3);
	json_t *many = json_object_get(r, "many");
	assert_int_equal(json_object_size(many), 3);
	assert_int_equal(json_integer_value(json_object_get(many, "w")), 4);
	doc_free(&d);

	load_err("a: *nope\n", "t.yml:1:4: unknown alias '*nope' (an anchor must be complete before use)");
	load_err("a: &x [1, *x]\n", "t.yml:1:11: unknown alias '*x' (an anchor must be complete before use)");
	load_err("a: 1\nb:\n  <<: [1]\n", "t.yml:3:8: '<<' merges mappings only");
}

static void test_duplicate_keys(void **state)
{
	(void)state;
	load_err("a: 1\nb: 2\na: 3\n", "t.yml:3:1: duplicate key 'a' (first defined at 1:1)");
	load_err("m:\n  k: 1\n  j: 2\n  k: {x: 1}\n", "t.yml:4:3: duplicate key 'k' (first defined at 2:3)");

	/* kept and recorded on request, so a caller can report them all */
	const char *text = "a: 1\na: 2\nm: {b: 1, b: [2]}\n";
	json_t *root;
	struct ypos *pos;
	struct err e = {0};
	assert_int_equal(yaml_load_ex("t.yml", text, strlen(text), YAML_KEEP_DUPLICATES, &root, &pos, NULL, &e), 0);
	assert_int_equal(json_integer_value(json_object_get(root, "a")), 1);
	assert_int_equal(ypos_n_dups(pos), 2);
	const struct ydup *d0 = ypos_dup(pos, 0), *d1 = ypos_dup(pos, 1);
	assert_ptr_equal(d0->parent, root);
	assert_string_equal(d0->key, "a");
	assert_loc(d0->first, 1, 1);
	assert_loc(d0->again, 2, 1);
	assert_ptr_equal(d1->parent, json_object_get(root, "m"));
	assert_string_equal(d1->key, "b");
	assert_loc(d1->first, 3, 5);
	assert_loc(d1->again, 3, 11);
	assert_null(ypos_dup(pos, 2));
	json_decref(root);
	ypos_free(pos);
}

static void test_syntax_errors(void **state)
{
	(void)state;
	load_err("a: 1\n b: 2\n", "t.yml:2:3: mapping values are not allowed in this context");
	load_err("a: [1, 2\nb: 3\n",
		 "t.yml:2:2: did not find expected ',' or ']' (while parsing a flow sequence at 1:4)");
	load_err("a:\n  - x\n  y: 1\n",
		 "t.yml:3:3: did not find expected '-' indicator (while parsing a block collection at 2:3)");
	load_err("a: \"open\n", "t.yml:1:4: a quoted scalar is not closed before the end of the file");
	load_err("a: 'x\nb: 2\n", "t.yml:1:4: a quoted scalar is not closed before the end of the file");
	load_err("a: \t\x01\n", "t.yml:1:5: control characters are not allowed (byte 0x01)");
	load_err("{a: 1}: 2\n", "t.yml:1:1: a mapping key must be a scalar");

	/* yaml_load_ex gives the place apart from the message */
	json_t *root;
	struct ypos *pos;
	struct err e = {0};
	struct loc at;
	const char *text = "x: 1\n y: 2\n";
	assert_int_equal(yaml_load_ex("f.yml", text, strlen(text), 0, &root, &pos, &at, &e), ERR_FAIL);
	assert_string_equal(at.file, "f.yml");
	assert_loc(at, 2, 3);
	assert_string_equal(e.msg, "mapping values are not allowed in this context");
}

static void test_load_file(void **state)
{
	(void)state;
	char path[] = "/tmp/sluice-yt-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "k: v\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	json_t *root;
	struct ypos *pos;
	struct err e = {0};
	assert_int_equal(yaml_load_file(path, &root, &pos, &e), 0);
	assert_string_equal(ypos_file(pos), path);
	assert_string_equal(json_string_value(json_object_get(root, "k")), "v");
	json_decref(root);
	ypos_free(pos);
	unlink(path);
	assert_int_equal(yaml_load_file(path, &root, &pos, &e), ERR_NOTFOUND);
	assert_null(root);
	assert_null(pos);
}

static void test_value_offset(void **state)
{
	(void)state;
	struct doc d = load_ok("plain: echo {{ ds }}\n"
			       "sq: 'it''s {{ x }}'\n"
			       "dq: \"a\\tb\\u00e9 {{ y }}\"\n"
			       "lit: |\n"
			       "  select 1\n"
			       "    from {{ t }}\n"
			       "\n"
			       "  where {{ w }}\n"
			       "multi: first line\n"
			       "  second {{ z }}\n"
			       "folded: >\n"
			       "  a {{ q }}\n"
			       "seq: [\"{{ i }}\", 'a {{ j }}']\n");
	json_t *r = d.root;
	/* plain: "echo {{ ds }}" offset 5 is the first '{' at column 13 */
	assert_loc(ypos_value_offset(d.pos, r, "plain", 0, 5), 1, 13);
	assert_loc(ypos_value_offset(d.pos, r, "plain", 0, 0), 1, 8);
	/* single quoted: value "it's {{ x }}", '{' at 5; source col 4 + 1 quote + 6 */
	assert_loc(ypos_value_offset(d.pos, r, "sq", 0, 5), 2, 12);
	/* double quoted with escapes: "a\tb\u00e9 " is 5 bytes + 1 = '{' at 6 (é is 2 bytes) */
	const char *dq = json_string_value(json_object_get(r, "dq"));
	assert_int_equal(strstr(dq, "{{") - dq, 6);
	assert_loc(ypos_value_offset(d.pos, r, "dq", 0, 6), 3, 17);
	/* literal block: line 2 of the value, "  from {{ t }}" */
	const char *lit = json_string_value(json_object_get(r, "lit"));
	size_t off = (size_t)(strstr(lit, "{{ t") - lit);
	assert_loc(ypos_value_offset(d.pos, r, "lit", 0, off), 6, 10);
	off = (size_t)(strstr(lit, "{{ w") - lit);
	assert_loc(ypos_value_offset(d.pos, r, "lit", 0, off), 8, 9);
	/* multi-line plain folds the break into a space */
	const char *multi = json_string_value(json_object_get(r, "multi"));
	assert_string_equal(multi, "first line second {{ z }}");
	assert_loc(ypos_value_offset(d.pos, r, "multi", 0, 18), 10, 10);
	/* folded blocks give the scalar's start */
	assert_loc(ypos_value_offset(d.pos, r, "folded", 0, 2), 11, 9);
	/* sequence items (key NULL) */
	json_t *seq = json_object_get(r, "seq");
	assert_loc(ypos_value_offset(d.pos, seq, NULL, 0, 0), 13, 8);
	assert_loc(ypos_value_offset(d.pos, seq, NULL, 1, 2), 13, 21);
	/* offsets past the end stop at the end */
	assert_loc(ypos_value_offset(d.pos, r, "plain", 0, 999), 1, 21);
	doc_free(&d);
}

/* ---- limits on hostile input --------------------------------------------- */

/* The message of a failed load, with "t.yml:L:C: " in front. */
static void load_fails(const char *text, size_t len, char *msg, size_t cap)
{
	json_t *root;
	struct ypos *pos;
	struct err e = {0};
	assert_int_equal(yaml_load_string("t.yml", text, len, &root, &pos, &e), ERR_FAIL);
	assert_null(root);
	snprintf(msg, cap, "%s", e.msg);
}

static void test_limit_depth(void **state)
{
	(void)state;
	struct strbuf b = {0};
	for (int i = 0; i < YAML_MAX_DEPTH; i++)
		sb_addc(&b, '[');
	for (int i = 0; i < YAML_MAX_DEPTH; i++)
		sb_addc(&b, ']');
	struct doc d = load_ok(b.s);
	json_t *v = d.root;
	for (int i = 1; i < YAML_MAX_DEPTH; i++)
		v = json_array_get(v, 0);
	assert_true(json_is_array(v));
	assert_int_equal(json_array_size(v), 0);
	doc_free(&d);

	/* one more level is refused where it opens; the mapping at the top
	 * counts as a level */
	sb_reset(&b);
	sb_adds(&b, "tasks:\n  a: ");
	for (int i = 0; i < 100000; i++)
		sb_addc(&b, '[');
	char msg[1024];
	load_fails(b.s, b.len, msg, sizeof msg);
	char *want = xasprintf("t.yml:2:%d: more than %d levels of nesting (the limit for a YAML file)",
			       6 + YAML_MAX_DEPTH - 2, YAML_MAX_DEPTH);
	assert_string_equal(msg, want);
	free(want);
	/* block nesting is counted the same */
	sb_reset(&b);
	for (int i = 0; i < 100; i++)
		sb_adds(&b, "- ");
	sb_adds(&b, "x\n");
	load_fails(b.s, b.len, msg, sizeof msg);
	assert_string_equal(msg, "t.yml:1:129: more than 64 levels of nesting (the limit for a YAML file)");
	sb_free(&b);
}

/* Positions on one very long line stay exact (they are found by walking on
 * from the previous one, not from the line's start). */
static void test_long_line_positions(void **state)
{
	(void)state;
	struct strbuf b = {0};
	sb_adds(&b, "[");
	for (int i = 0; i < 20000; i++)
		sb_adds(&b, i % 3 == 0 ? "\xc3\xa9" "b," : "ab,");
	sb_adds(&b, "z]\n");
	struct doc d = load_ok(b.s);
	assert_int_equal(json_array_size(d.root), 20001);
	/* every item is 2 characters and a comma, é being one character */
	assert_loc(ypos_item(d.pos, d.root, 0), 1, 2);
	assert_loc(ypos_item(d.pos, d.root, 1), 1, 5);
	assert_loc(ypos_item(d.pos, d.root, 19999), 1, 2 + 3 * 19999);
	assert_loc(ypos_item(d.pos, d.root, 20000), 1, 2 + 3 * 20000);
	/* and offsets inside one of them */
	assert_loc(ypos_value_offset(d.pos, d.root, NULL, 19999, 1), 1, 3 + 3 * 19999);
	doc_free(&d);
	sb_free(&b);
}

static void test_limit_aliases(void **state)
{
	(void)state;
	/* "billion laughs": 9^8 nodes from 360 bytes, refused before the
	 * copy that would pass the limit */
	struct strbuf b = {0};
	sb_adds(&b, "a0: &a0 [x,x,x,x,x,x,x,x,x]\n");
	for (int i = 1; i < 8; i++) {
		sb_addf(&b, "a%d: &a%d [", i, i);
		for (int j = 0; j < 9; j++)
			sb_addf(&b, "%s*a%d", j ? "," : "", i - 1);
		sb_adds(&b, "]\n");
	}
	char msg[1024];
	load_fails(b.s, b.len, msg, sizeof msg);
	/* the aliases up to a4 add 74,718 nodes; the first alias of a4 (66,430
	 * nodes) would pass 100,000 */
	char *want = xasprintf("t.yml:6:10: alias '*a4' expands past %d nodes in all (the limit for aliases in a YAML file)",
			       YAML_MAX_ALIAS_NODES);
	assert_string_equal(msg, want);
	free(want);

	/* up to the limit is fine: an anchor of 1000 nodes, aliased 100 times */
	sb_reset(&b);
	sb_adds(&b, "a: &a [");
	for (int i = 0; i < 999; i++)
		sb_adds(&b, i ? ",1" : "1");
	sb_adds(&b, "]\nb: [");
	for (int i = 0; i < YAML_MAX_ALIAS_NODES / 1000; i++)
		sb_adds(&b, i ? ",*a" : "*a");
	sb_adds(&b, "]\n");
	struct doc d = load_ok(b.s);
	assert_int_equal(json_array_size(json_object_get(d.root, "b")), YAML_MAX_ALIAS_NODES / 1000);
	doc_free(&d);
	/* one more is not */
	b.len -= 2;
	sb_adds(&b, ",*a]\n");
	load_fails(b.s, b.len, msg, sizeof msg);
	assert_non_null(strstr(msg, "t.yml:2:"));
	assert_non_null(strstr(msg, "alias '*a' expands past 100000 nodes"));
	sb_free(&b);

	/* many anchors and aliases: each found by name, the latest of a name */
	d = load_ok("a: &x 1\nb: &y 2\nc: &x 3\nd: [*x, *y]\n");
	json_t *dd = json_object_get(d.root, "d");
	assert_int_equal(json_integer_value(json_array_get(dd, 0)), 3);
	assert_int_equal(json_integer_value(json_array_get(dd, 1)), 2);
	doc_free(&d);
	sb_reset(&b);
	for (int i = 0; i < 3000; i++)
		sb_addf(&b, "k%d: &n%d %d\n", i, i, i);
	sb_adds(&b, "all: [");
	for (int i = 0; i < 3000; i++)
		sb_addf(&b, "%s*n%d", i ? "," : "", 2999 - i);
	sb_adds(&b, "]\n");
	d = load_ok(b.s);
	json_t *all = json_object_get(d.root, "all");
	for (int i = 0; i < 3000; i++)
		assert_int_equal(json_integer_value(json_array_get(all, (size_t)i)), 2999 - i);
	doc_free(&d);
	sb_free(&b);
}

static void test_limit_nodes(void **state)
{
	(void)state;
	/* plain items, no aliases: the one past the limit is refused */
	struct strbuf b = {0};
	sb_addc(&b, '[');
	for (int i = 0; i < YAML_MAX_NODES; i++)
		sb_adds(&b, "1,");
	sb_adds(&b, "1]");
	char msg[1024];
	load_fails(b.s, b.len, msg, sizeof msg);
	/* the root is node 1, so item n (0-based) is node n + 2, at column 2 + 2n */
	char *want = xasprintf("t.yml:1:%d: the document has more than %d nodes (the limit for a YAML file)",
			       2 + 2 * (YAML_MAX_NODES - 1), YAML_MAX_NODES);
	assert_string_equal(msg, want);
	free(want);
	sb_free(&b);
}

static char *put_file(const char *dir, const char *name, const char *text)
{
	char *path = path_join(dir, name);
	assert_int_equal(file_write_atomic(path, text, strlen(text), 0644, NULL), 0);
	return path;
}

static void test_limit_files(void **state)
{
	(void)state;
	char dir[] = "/tmp/sluice-ytf-XXXXXX";
	assert_non_null(mkdtemp(dir));
	json_t *root;
	struct ypos *pos;
	struct err e = {0};
	struct loc at;

	/* through a symlink to a regular file: fine */
	char *real = put_file(dir, "real.yml", "k: v\n");
	char *link = path_join(dir, "link.yml");
	assert_int_equal(symlink(real, link), 0);
	assert_int_equal(yaml_load_file(link, &root, &pos, &e), 0);
	assert_string_equal(json_string_value(json_object_get(root, "k")), "v");
	json_decref(root);
	ypos_free(pos);

	/* a FIFO is refused without waiting for a writer */
	char *fifo = path_join(dir, "fifo.yml");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(yaml_load_file(fifo, &root, &pos, &e), ERR_FAIL);
	assert_null(root);
	char *want = xasprintf("%s: a FIFO, not a regular file (only regular files are read)", fifo);
	assert_string_equal(e.msg, want);
	free(want);
	/* the _ex form puts the file in at and says "cannot read" */
	assert_int_equal(yaml_load_file_ex(fifo, 0, &root, &pos, &at, &e), ERR_FAIL);
	assert_string_equal(at.file, fifo);
	assert_int_equal(at.line, 0);
	assert_string_equal(e.msg, "cannot read: a FIFO, not a regular file (only regular files are read)");

	/* a device, also through a symlink, and a directory */
	char *zero = path_join(dir, "zero.yml");
	assert_int_equal(symlink("/dev/zero", zero), 0);
	assert_int_equal(yaml_load_file_ex(zero, 0, &root, &pos, &at, &e), ERR_FAIL);
	assert_string_equal(e.msg, "cannot read: a character device, not a regular file (only regular files are read)");
	assert_int_equal(yaml_load_file_ex(dir, 0, &root, &pos, &at, &e), ERR_FAIL);
	assert_string_equal(e.msg, "cannot read: a directory, not a regular file (only regular files are read)");

	/* bigger than the limit, found before reading (a sparse file) */
	char *big = path_join(dir, "big.yml");
	int fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)FILE_MAX_PROJECT + 1), 0);
	close(fd);
	assert_int_equal(yaml_load_file_ex(big, 0, &root, &pos, &at, &e), ERR_FAIL);
	want = xasprintf("cannot read: %zu bytes, over the limit of 16 MiB", FILE_MAX_PROJECT + 1);
	assert_string_equal(e.msg, want);
	free(want);

	/* file_read_regular itself: exactly max is fine, one more is not */
	char *ten = put_file(dir, "ten", "0123456789");
	char *text;
	size_t len;
	assert_int_equal(file_read_regular(ten, 10, &text, &len, &e), 0);
	assert_int_equal(len, 10);
	assert_string_equal(text, "0123456789");
	free(text);
	assert_int_equal(file_read_regular(ten, 9, &text, &len, &e), ERR_FAIL);
	want = xasprintf("%s: 10 bytes, over the limit of 9 bytes", ten);
	assert_string_equal(e.msg, want);
	free(want);
	char *gone = path_join(dir, "gone");
	assert_int_equal(file_read_regular(gone, 9, &text, &len, &e), ERR_NOTFOUND);
	assert_int_equal(yaml_load_file_ex(gone, 0, &root, &pos, &at, &e), ERR_NOTFOUND);
	assert_string_equal(e.msg, "cannot read: No such file or directory");

	const char *made[] = {real, link, fifo, zero, big, ten};
	for (size_t i = 0; i < sizeof made / sizeof made[0]; i++) {
		unlink(made[i]);
		free((char *)made[i]);
	}
	free(gone);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_positions_shared_singletons),
		cmocka_unit_test(test_utf8_columns),
		cmocka_unit_test(test_scalar_types),
		cmocka_unit_test(test_scalar_errors),
		cmocka_unit_test(test_empty_and_documents),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_value_offset),
		cmocka_unit_test(test_limit_depth),
		cmocka_unit_test(test_long_line_positions),
		cmocka_unit_test(test_limit_aliases),
		cmocka_unit_test(test_limit_nodes),
		cmocka_unit_test(test_limit_files),
	};
	return cmocka_run_group_tests_name("yamltree", tests, NULL, NULL);
}
