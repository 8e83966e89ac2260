/* The unique key of a contract within one input: an open-addressing hash
 * set of encoded keys, remembering the line each was first seen on. */
#include "core/contract/internal.h"

#include <stdlib.h>

#include "base/util.h"

/* A slot of the open-addressing table is 8 bytes: the hash's top 24 bits
 * and 1 + the key's offset in the arena (40 bits; 0 = empty). A key in the
 * arena is the line it was first seen on and its encoded length, both as
 * varints, then the encoded key: a million keys of a bigint take about 13
 * bytes each there and 16 in the table (the table of 16-byte slots and
 * fixed-size heads took 70 MB). */
#define TAG_SHIFT 40
#define OFF_MASK ((1ULL << TAG_SHIFT) - 1)

struct contract_keys {
	const struct contract *c;
	uint64_t *tab;
	size_t cap, count;
	unsigned char *arena;
	size_t alen, acap;
	unsigned char *tmp;
	size_t tcap;
};

static unsigned char *put_varint(unsigned char *o, uint64_t v)
{
	while (v >= 0x80) {
		*o++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*o++ = (unsigned char)v;
	return o;
}

static const unsigned char *get_varint(const unsigned char *p, uint64_t *v)
{
	uint64_t x = 0;
	for (int sh = 0;; sh += 7) {
		x |= (uint64_t)(*p & 0x7F) << sh;
		if (!(*p++ & 0x80))
			break;
	}
	*v = x;
	return p;
}

static uint64_t mix(uint64_t h, uint64_t w)
{
	h = (h ^ (w * 0xBF58476D1CE4E5B9ULL)) * 0x94D049BB133111EBULL;
	return h ^ (h >> 31);
}

/* Keys that differ only in their last byte (ids one after another: 1041,
 * 1042...) get neighbouring slots: the table is far bigger than the caches
 * and a slot next to the last one is nearly free, a random one a miss. The
 * rest of the hash and the tag come from every byte. */
static uint64_t key_hash(const unsigned char *p, size_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
	unsigned last = n ? p[n - 1] : 0;
	if (n)
		n--;
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = mix(h, w);
		p += 8, n -= 8;
	}
	uint64_t w = 0;
	memcpy(&w, p, n);
	h = mix(h, w);
	uint64_t tag = mix(h, last + 1) >> TAG_SHIFT << TAG_SHIFT;
	return tag | ((h & ~(uint64_t)15) & OFF_MASK) | ((h + last) & 15);
}

struct contract_keys *contract_keys_new(const struct contract *c)
{
	struct contract_keys *k = xcalloc(1, sizeof *k);
	k->c = c;
	k->cap = 1024;
	k->tab = xcalloc(k->cap, sizeof *k->tab);
	return k;
}

void contract_keys_free(struct contract_keys *k)
{
	if (!k)
		return;
	free(k->tab);
	free(k->arena);
	free(k->tmp);
	free(k);
}

size_t contract_keys_count(const struct contract_keys *k)
{
	return k->count;
}

/* The encoded key at slot value e and the line kept with it. */
static const unsigned char *key_at(const struct contract_keys *k, uint64_t e, uint64_t *line, uint64_t *len)
{
	const unsigned char *p = k->arena + ((e & OFF_MASK) - 1);
	p = get_varint(p, line);
	return get_varint(p, len);
}

static void keys_grow(struct contract_keys *k)
{
	size_t cap = k->cap * 2;
	uint64_t *t = xcalloc(cap, sizeof *t);
	for (size_t i = 0; i < k->cap; i++) {
		uint64_t e = k->tab[i];
		if (!e)
			continue;
		uint64_t line, len;
		const unsigned char *key = key_at(k, e, &line, &len);
		size_t j = key_hash(key, len) & OFF_MASK & (cap - 1);
		while (t[j])
			j = (j + 1) & (cap - 1);
		t[j] = e;
	}
	free(k->tab);
	k->tab = t;
	k->cap = cap;
}

int contract_keys_add(struct contract_keys *k, const char *const *values, int64_t line, int64_t *first_line)
{
	const struct contract *c = k->c;
	if (!c->n_key)
		return 0;
	/* encode: per key column a tag byte (0 NULL, 1 value), the length as
	 * a varint, the bytes */
	size_t need = 0;
	for (size_t i = 0; i < c->n_key; i++) {
		const char *v = values[c->key_idx[i]];
		need += 1 + 10 + (v ? strlen(v) : 0);
	}
	if (need > k->tcap) {
		k->tcap = need * 2;
		k->tmp = xrealloc(k->tmp, k->tcap);
	}
	unsigned char *o = k->tmp;
	for (size_t i = 0; i < c->n_key; i++) {
		const char *v = values[c->key_idx[i]];
		size_t n = v ? strlen(v) : 0;
		*o++ = v ? 1 : 0;
		o = put_varint(o, n);
		memcpy(o, v ? v : "", n);
		o += n;
	}
	size_t len = (size_t)(o - k->tmp);
	uint64_t h = key_hash(k->tmp, len);
	uint64_t tag = h >> TAG_SHIFT << TAG_SHIFT;
	size_t j = h & OFF_MASK & (k->cap - 1);
	for (uint64_t e; (e = k->tab[j]); j = (j + 1) & (k->cap - 1)) {
		if ((e & ~OFF_MASK) != tag)
			continue;
		uint64_t l, n;
		const unsigned char *key = key_at(k, e, &l, &n);
		if (n == len && !memcmp(key, k->tmp, len)) {
			if (first_line)
				*first_line = (int64_t)l;
			return 1;
		}
	}
	if (k->alen + len + 20 > k->acap) {
		k->acap = (k->acap ? k->acap * 2 : 1u << 16) + len + 20;
		k->arena = xrealloc(k->arena, k->acap);
	}
	if (k->alen + 1 > OFF_MASK)
		abort(); /* a terabyte of keys */
	k->tab[j] = tag | (k->alen + 1);
	unsigned char *w = put_varint(k->arena + k->alen, (uint64_t)line);
	w = put_varint(w, len);
	memcpy(w, k->tmp, len);
	k->alen = (size_t)(w + len - k->arena);
	if (++k->count * 2 > k->cap)
		keys_grow(k);
	return 0;
}
