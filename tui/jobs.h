/* Child processes for the work that would block: starting the embedded
 * services and running actions. A child answers on a pipe the loop watches;
 * the screen never waits for it. */
#ifndef SLUICE_TUI_JOBS_H
#define SLUICE_TUI_JOBS_H

#include <jansson.h>
#include <stdbool.h>

struct tui;
struct sctx;

/* Runs in a forked child with the state store (and the queue) connected:
 * writes its answer to fd as one JSON document, may write "status TEXT\n"
 * lines before it. */
typedef void (*job_body)(struct sctx *c, void *arg, int fd);
/* In the parent: out is the JSON answer (NULL when the child died). */
typedef void (*job_done)(struct tui *t, json_t *out, void *arg);
typedef void (*job_status)(struct tui *t, const char *line, void *arg);

/* arg is a flat malloc'ed block the job owns: freed after done, or before
 * returning -1 when the job cannot start. */
int job_spawn(struct tui *t, bool connect, job_body body, job_status status, job_done done, void *arg);
/* job_spawn (no state store, no status lines) for a job that asks a server
 * (server: "warehouse", "connection lake"): while it waits, the header says
 * how long that server has not answered (header_wait). */
int job_spawn_on(struct tui *t, const char *server, job_body body, job_done done, void *arg);
/* From a SIGCHLD: reaps whatever finished. */
void jobs_reap(struct tui *t);
void jobs_free(struct tui *t);
/* In the child: "status TEXT" and the answer. */
void job_say(int fd, const char *status);
void job_reply(int fd, json_t *answer);

#endif
