/* mlpio rules engine: rules editions, the figures each MLPerf Storage release judges by.
 *
 * A checker holds the logic of a rule; an edition holds its numbers: which models and
 * accelerators CLOSED and OPEN accept, the minimum AU per model, run counts, the checkpoint
 * model table, the KV-cache options. Editions are data, one JSON file each in share/rules/
 * (v2.0.json, v3.0.json), every figure citing the reference file it comes from in the
 * "sources" object beside it.
 *
 * A run records the edition it was judged under ("rules_edition" in its description); a run
 * recorded before editions existed was judged by v2.0 (MLPIO_RULES_EDITION_LEGACY). The
 * checkers judge each run by its own edition, so a submission mixing editions is judged run by
 * run and its groups refuse the mix.
 *
 * The editions are read once, on first use, from the folder mlpio_rules_editions_dir set (by
 * default $MLPIO_SHARE_DIR/rules). Not thread-safe: the first use must come before threads.
 */
#ifndef MLPIO_RULES_EDITION_H
#define MLPIO_RULES_EDITION_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "io/error.h"

/* The edition of runs whose description names none: mlpio judged those by v2.0. */
#define MLPIO_RULES_EDITION_LEGACY "v2.0"

/* The benchmark sections an edition must have, each a JSON object with "sources". */
#define MLPIO_RULES_EDITION_SECTIONS                                                               \
    {                                                                                              \
        "training", "checkpointing", "kvcache"                                                     \
    }

/* Where the editions are read from (a copy is kept); those read before are forgotten, and
 * the next lookup reads them from dir. */
void mlpio_rules_editions_dir(const char *dir);

/* Read the editions now if they are not yet (each later lookup then answers from memory).
 * Returns 0, or -1 with err naming the file and what is wrong with it. */
int mlpio_rules_editions_load(struct mlpio_error *err);

/* The edition called name ("v3.0"), or NULL (unknown, or the editions cannot be read). */
const cJSON *mlpio_rules_edition_find(const char *name);

/* The newest edition's name (the default of --rules-edition), or NULL when none could be
 * read. */
const char *mlpio_rules_edition_newest(void);

/* The i-th edition's name, oldest first; NULL past the last. */
const char *mlpio_rules_edition_name_at(int i);

/* The editions' names, oldest first, joined by ", " ("v2.0, v3.0"): static storage. */
const char *mlpio_rules_edition_names(void);

/* Judge every run by edition name, whatever it recorded (validate --rules-edition); NULL: each
 * by its own again. name must be known (mlpio_rules_edition_check); it is not copied. */
void mlpio_rules_edition_force(const char *name);

/* The edition a run description is judged by: the forced one, else its "rules_edition", else
 * the legacy one. */
const char *mlpio_rules_edition_of(const cJSON *run);

/* Check that name is a known edition: 0, or -1 with err listing the known ones; `option`
 * names where the name came from in the message ("--rules-edition"). */
int mlpio_rules_edition_check(const char *name, const char *option, struct mlpio_error *err);

/* The section of the run's edition for benchmark ("training"): 0 with *out set, or -1 with err
 * (the run names an unknown edition, or it has no such section). */
int mlpio_rules_edition_section(const cJSON *run, const char *benchmark, const cJSON **out,
                                struct mlpio_error *err);

/* Whether the string array list (NULL: empty) holds s. */
int mlpio_rules_edition_lists(const cJSON *list, const char *s);

/* The strings of array list joined by ", " into buf (n bytes); "none" when empty. */
void mlpio_rules_edition_join(const cJSON *list, char *buf, size_t n);

#endif
