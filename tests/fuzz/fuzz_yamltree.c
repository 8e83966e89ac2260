/* libFuzzer target: the YAML loader (core/yamltree.c) on any bytes, then the
 * position lookups over everything it loaded, as error messages use them. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/yamltree.h"

/* Looks up the position of every value (and of offsets inside strings). */
static void walk(const struct ypos *pos, const json_t *v)
{
	if (json_is_object(v)) {
		const char *k;
		json_t *c;
		json_object_foreach((json_t *)v, k, c) {
			(void)ypos_key(pos, v, k);
			(void)ypos_value(pos, v, k);
			if (json_is_string(c)) {
				size_t n = json_string_length(c);
				(void)ypos_value_offset(pos, v, k, 0, 0);
				(void)ypos_value_offset(pos, v, k, 0, n / 2);
				(void)ypos_value_offset(pos, v, k, 0, n + 1);
			}
			walk(pos, c);
		}
	} else if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			const json_t *c = json_array_get(v, i);
			(void)ypos_item(pos, v, i);
			if (json_is_string(c)) {
				size_t n = json_string_length(c);
				(void)ypos_value_offset(pos, v, NULL, i, n / 3);
				(void)ypos_value_offset(pos, v, NULL, i, n);
			}
			walk(pos, c);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned flags[] = {0, YAML_KEEP_DUPLICATES};
	for (size_t f = 0; f < 2; f++) {
		json_t *root;
		struct ypos *pos;
		struct loc at;
		struct err e = {0};
		if (yaml_load_ex("fuzz.yml", (const char *)data, size, flags[f], &root, &pos, &at, &e) < 0)
			continue;
		walk(pos, root);
		(void)ypos_root(pos);
		for (size_t i = 0; i < ypos_n_dups(pos); i++)
			(void)ypos_dup(pos, i);
		(void)ypos_offset_loc(pos, size / 2);
		json_decref(root);
		ypos_free(pos);
	}
	return 0;
}
