/* Dialogs over the body: the confirmation of a destructive action (what it
 * touches, y/n, option toggles) and the trigger form (text fields). */
#ifndef SLUICE_TUI_FORM_H
#define SLUICE_TUI_FORM_H

#include <stdbool.h>
#include <stddef.h>

struct tui;

struct modal_opt {
	int key;
	char label[48];
	bool on;
};

struct modal_field {
	char label[48];
	char value[256];
	size_t cur;
	bool secret;             /* drawn as '*': a password */
};

struct modal {
	char title[128];
	char **lines;            /* body text, owned */
	size_t n_lines;
	int scroll;
	struct modal_field *fields;
	size_t n_fields;
	int focus;
	struct modal_opt opts[4];
	int n_opts;
	char footer[160];
	bool busy;               /* waiting for what it will touch: y is not taken yet */
	bool error;              /* lines explain an error: any key closes */
	void (*on_submit)(struct tui *t, struct modal *m);
	void (*on_option)(struct tui *t, struct modal *m, int i);
	void (*on_close)(struct tui *t, struct modal *m); /* frees data */
	void (*on_edit)(struct tui *t, struct modal *m);  /* a field's text changed (NULL: nothing to do) */
	void *data;
};

struct modal *modal_new(const char *title);
void modal_add_line(struct modal *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void modal_clear_lines(struct modal *m);
void modal_add_field(struct modal *m, const char *label, const char *value);
/* Shows m over the body (closing any other); the console owns it then. */
void modal_open(struct tui *t, struct modal *m);
void modal_close(struct tui *t);
void modal_draw(struct tui *t, struct modal *m);
/* Keys while a dialog is open. */
void modal_key(struct tui *t, struct modal *m, int key);

#endif
