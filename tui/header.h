/* The header: project, target, runner and workers, the state database and
 * the clock, with the breadcrumbs of the open views under it. */
#ifndef SLUICE_TUI_HEADER_H
#define SLUICE_TUI_HEADER_H

struct tui;

/* The header (and the hints that follow the top view) need drawing. */
void header_dirty(struct tui *t);
/* Looks at the runner and the live workers again now. */
void header_refresh_now(struct tui *t);
/* The same, at most once a second: they change without notifications of
 * their own, so the header looks when runs move. */
void header_refresh(struct tui *t);
void header_draw(struct tui *t);
/* Something became unreachable or reachable again: the header shows it, with
 * how long it has been, redrawn each second while it lasts. */
void header_outage(struct tui *t);
/* who (any pointer that stands for it: a job, a view's connection) waits on
 * server ("warehouse", "connection lake") from now on; the header says so
 * once it has waited a few seconds. Again for the same who: a new wait. */
void header_wait(struct tui *t, const void *who, const char *server);
/* who's answer came, or it gave up (none waiting: nothing happens). */
void header_unwait(struct tui *t, const void *who);
/* Before the loop sleeps: while a query or a job waits on a server, the
 * header looks each second whether one has waited too long (and then says
 * so); once none waits, it stops looking. */
void header_stall_watch(struct tui *t);
/* At the end: forgets every wait. */
void header_free(struct tui *t);

#endif
