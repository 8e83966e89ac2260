/* What the batch commands share: opening the project, errors, exit codes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <unistd.h>

#include "base/util.h"
#include "cli/cli.h"

char *cli_shown_root(const char *root)
{
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd))
		return xstrdup(root);
	size_t n = strlen(cwd);
	if (!strcmp(root, cwd))
		return xstrdup(".");
	if (n > 1 && !strncmp(root, cwd, n) && root[n] == '/')
		return xstrdup(root + n + 1);
	if (n == 1 && root[0] == '/')
		return xstrdup(root + 1);
	return xstrdup(root);
}

void cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "sluice %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

bool cli_number(const char *cmd, const char *opt, const char *text, const char *what, long min, long max,
		long *out)
{
	char *end = NULL;
	errno = 0;
	long v = text ? strtol(text, &end, 10) : 0;
	if (!text || !*text || *end || errno || v < min || v > max) {
		char range[64];
		if (max >= INT_MAX) /* a limit nobody types: no need to show it */
			snprintf(range, sizeof range, "%ld or more", min);
		else
			snprintf(range, sizeof range, "%ld to %ld", min, max);
		cli_error(cmd, "%s wants %s (%s), not '%s'", opt, what, range, text ? text : "nothing");
		return false;
	}
	*out = v;
	return true;
}

int cli_exit_code(int code)
{
	switch (code) {
	case 0: return EXIT_OK;
	case ERR_PROJECT: return EXIT_PROJECT;
	case ERR_UNREACHABLE: return EXIT_UNREACHABLE;
	default: return EXIT_RUN_FAILED;
	}
}

int cli_open(struct cli *g, struct sctx *c, unsigned need)
{
	struct diags d = {0};
	struct err e = {0};
	if (g->quiet)
		need |= CTX_QUIET;
	int rc = ctx_open(c, g->project_dir, need, &d, &e);
	if (rc == 0) {
		if (d.n && !g->quiet)
			fprintf(stderr, "sluice: warning: the project has %zu error%s (see 'sluice validate'); showing"
					" the state anyway\n", d.n, d.n == 1 ? "" : "s");
		diags_free(&d);
		return 0;
	}
	if (d.n) {
		diags_sort(&d);
		diags_print(&d, stderr);
	}
	fprintf(stderr, "sluice: %s\n", e.msg);
	diags_free(&d);
	ctx_close(c);
	return rc == ERR_PROJECT ? EXIT_PROJECT : rc == ERR_UNREACHABLE ? EXIT_UNREACHABLE : EXIT_RUN_FAILED;
}
