/* Civil-date arithmetic, one copy for cron, contracts and the faces: the
 * proleptic Gregorian calendar in UTC, no time zones. */
#ifndef SLUICE_BASE_DATE_H
#define SLUICE_BASE_DATE_H

#include <stdbool.h>
#include <stdint.h>

bool date_is_leap(int64_t y);
/* 28..31; m is 1..12. */
int date_days_in_month(int64_t y, int m);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (H.
 * Hinnant's algorithms; any year, no time zone, no overflow in practice). */
int64_t date_days_from_civil(int64_t y, int m, int d);
void date_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/* YYYY-MM-DD validation (a real calendar date). */
bool date_valid(const char *s);
/* Today's date in UTC as YYYY-MM-DD into buf[11]. */
void date_today(char buf[11]);

#endif
