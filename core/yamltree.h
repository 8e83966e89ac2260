/* YAML (libyaml) into jansson trees, with the source position of every key and
 * value kept beside the tree so later checks can say file:line:col. */
#ifndef SLUICE_YAMLTREE_H
#define SLUICE_YAMLTREE_H

#include <jansson.h>

#include "core/err.h"

/* Positions of one loaded document. Keyed by (parent container, key or index)
 * because jansson shares true/false/null singletons. */
struct ypos;

/* Loads one YAML document. Plain scalars become integers, reals, true/false or
 * null when they look like it (YAML 1.2 core schema); quoted and block scalars
 * are strings. Anchors/aliases are expanded; duplicate keys in one mapping are an
 * error. On a syntax error err holds "file:line:col: message". An empty file
 * gives a null root. */
int yaml_load_file(const char *path, json_t **root, struct ypos **pos, struct err *err);
int yaml_load_string(const char *name, const char *text, size_t len, json_t **root,
		     struct ypos **pos, struct err *err);
void ypos_free(struct ypos *p);

/* The file name given at load time (owned by ypos). */
const char *ypos_file(const struct ypos *p);
struct loc ypos_root(const struct ypos *p);
/* Where the value under key starts in mapping parent ({file,0,0} if unknown). */
struct loc ypos_value(const struct ypos *p, const json_t *parent, const char *key);
/* Where the key itself is written. */
struct loc ypos_key(const struct ypos *p, const json_t *parent, const char *key);
/* Where item index of sequence parent starts. */
struct loc ypos_item(const struct ypos *p, const json_t *parent, size_t index);
/* The place of byte offset off inside the string scalar under key (or, with
 * key NULL, item index) of parent. Exact for plain, single-line quoted and
 * literal block (|) scalars; for other styles, the scalar's start. */
struct loc ypos_value_offset(const struct ypos *p, const json_t *parent, const char *key,
			     size_t index, size_t off);

#endif
