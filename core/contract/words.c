/* Number words: "fifteen" -> 15, "Two Hundred" -> 200, the cleaning a
 * number column applies with number_words: true. */
#include "core/contract/internal.h"

#include <limits.h>
#include <strings.h>

static const char *const small_words[] = {
	"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
	"eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
};
static const char *const tens_words[] = {
	"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
};
static const struct {
	const char *word;
	long long value;
} scale_words[] = {
	{"thousand", 1000LL}, {"million", 1000000LL}, {"billion", 1000000000LL}, {"trillion", 1000000000000LL},
};

static bool word_is(const char *w, size_t n, const char *s)
{
	return strlen(s) == n && !strncasecmp(w, s, n);
}

int words_parse(const char *s, size_t len, long long *out)
{
	enum { W_NONE, W_UNIT, W_TEEN, W_TENS, W_HUNDRED, W_SCALE, W_AND, W_ZERO, W_A } prev = W_NONE;
	long long total = 0, cur = 0, last_scale = LLONG_MAX;
	bool neg = false, any = false, hundred = false;
	size_t i = 0;
	for (;;) {
		while (i < len && (s[i] == ' ' || s[i] == '-' || s[i] == ',' || s[i] == '\t'))
			i++;
		if (i == len)
			break;
		size_t st = i;
		while (i < len && s[i] != ' ' && s[i] != '-' && s[i] != ',' && s[i] != '\t')
			i++;
		const char *w = s + st;
		size_t n = i - st;
		if (prev == W_ZERO)
			return -1;
		if (word_is(w, n, "minus") || word_is(w, n, "negative")) {
			if (prev != W_NONE || neg)
				return -1;
			neg = true;
			continue;
		}
		if (word_is(w, n, "and")) {
			if (prev != W_HUNDRED && prev != W_SCALE)
				return -1;
			prev = W_AND;
			continue;
		}
		if (word_is(w, n, "a")) {
			if (prev != W_NONE)
				return -1;
			cur = 1;
			prev = W_A;
			continue;
		}
		long long v = -1;
		int kind = -1;
		for (int k = 0; k < 20 && v < 0; k++)
			if (word_is(w, n, small_words[k]))
				v = k, kind = k == 0 ? W_ZERO : k < 10 ? W_UNIT : W_TEEN;
		for (int k = 2; k < 10 && v < 0; k++)
			if (word_is(w, n, tens_words[k]))
				v = k * 10, kind = W_TENS;
		if (v >= 0) {
			if (kind == W_ZERO && (prev != W_NONE || any))
				return -1;
			bool after_tens = prev == W_TENS && kind == W_UNIT;
			if (prev != W_NONE && prev != W_HUNDRED && prev != W_SCALE && prev != W_AND && !after_tens)
				return -1;
			cur += v;
			prev = kind;
			any = true;
			continue;
		}
		if (word_is(w, n, "hundred")) {
			if ((prev != W_UNIT && prev != W_TEEN && prev != W_TENS && prev != W_A) || hundred || cur >= 100)
				return -1;
			cur *= 100;
			hundred = true;
			prev = W_HUNDRED;
			any = true;
			continue;
		}
		size_t k;
		for (k = 0; k < N_OF(scale_words) && !word_is(w, n, scale_words[k].word); k++)
			;
		if (k == N_OF(scale_words))
			return -1;
		long long sc = scale_words[k].value;
		if (prev == W_NONE || prev == W_SCALE || prev == W_AND || prev == W_ZERO || !cur || sc >= last_scale)
			return -1;
		total += cur * sc;
		cur = 0;
		last_scale = sc;
		hundred = false;
		prev = W_SCALE;
		any = true;
	}
	if (!any || prev == W_AND || prev == W_A)
		return -1;
	total += cur;
	*out = neg ? -total : total;
	return 0;
}

int number_words_parse(const char *text, long long *out)
{
	return words_parse(text, strlen(text), out);
}

