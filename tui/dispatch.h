/* Keys to actions to views: a key goes to the open dialog, the prompt, or
 * the top view with the action it stands for there; what the view leaves
 * alone the frame does (open a view, quit, go back, act). */
#ifndef SLUICE_TUI_DISPATCH_H
#define SLUICE_TUI_DISPATCH_H

struct tui;
struct view;

/* One key from the terminal. */
void dispatch_key(struct tui *t, int key);
/* Runs action a (-1: none) from key or a `:` command with arg on the top
 * view, then in the frame. */
void dispatch_action(struct tui *t, int key, int a, const char *arg);
/* Applies what v's handler returned (H_* bits). */
void dispatch_result(struct tui *t, struct view *v, int r);

#endif
