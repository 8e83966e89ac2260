/* Typed reads from a YAML tree with diagnostics at file:line:col, shared by
 * the loaders of the project and of contracts. The field readers return 1
 * when the key is set, 0 when it is absent or null (the default stays), -1
 * after reporting a problem. */
#ifndef SLUICE_YAMLREAD_H
#define SLUICE_YAMLREAD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "core/yamltree.h"

struct yread {
	struct diags *d;
	struct ypos *pos;
};

/* "mapping", "list", "string", "integer", "number", "boolean", "null". */
const char *yr_type_name(const json_t *v);
struct loc yr_at_value(const struct yread *r, const json_t *obj, const char *key);
struct loc yr_at_key(const struct yread *r, const json_t *obj, const char *key);
bool yr_in_list(const char *s, const char *const *list, size_t n);
/* Names of pipelines, tasks and connections: letters, digits, '_', '.', '-'. */
bool yr_name_valid(const char *s);
/* "unknown key 'k' in WHERE; did you mean 'x'?" at the key. */
void yr_unknown_key(const struct yread *r, const json_t *obj, const char *key, const char *where,
		    const char *const *known, size_t n);
/* Reports every key of obj that is not in known. */
void yr_check_keys(const struct yread *r, const json_t *obj, const char *where, const char *const *known,
		   size_t n);
/* "'key' must be WANT, got TYPE" at the value. */
void yr_wrong_type(const struct yread *r, const json_t *obj, const char *key, const char *want);
int yr_string(const struct yread *r, const json_t *obj, const char *key, char **out);
int yr_int(const struct yread *r, const json_t *obj, const char *key, int min, int *out);
int yr_bool(const struct yread *r, const json_t *obj, const char *key, bool *out);

#endif
