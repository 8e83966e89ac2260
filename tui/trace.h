/* SLUICE_CONSOLE_TRACE=FILE appends timings to FILE: the first frame after
 * start, the connection, each keystroke to its frame, a notification to the
 * frame that shows it (for measuring, not for users; bench/console.sh). */
#ifndef SLUICE_TUI_TRACE_H
#define SLUICE_TUI_TRACE_H

/* At start (the clock of the first frame starts here). */
void trace_open(void);
void trace_close(void);
/* Keys were read / a notification came / the state store is connected. */
void trace_key(void);
void trace_notify(void);
void trace_connected(void);
/* The body was redrawn; a whole frame went out. */
void trace_body_drawn(void);
void trace_frame(void);
/* A view drew what the last key asked a server for ("rows_ms N": from that
 * key to this frame; the table browser's pages). */
void trace_data(const char *what);

#endif
