/* libFuzzer target: template rendering (core/template.c) of any text
 * against a context with every kind of value. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_t *ctx;
	if (!ctx)
		ctx = json_pack("{s:s, s:s, s:{s:i, s:s, s:n, s:b, s:f, s:{s:s}}, s:{s:[i,i], s:s}}",
				"ds", "2024-01-31", "ts", "2024-01-31T00:00:00Z",
				"params", "x", 42, "s", "text {{ not again }}", "nil", "yes", 1, "pi", 3.25,
				"deep", "er", "est",
				"vars", "list", 1, 2, "e", "");
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	char *out = NULL;
	struct tmpl_error e;
	if (tmpl_render(text, ctx, &out, &e) == 0)
		free(out);
	else if (e.offset > size)
		abort(); /* an error must point inside the text */
	free(text);
	return 0;
}
