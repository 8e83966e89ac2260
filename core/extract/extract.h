/* The work of an extract task (kind extract, core/kinds/extract.c): a
 * source's records or files into the lake (core/extract/lake.h), from the
 * committed watermark on, and the watermark it reached proposed for the
 * try's success (core/extract/watermark.h). */
#ifndef SLUICE_EXTRACT_EXTRACT_H
#define SLUICE_EXTRACT_EXTRACT_H

#include <jansson.h>
#include <stdio.h>

#include "base/err.h"
#include "core/taskenv.h"

/* What a try of an HTTP source did. */
struct extract_stats {
	long long records;
	int pages;            /* requests that gave a page (or the file) */
	int retries;
	long long bytes;      /* of the bodies received */
	double seconds;
};

/* Runs the built spec of an extract task with `source: http`: env->conninfo
 * is its connection's JSON (URL and auth). Progress and retries to log;
 * the error names the page (the path, never the URL's secrets). */
int extract_http(const json_t *spec, const struct task_env *env, FILE *log, struct extract_stats *st, struct err *err);

/* "5m", "30s", "2h", "1d", or seconds as a number: seconds, -1 if not one. */
double extract_duration(const char *s);

#endif
