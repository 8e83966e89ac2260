/* The input of the record readers: a file or stdin, plain or gzip (one or
 * more members), latin1 turned into UTF-8, into the reader's buffer. */
#include "connectors/records/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"

static ssize_t read_fd(struct rec_reader *r, void *dst, size_t n, struct err *err)
{
	for (;;) {
		ssize_t k = read(r->fd, dst, n);
		if (k >= 0) {
			r->in_done += k;
			if (k == 0)
				r->in_eof = true;
			return k;
		}
		if (errno != EINTR)
			return err_set(err, "%s: read: %s", r->path, strerror(errno));
	}
}

/* Up to n bytes of the (decompressed) input; 0 at its end. */
static ssize_t read_input(struct rec_reader *r, unsigned char *dst, size_t n, struct err *err)
{
	if (!r->gz) {
		if (r->zoff < r->zlen) {
			size_t k = r->zlen - r->zoff;
			if (k > n)
				k = n;
			memcpy(dst, r->zbuf + r->zoff, k);
			r->zoff += k;
			return (ssize_t)k;
		}
		if (r->in_eof)
			return 0;
		return read_fd(r, dst, n, err);
	}
	for (;;) {
		if (r->zs.avail_in == 0 && !r->in_eof) {
			ssize_t k = read_fd(r, r->zbuf, ZBUF, err);
			if (k < 0)
				return -1;
			r->zs.next_in = r->zbuf;
			r->zs.avail_in = (uInt)k;
		}
		if (r->z_member_end) {
			if (r->zs.avail_in == 0 && r->in_eof)
				return 0;
			/* another member follows only if it starts like one; other
			 * trailing bytes are ignored, as gzip -d does with a warning */
			if (r->zs.avail_in >= 1 && r->zs.next_in[0] != 0x1f)
				return 0;
			inflateReset(&r->zs);
			r->z_member_end = false;
		}
		r->zs.next_out = dst;
		r->zs.avail_out = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
		uInt before = r->zs.avail_out;
		int rc = inflate(&r->zs, Z_NO_FLUSH);
		size_t got = before - r->zs.avail_out;
		if (rc == Z_STREAM_END)
			r->z_member_end = true;
		else if (rc == Z_BUF_ERROR) {
			if (r->in_eof && r->zs.avail_in == 0 && !got)
				return err_set(err, "%s: unexpected end of compressed data", r->path);
		} else if (rc != Z_OK)
			return err_set(err, "%s: bad gzip data: %s", r->path, r->zs.msg ? r->zs.msg : "inflate failed");
		if (got)
			return (ssize_t)got;
	}
}

int rec_fill(struct rec_reader *r, struct err *err)
{
	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->end - r->pos);
		r->base += (int64_t)r->pos;
		r->end -= r->pos;
		r->pos = 0;
	}
	/* a latin1 byte may become two: leave room for one at least */
	if (r->cap - r->end < 4) {
		r->cap *= 2;
		r->buf = xrealloc(r->buf, r->cap + 1);
	}
	size_t room = r->cap - r->end;
	ssize_t k;
	if (r->o.encoding == REC_LATIN1) {
		size_t want = room / 2 ? room / 2 : 1;
		if (want > r->lat_cap) {
			r->lat = xrealloc(r->lat, want);
			r->lat_cap = want;
		}
		k = read_input(r, r->lat, want, err);
		if (k > 0) {
			unsigned char *o = (unsigned char *)r->buf + r->end;
			for (ssize_t i = 0; i < k; i++) {
				unsigned char c = r->lat[i];
				if (c < 0x80)
					*o++ = c;
				else {
					*o++ = (unsigned char)(0xC0 | (c >> 6));
					*o++ = (unsigned char)(0x80 | (c & 0x3F));
				}
			}
			k = (ssize_t)(o - ((unsigned char *)r->buf + r->end));
		}
	} else
		k = read_input(r, (unsigned char *)r->buf + r->end, room, err);
	if (k < 0)
		return -1;
	if (k == 0)
		r->eof = true;
	r->end += (size_t)k;
	return 0;
}

int rec_input_open(struct rec_reader *r, const char *path, struct err *err)
{
	if (!strcmp(path, "-"))
		r->fd = 0;
	else {
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0)
			return err_setc(err, errno == ENOENT ? ERR_NOTFOUND : ERR_FAIL, "%s: %s", path, strerror(errno));
		r->own_fd = true;
	}
	struct stat st;
	r->in_size = fstat(r->fd, &st) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;

	/* sniff the first bytes for gzip's magic, keeping them for the reader */
	r->zbuf = xmalloc(ZBUF);
	while (r->zlen < 2 && !r->in_eof) {
		ssize_t k = read_fd(r, r->zbuf + r->zlen, ZBUF - r->zlen, err);
		if (k < 0)
			return -1;
		r->zlen += (size_t)k;
	}
	bool magic = r->zlen >= 2 && r->zbuf[0] == 0x1f && r->zbuf[1] == 0x8b;
	r->gz = r->o.gzip == 1 || (r->o.gzip < 0 && (magic || ends_with(path, strlen(path), ".gz")));
	if (r->gz) {
		if (inflateInit2(&r->zs, 16 + MAX_WBITS) != Z_OK)
			return err_set(err, "%s: cannot start gzip decompression", path);
		r->zs_live = true;
		r->zs.next_in = r->zbuf;
		r->zs.avail_in = (uInt)r->zlen;
	}
	return 0;
}

void rec_input_close(struct rec_reader *r)
{
	if (r->own_fd)
		close(r->fd);
	r->own_fd = false;
	if (r->zs_live)
		inflateEnd(&r->zs);
	r->zs_live = false;
	free(r->zbuf);
	free(r->lat);
	r->zbuf = NULL;
	r->lat = NULL;
}
