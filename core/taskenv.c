/* The task's side of the contract with its worker: see taskenv.h. */
#include "core/taskenv.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

void task_exec_free(struct task_exec *x)
{
	if (!x)
		return;
	free(x->path);
	for (char **a = x->argv; a && *a; a++)
		free(*a);
	free(x->argv);
	for (char **a = x->env; a && *a; a++)
		free(*a);
	free(x->env);
	free(x->dir);
	memset(x, 0, sizeof *x);
}

void taskexec_settle(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))
		return;
	/* FIONREAD on a pipe's write end counts what is still unread */
	for (int i = 0; i < 200; i++) {
		int n = 0;
		if (ioctl(fd, FIONREAD, &n) < 0 || n == 0)
			return;
		usleep(1000);
	}
}
