/* FTP and FTPS (explicit TLS, AUTH TLS on the usual port) through libcurl:
 * list a directory (MLSD where the server has it, LIST otherwise), fetch a
 * file streamed to a callback or an fd, a file's size and modification
 * time for change detection. Paths are relative to the login directory.
 * Errors are one line naming host, port and path, never the password. */
#ifndef SLUICE_FTP_H
#define SLUICE_FTP_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "base/err.h"

/* The connections file's ftp entry, as JSON (ftp_conf_json /
 * ftp_conf_parse), is what a task gets. */
struct ftp_conf {
	char *host;
	char *port;      /* NULL: 21 */
	char *user;      /* NULL: anonymous */
	char *password;  /* never print */
	bool ftps;       /* explicit TLS required for login and data */
	char *ca_file;   /* the CAs to verify the server's certificate by; NULL: the system's */
};

/* JSON {"host", "port", "user", "password", "ftps", "ca_file"}: holds the password;
 * malloc'ed. */
char *ftp_conf_json(const struct ftp_conf *c);
int ftp_conf_parse(const char *json, struct ftp_conf *c, struct err *err);
void ftp_conf_clear(struct ftp_conf *c);

struct ftp_entry {
	const char *name;
	char type;          /* 'f' file, 'd' directory, 'l' link, '?' other */
	long long size;     /* -1: unknown */
	time_t mtime;       /* UTC; -1: unknown */
};

/* The entries of dir ("" or "." the login directory) through each, "."
 * and ".." left out (nonzero from each stops and is returned). *used_mlsd
 * (may be NULL) says which command answered. Entries live only during the
 * call. */
int ftp_list(const struct ftp_conf *c, const char *dir, int (*each)(const struct ftp_entry *e, void *arg), void *arg,
	     bool *used_mlsd, struct err *err);
/* The file's bytes through on_data as they come (nonzero stops: an error);
 * a missing file is ERR_NOTFOUND. */
int ftp_get(const struct ftp_conf *c, const char *path, int (*on_data)(const char *data, size_t len, void *arg),
	    void *arg, struct err *err);
int ftp_get_fd(const struct ftp_conf *c, const char *path, int fd, struct err *err);
/* SIZE and MDTM of path; ERR_NOTFOUND when it is missing. */
int ftp_stat(const struct ftp_conf *c, const char *path, long long *size, time_t *mtime, struct err *err);

/* For tests: one MLSD line ("type=file;size=3;modify=20240131120000; a.csv")
 * or one LIST line (ls -l style) into e (its name points into line, which
 * is changed). false for a line that is not an entry. */
bool ftp_parse_mlsd(char *line, struct ftp_entry *e);
bool ftp_parse_list(char *line, time_t now, struct ftp_entry *e);

#endif
