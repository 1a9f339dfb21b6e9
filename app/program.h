/* mlpio program: the whole of `mlpio ...`, from MPI_Init to MPI_Finalize.
 *
 * The mlpio binary's main() is this call alone. A program that adds workloads of its own (a
 * site's, or a test's) registers them first (mlpio_workload_add, and the rules and report
 * registries' own add functions), then calls it.
 */
#ifndef MLPIO_PROGRAM_H
#define MLPIO_PROGRAM_H

/* Run mlpio with argv; returns the process exit code (the same on every rank). */
int mlpio_main(int argc, char **argv);

#endif
