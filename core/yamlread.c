/* Typed reads from a YAML tree (core/yamltree.h) that report what is wrong
 * at file:line:col: the shared vocabulary of every loader (project,
 * contracts). */
#include "core/yamlread.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"

const char *yr_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "mapping";
	case JSON_ARRAY: return "list";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	case JSON_NULL: return "null";
	}
	return "value";
}

struct loc yr_at_value(const struct yread *r, const json_t *obj, const char *key)
{
	return ypos_value(r->pos, obj, key);
}

struct loc yr_at_key(const struct yread *r, const json_t *obj, const char *key)
{
	return ypos_key(r->pos, obj, key);
}

/* Names of pipelines, tasks and connections end up in file names, log paths
 * and the state database, so they keep to a safe alphabet. */
bool yr_name_valid(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

bool yr_in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, list[i]))
			return true;
	return false;
}

void yr_unknown_key(const struct yread *r, const json_t *obj, const char *key, const char *where,
		    const char *const *known, size_t n)
{
	const char *near = nearest_word(key, known, n);
	if (near)
		diags_add(r->d, yr_at_key(r, obj, key), "unknown key '%s' in %s; did you mean '%s'?", key, where,
			  near);
	else
		diags_add(r->d, yr_at_key(r, obj, key), "unknown key '%s' in %s", key, where);
}

void yr_check_keys(const struct yread *r, const json_t *obj, const char *where, const char *const *known,
		       size_t n)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)obj, k, v)
		if (!yr_in_list(k, known, n))
			yr_unknown_key(r, obj, k, where, known, n);
}


void yr_wrong_type(const struct yread *r, const json_t *obj, const char *key, const char *want)
{
	diags_add(r->d, yr_at_value(r, obj, key), "'%s' must be %s, got %s", key, want,
		  yr_type_name(json_object_get(obj, key)));
}

/* The field readers return 1 when the key is set, 0 when it is absent or
 * null (the default stays), -1 after reporting a problem. */

int yr_string(const struct yread *r, const json_t *obj, const char *key, char **out)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		yr_wrong_type(r, obj, key, "a string");
		return -1;
	}
	free(*out);
	*out = xstrdup(json_string_value(v));
	return 1;
}

int yr_int(const struct yread *r, const json_t *obj, const char *key, int min, int *out)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v)) {
		yr_wrong_type(r, obj, key, "an integer");
		return -1;
	}
	json_int_t i = json_integer_value(v);
	if (i < min || i > INT_MAX) {
		diags_add(r->d, yr_at_value(r, obj, key), "'%s' must be between %d and %d, got %lld", key, min,
			  INT_MAX, (long long)i);
		return -1;
	}
	*out = (int)i;
	return 1;
}

int yr_bool(const struct yread *r, const json_t *obj, const char *key, bool *out)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		const char *s = json_string_value(v);
		/* YAML 1.1 habits: these are plain strings in YAML 1.2 */
		if (s && (!strcasecmp(s, "yes") || !strcasecmp(s, "no") || !strcasecmp(s, "on") ||
			  !strcasecmp(s, "off") || !strcasecmp(s, "y") || !strcasecmp(s, "n")))
			diags_add(r->d, yr_at_value(r, obj, key), "'%s' must be true or false, got string '%s'", key, s);
		else
			yr_wrong_type(r, obj, key, "true or false");
		return -1;
	}
	*out = json_is_true(v);
	return 1;
}
