/* Scratch directories for unit tests that need files: made under /tmp,
 * filled with unit_put, removed whole with unit_rm_tree. */
#ifndef SLUICE_UNIT_SCRATCH_H
#define SLUICE_UNIT_SCRATCH_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "base/util.h"
#include "tests/unit/unit.h"

/* A new empty directory; malloc'ed path. */
static inline char *unit_scratch(const char *prefix)
{
	char *tmpl = xasprintf("/tmp/sluice-%s-XXXXXX", prefix);
	assert_non_null(mkdtemp(tmpl));
	return tmpl;
}

/* Writes text to dir/rel, making the directories on the way. */
static inline void unit_put(const char *dir, const char *rel, const char *text)
{
	char *path = path_join(dir, rel);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	assert_int_equal(mkdir_p(path, 0755, NULL), 0);
	*slash = '/';
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

static inline int unit_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Removes the tree and frees dir. */
static inline void unit_rm_tree(char *dir)
{
	nftw(dir, unit_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

#endif
