/* Whole files and directories, with errors that name the path. */
#ifndef SLUICE_BASE_FS_H
#define SLUICE_BASE_FS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Reads a whole file; the result is NUL-terminated. */
int file_read(const char *path, char **out, size_t *len, struct err *err);

/* The most a project file (sluice.yml, a pipeline, a contract, a theme,
 * connections.yml) may hold: far above any real one, and small enough that a
 * path pointing at the wrong thing costs little. */
#define FILE_MAX_PROJECT ((size_t)16 << 20)

/* file_read for a file that must be regular (after following symlinks) and of
 * at most max bytes. A FIFO, device, socket or directory is refused without
 * blocking on it, and so is a bigger file, before anything is read; the
 * message names the path and the rule. A missing file is ERR_NOTFOUND. */
int file_read_regular(const char *path, size_t max, char **out, size_t *len, struct err *err);
int file_write_atomic(const char *path, const char *data, size_t len, int mode, struct err *err);
int mkdir_p(const char *path, int mode, struct err *err);

/* Adds to *newest the latest modification time (ns) and to *n the number of
 * the entries under dir, recursively (hidden ones skipped, 32 levels at
 * most), so an edited, added or removed file changes one or the other. A
 * missing dir adds nothing. */
void fs_tree_stamp(const char *dir, int64_t *newest, int64_t *n);

#endif
