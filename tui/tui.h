/* The console: one poll() loop, a stack of views, an action table that drives
 * keys, `:` commands, help and the `--batch` names. Views never run SQL: they
 * ask core (core/query.h, core/actions.h) and are told when state changed
 * (LISTEN/NOTIFY on channel "sluice"). This is its face to the rest of
 * sluice; tui/view.h is what a view sees. */
#ifndef SLUICE_TUI_H
#define SLUICE_TUI_H

#include <stdbool.h>

/* Options of the console (cli/main.c). */
struct tui_opts {
	const char *project_dir;
	const char *theme;         /* NULL: "default" */
	bool readonly;
};

/* Runs the console until the user quits; returns the process exit code. */
int tui_main(const struct tui_opts *o);

#endif
