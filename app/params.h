/* mlpio parameters: the typed, range-checked keys a workload's configuration may hold.
 *
 * Each workload declares a table of mlpio_param_spec (dotted key, type, range, help). Values
 * from the command line arrive as text and are converted here; values from JSON files are
 * checked here. Every failure names the parameter, what was expected, what was given and how
 * to fix it. Also: "did you mean" suggestions. (Dotted paths into JSON are report/json_file.h.)
 */
#ifndef MLPIO_PARAMS_H
#define MLPIO_PARAMS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/error.h"

enum mlpio_param_type {
    MLPIO_PARAM_INT,    /* integer in [min, max] */
    MLPIO_PARAM_SIZE,   /* byte count; text may carry k/K, M, G, T (powers of 1024) */
    MLPIO_PARAM_NUMBER, /* real number in [min, max] */
    MLPIO_PARAM_BOOL,   /* true/false (text: true/false/yes/no/1/0/on/off) */
    MLPIO_PARAM_STRING, /* any non-empty string */
    MLPIO_PARAM_ENUM,   /* one of choices ("a|b|c") */
};

/* The C type of the settings field a parameter fills (see MLPIO_AT). */
enum mlpio_param_field {
    MLPIO_FIELD_NONE = 0, /* the parameter has no field: it is only checked */
    MLPIO_FIELD_I64,      /* int64_t: INT */
    MLPIO_FIELD_U64,      /* uint64_t: SIZE */
    MLPIO_FIELD_DOUBLE,   /* double: NUMBER (or INT) */
    MLPIO_FIELD_BOOL,     /* bool: BOOL */
    MLPIO_FIELD_TEXT,     /* const char *, borrowed from the config: STRING, ENUM */
};

struct mlpio_param_spec {
    const char *key; /* dotted, e.g. "checkpoint.transfer_size" */
    enum mlpio_param_type type;
    double min, max;     /* INT, SIZE, NUMBER */
    const char *choices; /* ENUM: "a|b|c" */
    const char *help;
    const char *unit; /* shown after values in --help ("s", "GiB"), or NULL */
    /* When the rules make a run INVALID for this parameter's value: MLPIO_PARAM_IF_CHANGED
     * (any value but the model's own), a condition shown as is ("if false", "above 2"), or
     * NULL when no value of it alone makes a run INVALID (it may still make it OPEN). */
    const char *invalid;
    /* Where mlpio_params_settings stores the value in the workload's settings struct: written
     * MLPIO_AT(struct type, member), which also records the member's C type (a member of a
     * type the parser does not know fails to compile). Left out: no field. */
    size_t offset;
    enum mlpio_param_field field;
    /* ENUM whose choices come from a registry (the formats built in): returns "a|b|c" and
     * stands in for choices, which is then NULL. Read both through mlpio_params_choices. */
    const char *(*choices_of)(void);
    /* ENUM: for a value that is a known choice left out of this build, what building it in
     * needs (shown in the refusal instead of "expected one of"), or NULL. May be NULL. */
    const char *(*unbuilt)(const char *value);
};

#define MLPIO_PARAM_FIELD_OF(x)                                                                    \
    _Generic((x),                                                                              \
        int64_t: MLPIO_FIELD_I64,                                                              \
        uint64_t: MLPIO_FIELD_U64,                                                             \
        double: MLPIO_FIELD_DOUBLE,                                                            \
        bool: MLPIO_FIELD_BOOL,                                                                \
        const char *: MLPIO_FIELD_TEXT)
#define MLPIO_AT(type, member) offsetof(type, member), MLPIO_PARAM_FIELD_OF(((type *)0)->member)

#define MLPIO_PARAM_IF_CHANGED "if changed"

/* Find a spec by key in a table of n entries; NULL if absent. */
const struct mlpio_param_spec *mlpio_params_find(const struct mlpio_param_spec *specs, int n,
                                                 const char *key);

/* The known key closest to key (edit distance), or NULL if none is reasonably close. */
const char *mlpio_params_suggest(const struct mlpio_param_spec *specs, int n, const char *key);
/* Same over a NULL-terminated list of words. */
const char *mlpio_params_suggest_word(const char *const *words, const char *word);

/* Convert command-line text to a JSON value of the spec's type; NULL with err on bad text. */
cJSON *mlpio_params_from_text(const struct mlpio_param_spec *spec, const char *text,
                              struct mlpio_error *err);

/* The same, for a value given with a command-line option: a bad value is named by the option
 * as typed, then by its key ("-ncw: checkpoint.num_checkpoints_write: expected ..."); option
 * NULL: as above. */
cJSON *mlpio_params_from_option(const struct mlpio_param_spec *spec, const char *text,
                                const char *option, struct mlpio_error *err);

/* Check a JSON value against the spec (type and range). */
int mlpio_params_check(const struct mlpio_param_spec *spec, const cJSON *value,
                       struct mlpio_error *err);

/* Check that config holds every spec key with a valid value and no key outside the table
 * (leaves are compared; objects listed in ignore_prefixes, e.g. "reference", are skipped). */
int mlpio_params_validate(const struct mlpio_param_spec *specs, int n, const cJSON *config,
                          const char *const *ignore_prefixes, struct mlpio_error *err);

/* Fill a workload's typed settings from a validated config: every spec with a field gets the
 * config's value at its key. The config is the only source: there are no defaults here, so a
 * key the config lacks (or of the wrong type) is an error naming it, and a field whose C type
 * does not fit the spec's type is an internal error. Text fields borrow the config's strings:
 * parse again after the config changes. 0, or -1 with err set. */
int mlpio_params_settings(const struct mlpio_param_spec *specs, int n, const cJSON *config,
                          void *settings, struct mlpio_error *err);
/* The choices of an ENUM spec ("a|b|c"), from its literal or its choices_of; NULL for other
 * types. */
const char *mlpio_params_choices(const struct mlpio_param_spec *spec);

/* Describe what a spec accepts ("an integer from 1 to 100", "one of posix|mpiio"). */
void mlpio_params_describe(const struct mlpio_param_spec *spec, char *buf, size_t len);

/* A value as --help shows it: sizes with k/M/G/T when exact ("16M"), numbers with the spec's
 * unit ("5 s"), strings as they are; NULL: "none". */
void mlpio_params_value_text(const struct mlpio_param_spec *spec, const cJSON *value, char *buf,
                             size_t len);

#endif
