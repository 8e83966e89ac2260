/* The lake on a local directory: <lake>/<source>/<name>/<ds>/, each file
 * there complete or absent (written under a hidden temporary name in the
 * same directory, fsync'ed, renamed), and a try's _manifest.json last. */
#ifndef SLUICE_EXTRACT_LAKE_H
#define SLUICE_EXTRACT_LAKE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"

#define LAKE_MANIFEST "_manifest.json"

/* What one try lands in one directory. */
struct lake_dir {
	char *path;           /* <lake>/<source>/<name>/<ds> */
	json_t *files;        /* the manifest's "files": [{name, bytes, crc32, records}] */
	long long records;
	int parts;            /* part-N.jsonl.gz written so far */
};

/* One file being written. */
struct lake_file {
	char *name;           /* its name in the directory */
	char *tmp;            /* the temporary path it is written to */
	int fd;
	void *gz;             /* gzFile when compressed, else NULL */
	long long records;
	bool failed;
};

/* Makes the directory (and its parents) and clears what an earlier try left
 * there: its manifest first, so no reader trusts the files that go next,
 * then every file, temporary ones included. */
int lake_dir_open(struct lake_dir *d, const char *lake, const char *source, const char *name, const char *ds,
		  struct err *err);
void lake_dir_free(struct lake_dir *d);

/* The next part-N.jsonl.gz; records go in with lake_put_record. */
int lake_part_open(struct lake_dir *d, struct lake_file *f, struct err *err);
/* A file under its own name (raw), written as it comes with lake_write. */
int lake_raw_open(struct lake_dir *d, const char *name, struct lake_file *f, struct err *err);
int lake_write(struct lake_file *f, const void *data, size_t len, struct err *err);
/* One record as a JSON line. */
int lake_put_record(struct lake_file *f, const json_t *rec, struct err *err);
/* Completes f (fsync, rename into place, the directory fsync'ed) and adds
 * it to the manifest's files; with ok false, removes it instead. */
int lake_file_close(struct lake_dir *d, struct lake_file *f, bool ok, struct err *err);

/* A file name the lake takes under its own name: no '/', not hidden, not
 * the manifest. */
bool lake_name_valid(const char *name);

/* Writes the manifest of the try: about (an object, borrowed: task, run,
 * watermark ...) with "files" and "records" added. Last, the same way. */
int lake_manifest_write(struct lake_dir *d, json_t *about, struct err *err);

#endif
