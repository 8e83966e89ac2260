/* Whole files and directories, with errors that name the path. */
#ifndef SLUICE_BASE_FS_H
#define SLUICE_BASE_FS_H

#include <stddef.h>

#include "base/err.h"

/* Reads a whole file; the result is NUL-terminated. */
int file_read(const char *path, char **out, size_t *len, struct err *err);
int file_write_atomic(const char *path, const char *data, size_t len, int mode, struct err *err);
int mkdir_p(const char *path, int mode, struct err *err);

#endif
