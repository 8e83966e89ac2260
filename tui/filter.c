/* The `/` filter; see filter.h. */
#include "tui/filter.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

bool filter_icase(const char *pattern)
{
	for (const char *p = pattern; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++; /* \W, \S ... are not letters the user typed */
			continue;
		}
		if (isupper((unsigned char)*p))
			return false;
	}
	return true;
}

int filter_compile(regex_t *re, const char *pattern, bool nosub, struct err *err)
{
	int flags = REG_EXTENDED | (nosub ? REG_NOSUB : 0) | (filter_icase(pattern) ? REG_ICASE : 0);
	int rc = regcomp(re, pattern, flags);
	if (rc != 0) {
		char msg[256];
		regerror(rc, re, msg, sizeof msg);
		regfree(re);
		return err_set(err, "bad pattern '%s': %s", pattern, msg);
	}
	return 0;
}

int filter_set(struct filter *f, const char *text, struct err *err)
{
	bool invert = text[0] == '!';
	const char *pat = invert ? text + 1 : text;
	if (!*pat) {
		filter_clear(f);
		return 0;
	}
	regex_t re;
	if (filter_compile(&re, pat, true, err) < 0)
		return -1;
	filter_clear(f);
	f->re = re;
	f->invert = invert;
	f->text = xstrdup(text);
	f->active = true;
	return 0;
}

void filter_clear(struct filter *f)
{
	if (f->active)
		regfree(&f->re);
	free(f->text);
	f->text = NULL;
	f->active = false;
	f->invert = false;
}

bool filter_match(const struct filter *f, const char *s)
{
	if (!f->active)
		return true;
	bool m = regexec(&f->re, s ? s : "", 0, NULL, 0) == 0;
	return f->invert ? !m : m;
}
