/* The connections view's side of the frame: the form that adds or edits a
 * connection in connections.yml, the confirmation of a delete, and the test
 * of a connection in a child process (its connect may wait for seconds;
 * the screen does not). */
#ifndef SLUICE_TUI_CONNFORM_H
#define SLUICE_TUI_CONNFORM_H

#include <stdbool.h>

struct tui;
struct view;
struct connection;

/* A test's outcome, as the child saw it. */
struct connform_result {
	bool ok;
	double connect_ms, latency_ms;
	char version[64];
	bool tls;
	char error[512];     /* one line, no password */
};

/* The view's callbacks; each gets the view only while it is open. */
struct connform_hooks {
	/* connections.yml was changed: name was saved (NULL: removed) */
	void (*changed)(struct view *v, const char *name);
	/* the test of name ended */
	void (*tested)(struct view *v, const char *name, const struct connform_result *r);
};

/* The view v gets its callbacks from now on, until connform_detach(v). */
void connform_attach(struct view *v, const struct connform_hooks *h);
void connform_detach(struct view *v);
/* The form: k NULL adds a connection, else edits k (its password stays
 * unless one is typed). Saving writes connections.yml. */
void connform_edit(struct view *v, const struct connection *k);
/* Asks, then removes name from connections.yml. */
void connform_delete(struct view *v, const char *name, int line);
/* Tests name in a child (connections.yml read afresh there; `default`
 * the warehouse); hooks.tested gets the outcome. -1 when it cannot start. */
int connform_test(struct view *v, const char *name);
/* The warehouse's address, masked (malloc'ed), and whether it is embedded. */
char *connform_warehouse(struct tui *t, bool *embedded);

#endif
