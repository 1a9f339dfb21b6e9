/* mlpio signals: SIGINT and SIGTERM end a run in order (app/guard.h finishes its record if the
 * ranks cannot). The handler only sets a flag and posts a semaphore; workloads check the flag
 * between transfers. */
#ifndef MLPIO_SIGNALS_H
#define MLPIO_SIGNALS_H

#include <stdbool.h>

/* Set by SIGINT/SIGTERM; workloads check it between transfers. */
bool mlpio_signals_interrupted(void);
void mlpio_signals_install(void);
/* The last signal that interrupted the run (SIGINT or SIGTERM), or 0. */
int mlpio_signals_received(void);
/* Block until a signal arrives or mlpio_signals_wake is called (one wake-up per call). */
void mlpio_signals_wait(void);
void mlpio_signals_wake(void);

#endif
