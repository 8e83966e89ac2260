/* The event loop of the console and the runner (after redis ae): fd watchers, one-shot timers and
 * a before-sleep hook, over one poll(). The poll timeout is the nearest timer
 * or infinite: with nothing due the process sleeps. */
#ifndef SLUICE_BASE_LOOP_H
#define SLUICE_BASE_LOOP_H

#include <stdint.h>

enum { LOOP_READ = 1 << 0, LOOP_WRITE = 1 << 1 };

struct loop;

/* mask: what fired (LOOP_READ, LOOP_WRITE; errors and hang-ups count as both
 * readable and writable so the owner finds out by reading or writing). */
typedef void (*loop_fd_fn)(struct loop *l, int fd, int mask, void *data);
typedef void (*loop_timer_fn)(struct loop *l, long id, void *data);
typedef void (*loop_hook_fn)(struct loop *l, void *data);

struct loop *loop_new(void);
void loop_free(struct loop *l);

/* Adds mask to what fd is watched for; fn/data replace any earlier ones. */
void loop_watch(struct loop *l, int fd, int mask, loop_fd_fn fn, void *data);
/* Removes mask bits; the watcher goes when none is left. Safe from callbacks. */
void loop_unwatch(struct loop *l, int fd, int mask);

/* A one-shot timer in ms from now; returns its id (> 0). */
long loop_timer_add(struct loop *l, int64_t ms, loop_timer_fn fn, void *data);
/* Cancels a timer (unknown or fired ids are ignored). */
void loop_timer_del(struct loop *l, long id);

/* Called once per wake-up, after the callbacks and before poll() sleeps. */
void loop_set_before_sleep(struct loop *l, loop_hook_fn fn, void *data);

/* Runs until loop_stop(). */
void loop_run(struct loop *l);
void loop_stop(struct loop *l);
/* One pass: the before-sleep hook, then waits at most max_ms (-1: as long as
 * the timers say) and dispatches. */
void loop_once(struct loop *l, int max_ms);

#endif
