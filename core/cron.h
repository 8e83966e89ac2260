/* Cron schedules: five fields (minute hour day-of-month month day-of-week) with
 * lists, ranges, steps and names, plus @hourly @daily @weekly @monthly @yearly.
 * All times are UTC. */
#ifndef SLUICE_CRON_H
#define SLUICE_CRON_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "base/err.h"

struct cron {
	uint64_t minute; /* bit i set: minute i allowed (0-59) */
	uint32_t hour;   /* 0-23 */
	uint32_t dom;    /* 1-31 */
	uint16_t month;  /* 1-12 */
	uint8_t dow;     /* 0-6, Sunday 0 (7 accepted as Sunday) */
	bool dom_star, dow_star; /* for the classic dom/dow OR rule */
};

/* Parses expr. On error returns -1, err says what was expected and *errcol
 * (if not NULL) is the 0-based byte offset of the bad field in expr. */
int cron_parse(const char *expr, struct cron *out, int *errcol, struct err *err);
/* The first matching time strictly after `after` (seconds are zeroed).
 * Returns (time_t)-1 if none within 5 years. */
time_t cron_next(const struct cron *c, time_t after);

#endif
