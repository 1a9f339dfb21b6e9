/* mlpio results-tree scanner, internal: one run directory (scan_run.c) and the helpers the tree
 * walk (scan.c) shares with it. Only app/scan*.c include this header; the API is app/scan.h.
 */
#ifndef MLPIO_SCAN_RUN_H
#define MLPIO_SCAN_RUN_H

#include <cjson/cJSON.h>
#include <stdarg.h>

#include "io/error.h"

/* What a run's place in the tree names: benchmark, model, command, run_id. */
enum { MLPIO_SCAN_DEPTH = 4 };

struct mlpio_scan_run {
    cJSON *entry;        /* the run's object of "runs" (see app/scan.h), owned by the caller */
    char preset[32];     /* the CLOSED preset (kvcache option) the run's config matches, or "" */
    char scope[3 * 128]; /* a tree's "<division>/<org>/<system>" the run is in, or "" */
};

/* Read the run directory root/rel into out; comp names the run as its place in the layout
 * says: benchmark, model, command (NULL where the layout has no command level) and run_id.
 * Bad content never fails: what is wrong goes into the entry's "problems", the run is shown with
 * what could be read. Returns 0, or -1 with err when memory runs out (out->entry is then NULL).
 * Opens files read-only and never writes. */
int mlpio_scan_run(const char *root, const char *rel, const char *const comp[MLPIO_SCAN_DEPTH],
                   struct mlpio_scan_run *out, struct mlpio_error *err) MLPIO_WUR;

/* Append {"where", "what", "fix"} to problems; what is formatted. Returns 0, or -1 on ENOMEM. */
int mlpio_scan_problem(cJSON *problems, const char *where, const char *fix, const char *fmt, ...)
    MLPIO_PRINTF(4, 5);
int mlpio_scan_problemv(cJSON *problems, const char *where, const char *fix, const char *fmt,
                        va_list ap) MLPIO_PRINTF(4, 0);

/* The main figures of a run, by benchmark and command, from its summary: a new flat object
 * {name: number} (empty when nothing is known). NULL on ENOMEM. */
cJSON *mlpio_scan_figures(const char *benchmark, const char *command, const cJSON *summary);

/* The value of the preset (an option such as kvcache's --option) whose model and values the
 * run description has, into buf (n bytes); "" when none matches. */
void mlpio_scan_preset(const cJSON *metadata, char *buf, size_t n);

/* The entries of dir but "." and "..", sorted by name (free with mlpio_scan_free_names). 0, or
 * -1 with errno (ENOMEM or opendir's). */
int mlpio_scan_list(const char *dir, char ***out, int *count);
void mlpio_scan_free_names(char **names, int n);
/* "a/b" into out; a path too long for it is cut (errno ENAMETOOLONG), and then found missing. */
void mlpio_scan_join(char *out, size_t n, const char *a, const char *b);

/* The manifest schema of a submission tree's submission.yaml. */
#define MLPIO_MANIFEST_SCHEMA "mlps-submission-manifest/1"

/* The checks of <division>/<org> of a submission tree below root (app/subtree.h): systems/
 * (Rules.md 2.1.7 - 2.1.9), each run's provenance (PROV-01) and submission.yaml (PROV-02),
 * appended to problems. runs: the entries of the runs found below it (with "tree"). 0, or -1
 * when memory runs out. */
int mlpio_scan_org(const char *root, const char *division, const char *org,
                   const cJSON *const *runs, int n, cJSON *problems) MLPIO_WUR;

/* The manifest (submission.yaml) of <division>/<org> from the entries of its runs: a new
 * object (schema MLPIO_MANIFEST_SCHEMA), NULL on ENOMEM. */
cJSON *mlpio_scan_manifest(const char *root, const char *division, const char *org,
                           const cJSON *const *runs, int n);

#endif
