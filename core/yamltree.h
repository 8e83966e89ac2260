/* YAML (libyaml) into jansson trees, with the source position of every key and
 * value kept beside the tree so later checks can say file:line:col. */
#ifndef SLUICE_YAMLTREE_H
#define SLUICE_YAMLTREE_H

#include <jansson.h>

#include "base/err.h"

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

/* Limits that keep a hostile file cheap; passing one is an error at the place
 * that passes it. Files are read only if regular and of at most
 * FILE_MAX_PROJECT bytes (base/fs.h). */
enum {
	/* levels of nested mappings and sequences */
	YAML_MAX_DEPTH = 64,
	/* nodes (scalars and containers) in the loaded tree, aliases expanded */
	YAML_MAX_NODES = 500000,
	/* nodes the aliases of one document add in all: an alias is a copy, so
	 * nested ones multiply ("billion laughs") */
	YAML_MAX_ALIAS_NODES = 100000,
};

/* All loaders also honour merge keys (`<<: *base`, `<<: [*a, *b]`, from YAML
 * 1.1): keys the mapping does not set itself come from the merged ones. Tags
 * other than the core ones (!!str, !!int, ...) are an error. */

/* Flags for yaml_load_ex. */
enum {
	/* Keep the first of duplicate keys and record the others (ypos_dup)
	 * instead of failing, so a caller can report every one in its own words
	 * ("duplicate task 'x'"). */
	YAML_KEEP_DUPLICATES = 1u << 0,
};

/* A duplicate key met while loading with YAML_KEEP_DUPLICATES. */
struct ydup {
	const json_t *parent; /* the mapping that holds the first one */
	const char *key;
	struct loc first;     /* where the kept key is written */
	struct loc again;     /* where the dropped one is */
};

/* yaml_load_string with flags. On error *at (if not NULL) says where (its file
 * is name) and err holds the message alone, without the file:line:col prefix. */
int yaml_load_ex(const char *name, const char *text, size_t len, unsigned flags, json_t **root,
		 struct ypos **pos, struct loc *at, struct err *err);
/* yaml_load_ex on a file read as yaml_load_file reads it; when it cannot be
 * read, *at is the file alone and err says "cannot read: why". */
int yaml_load_file_ex(const char *path, unsigned flags, json_t **root, struct ypos **pos, struct loc *at,
		      struct err *err);
size_t ypos_n_dups(const struct ypos *p);
const struct ydup *ypos_dup(const struct ypos *p, size_t i);
/* The place of byte offset off in the loaded text. */
struct loc ypos_offset_loc(const struct ypos *p, size_t off);

#endif
