/* Helpers over jansson values that several layers share. */
#ifndef SLUICE_BASE_JSON_H
#define SLUICE_BASE_JSON_H

#include <jansson.h>

/* What a value is, for messages: "an object", "a string", "null" ... */
const char *json_kind_phrase(const json_t *v);

/* The string under key of object o; NULL when it is absent or no string. */
static inline const char *json_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}
/* The same, malloc'ed; NULL when absent or no string. */
char *json_strdup(const json_t *o, const char *key);

#endif
