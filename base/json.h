/* Helpers over jansson values that several layers share. */
#ifndef SLUICE_BASE_JSON_H
#define SLUICE_BASE_JSON_H

#include <jansson.h>

/* What a value is, for messages: "an object", "a string", "null" ... */
const char *json_kind_phrase(const json_t *v);

#endif
