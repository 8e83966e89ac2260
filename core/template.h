/* Templates in task text: {{ expr }} with dotted names looked up in a JSON
 * context ({{ ds }}, {{ params.x }}, {{ vars.y }}). Anything else in {{ }} or
 * {% %} is an error that names its byte offset. */
#ifndef SLUICE_TEMPLATE_H
#define SLUICE_TEMPLATE_H

#include <jansson.h>
#include <stddef.h>

struct tmpl_error {
	size_t offset; /* byte offset in the template text where the problem starts */
	char msg[256];
};

/* Renders text against ctx (an object). Strings are inserted as they are,
 * integers/reals/booleans as JSON would print them, null as empty. Unknown
 * names, unclosed tags, unsupported syntax are errors: returns -1 and fills e.
 * On success *out is malloc'ed. */
int tmpl_render(const char *text, const json_t *ctx, char **out, struct tmpl_error *e);

#endif
