/* Helpers over jansson values; see json.h. */
#include "base/json.h"

#include "base/util.h"

const char *json_kind_phrase(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER:
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "a value";
}

char *json_strdup(const json_t *o, const char *key)
{
	const char *v = json_str(o, key);
	return v ? xstrdup(v) : NULL;
}
