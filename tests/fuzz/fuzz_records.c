/* libFuzzer target: the CSV, JSON Lines and JSON array readers
 * (connectors/records) on any bytes. The first byte picks the format and
 * options; the rest is the file, written to a memfd the reader opens by path
 * as it would open a file. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "connectors/records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	if (fd < 0) {
		fd = memfd_create("fuzz-records", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	if (size < 1)
		return 0;
	uint8_t b = data[0];
	data++;
	size--;
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();

	static const char *const cols[] = {"a", "b", "c"};
	struct rec_opts o;
	rec_opts_init(&o);
	o.format = (enum rec_format)(b % 3);
	o.format_set = true;
	o.encoding = (b & 4) ? REC_LATIN1 : REC_UTF8;
	o.delimiter = (b & 8) ? ';' : ',';
	o.quote = (b & 16) ? '\'' : '"';
	o.header = !(b & 32);
	if ((b & 64) || !o.header) {
		o.columns = cols;
		o.n_columns = 3;
	}
	o.max_field = (b & 128) ? 64 : 1 << 20;
	o.gzip = -1; /* by the magic bytes: gzip'ed inputs are read too */

	struct rec_reader *r;
	struct err e = {0};
	if (rec_open(path, &o, &r, &e) < 0)
		return 0;
	struct record rec;
	int rc;
	while ((rc = rec_next(r, &rec, &e)) == 1) {
		/* every field is NUL-terminated within its length */
		for (size_t f = 0; f < rec.n; f++)
			if (rec.fields[f] && strlen(rec.fields[f]) > rec.lens[f])
				abort();
		if (rec.raw_len && !rec.raw)
			abort();
	}
	size_t n;
	(void)rec_columns(r, &n);
	rec_close(r);
	return 0;
}
