/* A line typed on the status line: `:` commands (with Tab completion from
 * the action table and the project) and the `/` filter or search of a view. */
#ifndef SLUICE_TUI_PROMPT_H
#define SLUICE_TUI_PROMPT_H

struct tui;

/* Asks for a line on the status line; the top view's on_input gets it
 * (a `:` line runs as a command). */
void tui_prompt(struct tui *t, int action, const char *initial);
/* Keys while the prompt is open. */
void prompt_key(struct tui *t, int key);
/* The prompt on row y, and where the cursor goes. */
void prompt_draw(struct tui *t, int y);
/* What the hint bar says while the prompt is open. */
const char *prompt_hint(struct tui *t);

#endif
