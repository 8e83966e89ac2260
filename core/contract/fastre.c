/* A contract's regex, matched without regexec when it is simple: a sequence
 * of literals, '.' and bracket expressions, each with an optional
 * quantifier (* + ? {n} {n,} {n,m}), anchored or not. glibc's regexec costs
 * more than the rest of a record's checks (a reference code on every row of
 * a million); this matches the same values in a fraction of it. Which ASCII
 * bytes each '.' or bracket takes is asked of regexec itself when the
 * contract is loaded, so the locale's reading of [a-z] or [[:alpha:]] is
 * kept; a value with a byte past ASCII, any other syntax (groups,
 * alternatives, back references, GNU escapes), and a match that would
 * backtrack too long go to regexec. */
#include "core/contract/internal.h"

#include <stdlib.h>

#include "base/util.h"

/* Atoms of a pattern; longer ones go to regexec. */
#define FRE_MAX_ATOMS 64
/* Backtracking steps a value may take before it goes to regexec. */
#define FRE_MAX_STEPS 20000

struct fre_atom {
	unsigned char set[128]; /* the ASCII bytes it matches */
	int min, max;           /* max -1: unbounded */
};

struct fast_re {
	struct fre_atom *atoms;
	int n;
	bool head, tail; /* anchored by ^ / $ */
};

/* Which ASCII bytes the bracket expression or '.' in pat[0..n) matches,
 * asked of regexec. -1 if it does not compile. */
static int atom_set(const char *pat, size_t n, unsigned char *set)
{
	char *re = xasprintf("^%.*s$", (int)n, pat);
	regex_t rx;
	int rc = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB);
	free(re);
	if (rc)
		return -1;
	for (int c = 1; c < 128; c++) {
		char s[2] = {(char)c, 0};
		set[c] = regexec(&rx, s, 0, NULL, 0) == 0;
	}
	set[0] = 0;
	regfree(&rx);
	return 0;
}

/* The end of the bracket expression that opens at p[0] == '[', or NULL. */
static const char *bracket_end(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	for (; *p; p++) {
		if (*p == ']')
			return p;
		if (*p == '[' && (p[1] == ':' || p[1] == '=' || p[1] == '.')) {
			char close = p[1];
			const char *q = p + 2;
			while (*q && !(q[0] == close && q[1] == ']'))
				q++;
			if (!*q)
				return NULL;
			p = q + 1;
		}
	}
	return NULL;
}

static int bound(const char **pp)
{
	const char *p = *pp;
	if (*p < '0' || *p > '9')
		return -1;
	long v = 0;
	while (*p >= '0' && *p <= '9' && v < 1000)
		v = v * 10 + (*p++ - '0');
	if (v > 255)
		return -1; /* RE_DUP_MAX: let regcomp's own rules apply */
	*pp = p;
	return (int)v;
}

struct fast_re *fast_re_compile(const char *pat)
{
	for (const char *q = pat; *q; q++)
		if ((unsigned char)*q >= 0x80)
			return NULL;
	struct fast_re *f = xcalloc(1, sizeof *f);
	f->atoms = xcalloc(FRE_MAX_ATOMS, sizeof *f->atoms);
	const char *p = pat;
	if (*p == '^')
		f->head = true, p++;
	while (*p) {
		if (*p == '$' && !p[1]) {
			f->tail = true;
			break;
		}
		if (f->n == FRE_MAX_ATOMS)
			goto no;
		struct fre_atom *a = &f->atoms[f->n];
		if (*p == '[') {
			const char *e = bracket_end(p);
			if (!e || atom_set(p, (size_t)(e - p + 1), a->set) < 0)
				goto no;
			p = e + 1;
		} else if (*p == '.') {
			if (atom_set(p, 1, a->set) < 0)
				goto no;
			p++;
		} else if (*p == '\\') {
			/* an escaped punctuation character is itself; \w, \b, \1 ... are not */
			unsigned char c = (unsigned char)p[1];
			if (!c || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
				goto no;
			a->set[c] = 1;
			p += 2;
		} else if (strchr("()|*+?{}^$", *p)) {
			goto no;
		} else {
			a->set[(unsigned char)*p] = 1;
			p++;
		}
		a->min = a->max = 1;
		if (*p == '*')
			a->min = 0, a->max = -1, p++;
		else if (*p == '+')
			a->min = 1, a->max = -1, p++;
		else if (*p == '?')
			a->min = 0, a->max = 1, p++;
		else if (*p == '{') {
			p++;
			if ((a->min = bound(&p)) < 0)
				goto no;
			a->max = a->min;
			if (*p == ',') {
				p++;
				a->max = *p == '}' ? -1 : bound(&p);
				if (*p != '}' || (a->max >= 0 && a->max < a->min))
					goto no;
			}
			if (*p != '}')
				goto no;
			p++;
		}
		if (*p && strchr("*+?{", *p))
			goto no;
		f->n++;
	}
	return f;
no:
	fast_re_free(f);
	return NULL;
}

void fast_re_free(struct fast_re *f)
{
	if (!f)
		return;
	free(f->atoms);
	free(f);
}

/* Does atoms[i..] match s[at..n) (to its end when anchored)? 1, 0, or -1
 * when the steps run out. */
static int match_from(const struct fast_re *f, int i, const unsigned char *s, size_t at, size_t n, long *steps)
{
	if (--*steps < 0)
		return -1;
	if (i == f->n)
		return !f->tail || at == n;
	const struct fre_atom *a = &f->atoms[i];
	/* the longest run of this atom, then shorter ones */
	size_t k = 0, cap = a->max < 0 ? n - at : (size_t)a->max;
	while (k < cap && at + k < n && a->set[s[at + k]])
		k++;
	if (k < (size_t)a->min)
		return 0;
	for (;; k--) {
		int r = match_from(f, i + 1, s, at + k, n, steps);
		if (r)
			return r;
		if (k == (size_t)a->min)
			return 0;
	}
}

int fast_re_match(const struct fast_re *f, const char *v, size_t n)
{
	const unsigned char *s = (const unsigned char *)v;
	for (size_t i = 0; i < n; i++)
		if (s[i] >= 0x80)
			return -1;
	long steps = FRE_MAX_STEPS;
	for (size_t at = 0; at <= n; at++) {
		int r = match_from(f, 0, s, at, n, &steps);
		if (r)
			return r;
		if (f->head)
			break;
	}
	return 0;
}
