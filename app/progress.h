/* mlpio progress: what a long phase has done, for people watching.
 *
 * Rank 0 only (elsewhere every call is a no-op). On a terminal, one line is redrawn in place
 * at most ten times a second: phase, done/total, rate, ETA. When stdout is not a terminal
 * (batch logs) nothing is printed. Every `interval` seconds (MLPIO_PROGRESS_INTERVAL, default
 * 5) a `progress` event goes into the run's event log, so `mlpio watch --follow` shows progress
 * from anywhere. Updates cost a clock read unless something is due.
 */
#ifndef MLPIO_PROGRESS_H
#define MLPIO_PROGRESS_H

#include <stdbool.h>

struct mlpio_run;
struct mlpio_progress;

/* total: the amount the phase will do (0: unknown, no ETA); unit: what is counted ("bytes" is
 * shown in GB and GB/s; "s", a phase that lasts a given time, as elapsed/total seconds with no
 * rate, a second figure giving the rate; anything else as a count and a rate). Returns NULL on
 * ranks other than 0, when out of memory, or when there is nothing to show it on; every
 * function accepts NULL. */
struct mlpio_progress *mlpio_progress_start(struct mlpio_run *run, const char *phase, double total,
                                            const char *unit);
/* The phase has now done `done` in all (monotonic; capped at the total). */
void mlpio_progress_update(struct mlpio_progress *p, double done);
/* A second figure shown beside the first (e.g. "requests" completed while the phase counts
 * seconds): its count and rate appear in the line and in the events. name is copied. */
void mlpio_progress_count(struct mlpio_progress *p, const char *name, double count);
/* A short text after the figures (e.g. "waiting for 3 requests"), in the line and as "note"
 * in the events; NULL or "" removes it. text is copied. */
void mlpio_progress_note(struct mlpio_progress *p, const char *text);
/* Last line (with a newline, on a terminal) and a last event; frees; sets *p = NULL. */
void mlpio_progress_finish(struct mlpio_progress **p);

/* For tests: the text of the line for these figures (phase, done, total, unit, seconds). */
void mlpio_progress_format(char *buf, unsigned len, const char *phase, double done, double total,
                           const char *unit, double elapsed);

#endif
