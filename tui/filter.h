/* The `/` filter of list views: a POSIX extended regular expression, a
 * leading `!` inverting it. Case-insensitive unless the pattern has an
 * upper-case letter (smart case). Pure: no terminal needed. */
#ifndef SLUICE_TUI_FILTER_H
#define SLUICE_TUI_FILTER_H

#include <regex.h>
#include <stdbool.h>

#include "base/err.h"

struct filter {
	bool active;
	bool invert;
	char *text;   /* as typed, for the header */
	regex_t re;
};

/* Compiles text; "" (or "!") clears the filter. On a bad pattern returns -1
 * with err set and leaves f as it was. */
int filter_set(struct filter *f, const char *text, struct err *err);
void filter_clear(struct filter *f);
/* Whether s passes (always true when the filter is off). */
bool filter_match(const struct filter *f, const char *s);
/* Compiles a search pattern with the same smart-case rule. */
int filter_compile(regex_t *re, const char *pattern, bool nosub, struct err *err);
/* Whether pattern would be case-insensitive under smart case. */
bool filter_icase(const char *pattern);

#endif
