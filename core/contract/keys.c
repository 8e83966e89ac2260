/* The unique key of a contract within one input: an open-addressing hash
 * set of encoded keys, remembering the line each was first seen on. */
#include "core/contract/internal.h"

#include <stdlib.h>

#include "base/util.h"

/* One slot of the open-addressing table: 16 bytes, so more of the table
 * stays in cache. */
struct key_slot {
	uint64_t hash;
	size_t off;   /* into the arena; SIZE_MAX = empty */
};

struct contract_keys {
	const struct contract *c;
	struct key_slot *tab;
	size_t cap, count;
	/* the keys one after another: line (int64_t), length (uint32_t), the
	 * encoded key */
	char *arena;
	size_t alen, acap;
	char *tmp;
	size_t tcap;
};

static uint64_t key_hash(const unsigned char *p, size_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ (w * 0xBF58476D1CE4E5B9ULL)) * 0x94D049BB133111EBULL;
		h ^= h >> 31;
		p += 8, n -= 8;
	}
	uint64_t w = 0;
	memcpy(&w, p, n);
	h = (h ^ (w * 0xBF58476D1CE4E5B9ULL)) * 0x94D049BB133111EBULL;
	return h ^ (h >> 29);
}

struct contract_keys *contract_keys_new(const struct contract *c)
{
	struct contract_keys *k = xcalloc(1, sizeof *k);
	k->c = c;
	k->cap = 1024;
	k->tab = xmalloc(k->cap * sizeof *k->tab);
	for (size_t i = 0; i < k->cap; i++)
		k->tab[i].off = SIZE_MAX;
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

static void keys_grow(struct contract_keys *k)
{
	size_t cap = k->cap * 2;
	struct key_slot *t = xmalloc(cap * sizeof *t);
	for (size_t i = 0; i < cap; i++)
		t[i].off = SIZE_MAX;
	for (size_t i = 0; i < k->cap; i++) {
		if (k->tab[i].off == SIZE_MAX)
			continue;
		size_t j = k->tab[i].hash & (cap - 1);
		while (t[j].off != SIZE_MAX)
			j = (j + 1) & (cap - 1);
		t[j] = k->tab[i];
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
	/* encode: per key column a tag byte (0 NULL, 1 value), the length, the bytes */
	size_t need = 0;
	for (size_t i = 0; i < c->n_key; i++) {
		const char *v = values[c->key_idx[i]];
		need += 1 + sizeof(uint32_t) + (v ? strlen(v) : 0);
	}
	if (need > k->tcap) {
		k->tcap = need * 2;
		k->tmp = xrealloc(k->tmp, k->tcap);
	}
	char *o = k->tmp;
	for (size_t i = 0; i < c->n_key; i++) {
		const char *v = values[c->key_idx[i]];
		uint32_t n = v ? (uint32_t)strlen(v) : 0;
		*o++ = v ? 1 : 0;
		memcpy(o, &n, sizeof n);
		o += sizeof n;
		memcpy(o, v ? v : "", n);
		o += n;
	}
	uint32_t len = (uint32_t)need;
	const size_t head = sizeof(int64_t) + sizeof len;
	uint64_t h = key_hash((const unsigned char *)k->tmp, need);
	size_t j = h & (k->cap - 1);
	while (k->tab[j].off != SIZE_MAX) {
		if (k->tab[j].hash == h) {
			const char *at = k->arena + k->tab[j].off;
			uint32_t l;
			memcpy(&l, at + sizeof(int64_t), sizeof l);
			if (l == len && !memcmp(at + head, k->tmp, need)) {
				if (first_line)
					memcpy(first_line, at, sizeof *first_line);
				return 1;
			}
		}
		j = (j + 1) & (k->cap - 1);
	}
	if (k->alen + head + need > k->acap) {
		k->acap = (k->acap ? k->acap * 2 : 1u << 16) + head + need;
		k->arena = xrealloc(k->arena, k->acap);
	}
	k->tab[j].hash = h;
	k->tab[j].off = k->alen;
	memcpy(k->arena + k->alen, &line, sizeof line);
	memcpy(k->arena + k->alen + sizeof line, &len, sizeof len);
	memcpy(k->arena + k->alen + head, k->tmp, need);
	k->alen += head + need;
	if (++k->count * 2 > k->cap)
		keys_grow(k);
	return 0;
}
