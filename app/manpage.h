/* mlpio manual: mlpio(1) in roff, made from the same tables and help texts as --help (every
 * benchmark's commands with their options and defaults, every tool's usage), so that the
 * manual cannot say other than the program; and the launch help (mlpio help launch). */
#ifndef MLPIO_MANPAGE_H
#define MLPIO_MANPAGE_H

#include <stdio.h>

/* How to run mlpio on a cluster: host files, srun, binding, results, watching a job. */
extern const char mlpio_launch_help[];

/* Write mlpio(1) to out. 0, or -1 when memory runs out. */
int mlpio_manpage_write(FILE *out);

#endif
