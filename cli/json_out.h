/* Writing --json output: one JSON document on stdout, keys in a stable order. */
#ifndef SLUICE_JSON_OUT_H
#define SLUICE_JSON_OUT_H

#include <jansson.h>

/* Prints j (compact, sorted keys off: insertion order is the documented order)
 * followed by a newline, and drops the reference. */
void json_out(json_t *j);

#endif
