/* Console timings for measuring (SLUICE_CONSOLE_TRACE=FILE): one
 * "name value" line each, appended to the file. */
#include "tui/trace.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "base/util.h"

static FILE *trace_file;
/* start, boot: ms; key, notify: µs of what is waiting for its frame (0: nothing) */
static int64_t t_start, t_boot, t_key, t_notify;
/* µs of the last key, kept for trace_data */
static int64_t t_last_key;

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void trace_open(void)
{
	t_start = t_boot = now_ms();
	const char *tr = getenv("SLUICE_CONSOLE_TRACE");
	if (tr && *tr)
		trace_file = fopen(tr, "ae");
}

void trace_close(void)
{
	if (trace_file)
		fclose(trace_file);
	trace_file = NULL;
}

void trace_key(void)
{
	if (trace_file)
		t_key = t_last_key = now_us();
}

void trace_notify(void)
{
	if (trace_file && !t_notify)
		t_notify = now_us();
}

void trace_connected(void)
{
	if (trace_file) {
		fprintf(trace_file, "connected_ms %lld\n", (long long)(now_ms() - t_boot));
		fflush(trace_file);
	}
}

void trace_body_drawn(void)
{
	if (trace_file && t_notify && !t_key) {
		/* the body redrawn since a notification: its data is in */
		fprintf(trace_file, "notify_to_frame_ms %.3f\n", (double)(now_us() - t_notify) / 1000.0);
		fflush(trace_file);
		t_notify = 0;
	}
}

void trace_frame(void)
{
	if (trace_file && t_start) {
		fprintf(trace_file, "first_frame_ms %lld\n", (long long)(now_ms() - t_start));
		fflush(trace_file);
	}
	if (trace_file && t_key) {
		fprintf(trace_file, "key_ms %.3f\n", (double)(now_us() - t_key) / 1000.0);
		fflush(trace_file);
	}
	t_start = 0;
	t_key = 0;
}

void trace_data(const char *what)
{
	if (trace_file && t_last_key) {
		fprintf(trace_file, "%s_ms %.3f\n", what, (double)(now_us() - t_last_key) / 1000.0);
		fflush(trace_file);
	}
}
