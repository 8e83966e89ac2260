/* --json output. */
#include "cli/json_out.h"

#include <stdio.h>

void json_out(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(j);
}
