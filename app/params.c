/* mlpio parameters: see params.h. */
#include "app/params.h"
#include "report/json_file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct mlpio_param_spec *mlpio_params_find(const struct mlpio_param_spec *specs, int n,
                                                 const char *key)
{
    for (int i = 0; i < n; i++)
        if (strcmp(specs[i].key, key) == 0)
            return &specs[i];
    return NULL;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1;
    size_t prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(size_t) * (lb + 1));
    }
    return prev[lb];
}

/* Close enough to suggest: at most a third of the word's letters differ, or the word is the
 * last component of a dotted key ("fsync" -> "checkpoint.fsync"). */
static size_t score(const char *cand, const char *word)
{
    const char *dot = strrchr(cand, '.');
    if (dot && strcmp(dot + 1, word) == 0)
        return 0;
    return edit_distance(cand, word);
}

static const char *best_of(const char *best, size_t best_d, const char *word)
{
    size_t limit = strlen(word) / 3 + 1;
    return best && best_d <= limit ? best : NULL;
}

const char *mlpio_params_suggest(const struct mlpio_param_spec *specs, int n, const char *key)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (int i = 0; i < n; i++) {
        size_t d = score(specs[i].key, key);
        if (d < best_d) {
            best_d = d;
            best = specs[i].key;
        }
    }
    return best_of(best, best_d, key);
}

const char *mlpio_params_suggest_word(const char *const *words, const char *word)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (int i = 0; words[i]; i++) {
        size_t d = score(words[i], word);
        if (d < best_d) {
            best_d = d;
            best = words[i];
        }
    }
    return best_of(best, best_d, word);
}

const char *mlpio_params_choices(const struct mlpio_param_spec *spec)
{
    if (spec->type != MLPIO_PARAM_ENUM)
        return NULL;
    return spec->choices_of ? spec->choices_of() : spec->choices;
}

void mlpio_params_describe(const struct mlpio_param_spec *spec, char *buf, size_t len)
{
    switch (spec->type) {
    case MLPIO_PARAM_INT:
        snprintf(buf, len, "an integer from %.0f to %.0f", spec->min, spec->max);
        break;
    case MLPIO_PARAM_SIZE:
        snprintf(buf, len, "a byte count from %.0f to %.0f (suffixes k, M, G, T allowed)",
                 spec->min, spec->max);
        break;
    case MLPIO_PARAM_NUMBER:
        snprintf(buf, len, "a number from %g to %g", spec->min, spec->max);
        break;
    case MLPIO_PARAM_BOOL:
        snprintf(buf, len, "true or false");
        break;
    case MLPIO_PARAM_STRING:
        snprintf(buf, len, "a non-empty string");
        break;
    case MLPIO_PARAM_ENUM:
        snprintf(buf, len, "one of %s", mlpio_params_choices(spec));
        break;
    }
}

void mlpio_params_value_text(const struct mlpio_param_spec *spec, const cJSON *value, char *buf,
                             size_t len)
{
    static const char *const units[] = {"k", "M", "G", "T"};
    const char *unit = spec->unit ? spec->unit : "";
    const char *sep = spec->unit ? " " : "";
    if (!value) {
        snprintf(buf, len, "none");
    } else if (cJSON_IsBool(value)) {
        snprintf(buf, len, "%s", cJSON_IsTrue(value) ? "true" : "false");
    } else if (cJSON_IsString(value)) {
        snprintf(buf, len, "%s", value->valuestring);
    } else if (cJSON_IsNumber(value) && spec->type == MLPIO_PARAM_SIZE) {
        /* The largest power of 1024 that divides the count: 16777216 -> 16M. */
        double v = value->valuedouble;
        int u = -1;
        while (u < 3 && v >= 1024 && fmod(v, 1024) == 0) {
            v /= 1024;
            u++;
        }
        snprintf(buf, len, "%.0f%s", v, u >= 0 ? units[u] : "");
    } else if (cJSON_IsNumber(value)) {
        snprintf(buf, len, "%g%s%s", value->valuedouble, sep, unit);
    } else {
        char *printed = cJSON_PrintUnformatted(value);
        snprintf(buf, len, "%s", printed ? printed : "?");
        free(printed);
    }
}

/* option: the command-line option as typed that gave the value ("-ncw"), or NULL. */
static int bad_value_as(const struct mlpio_param_spec *spec, const char *given, const char *option,
                        struct mlpio_error *err)
{
    char expected[160];
    mlpio_params_describe(spec, expected, sizeof(expected));
    if (option) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG, "%s: %s: expected %s, got '%s'", option, spec->key,
                        expected, given);
        return mlpio_error_hint(err, "give %s %s; '--help' shows its range and default", option,
                                expected);
    }
    mlpio_error_set(err, MLPIO_ERR_CONFIG, "parameter %s: expected %s, got '%s'", spec->key,
                    expected, given);
    return mlpio_error_hint(err, "set a valid value, e.g. --params %s=<value> (see --help)",
                            spec->key);
}

static int bad_value(const struct mlpio_param_spec *spec, const char *given,
                     struct mlpio_error *err)
{
    return bad_value_as(spec, given, NULL, err);
}

/* A known choice that this build of mlpio left out: say so, and how to build it in, rather than
 * that it is no choice at all. */
static int unbuilt_value(const struct mlpio_param_spec *spec, const char *given,
                         struct mlpio_error *err)
{
    mlpio_error_set(err, MLPIO_ERR_CONFIG,
                    "parameter %s: '%s' is known but was not built into this mlpio", spec->key,
                    given);
    return mlpio_error_hint(err, "rebuild mlpio with %s, or choose one of %s", spec->unbuilt(given),
                            mlpio_params_choices(spec));
}

static bool enum_has(const char *choices, const char *s)
{
    size_t n = strlen(s);
    for (const char *p = choices; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, s, n) == 0)
            return true;
        p = bar ? bar + 1 : NULL;
    }
    return false;
}

static int parse_bool(const char *t, bool *out)
{
    static const char *yes[] = {"true", "yes", "1", "on"};
    static const char *no[] = {"false", "no", "0", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(t, yes[i]) == 0)
            return *out = true, 0;
        if (strcasecmp(t, no[i]) == 0)
            return *out = false, 0;
    }
    return -1;
}

static int parse_number(const char *t, bool size_suffix, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(t, &end);
    if (end == t || errno == ERANGE || !isfinite(v))
        return -1;
    if (size_suffix && *end) {
        static const char units[] = "kmgt";
        const char *u = strchr(units, (*end | 0x20));
        if (!u)
            return -1;
        v *= pow(1024.0, (double)(u - units + 1));
        end++;
        if (*end == 'i' || *end == 'I')
            end++;
        if (*end == 'b' || *end == 'B')
            end++;
    }
    if (*end)
        return -1;
    *out = v;
    return 0;
}

cJSON *mlpio_params_from_option(const struct mlpio_param_spec *spec, const char *text,
                                const char *option, struct mlpio_error *err)
{
    cJSON *value = NULL;
    switch (spec->type) {
    case MLPIO_PARAM_INT:
    case MLPIO_PARAM_SIZE:
    case MLPIO_PARAM_NUMBER: {
        double v;
        if (parse_number(text, spec->type == MLPIO_PARAM_SIZE, &v) < 0) {
            bad_value_as(spec, text, option, err);
            return NULL;
        }
        value = cJSON_CreateNumber(v);
        break;
    }
    case MLPIO_PARAM_BOOL: {
        bool b;
        if (parse_bool(text, &b) < 0) {
            bad_value_as(spec, text, option, err);
            return NULL;
        }
        value = cJSON_CreateBool(b);
        break;
    }
    case MLPIO_PARAM_STRING:
    case MLPIO_PARAM_ENUM:
        value = cJSON_CreateString(text);
        break;
    }
    if (!value) {
        mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory converting %s", spec->key);
        return NULL;
    }
    if (mlpio_params_check(spec, value, err) < 0) {
        cJSON_Delete(value);
        /* Name what the user typed ("2G"), not its conversion ("2147483648"); a choice left
         * out of this build keeps the message that says so. */
        if (spec->type == MLPIO_PARAM_ENUM && spec->unbuilt && spec->unbuilt(text)) {
            if (option)
                mlpio_error_prefix(err, "%s: ", option);
            return NULL;
        }
        bad_value_as(spec, text, option, err);
        return NULL;
    }
    return value;
}

cJSON *mlpio_params_from_text(const struct mlpio_param_spec *spec, const char *text,
                              struct mlpio_error *err)
{
    return mlpio_params_from_option(spec, text, NULL, err);
}

int mlpio_params_check(const struct mlpio_param_spec *spec, const cJSON *value,
                       struct mlpio_error *err)
{
    char given[96];
    char *printed = cJSON_PrintUnformatted(value);
    snprintf(given, sizeof(given), "%s", printed ? printed : "?");
    free(printed);
    switch (spec->type) {
    case MLPIO_PARAM_INT:
    case MLPIO_PARAM_SIZE:
    case MLPIO_PARAM_NUMBER: {
        if (!cJSON_IsNumber(value))
            return bad_value(spec, given, err);
        double v = value->valuedouble;
        if (spec->type != MLPIO_PARAM_NUMBER && v != floor(v))
            return bad_value(spec, given, err);
        if (v < spec->min || v > spec->max)
            return bad_value(spec, given, err);
        return 0;
    }
    case MLPIO_PARAM_BOOL:
        return cJSON_IsBool(value) ? 0 : bad_value(spec, given, err);
    case MLPIO_PARAM_STRING:
        if (!cJSON_IsString(value) || !value->valuestring[0])
            return bad_value(spec, given, err);
        return 0;
    case MLPIO_PARAM_ENUM:
        if (cJSON_IsString(value) && enum_has(mlpio_params_choices(spec), value->valuestring))
            return 0;
        if (cJSON_IsString(value) && spec->unbuilt && spec->unbuilt(value->valuestring))
            return unbuilt_value(spec, value->valuestring, err);
        return bad_value(spec, cJSON_IsString(value) ? value->valuestring : given, err);
    }
    return bad_value(spec, given, err);
}

static bool ignored(const char *key, const char *const *prefixes)
{
    for (int i = 0; prefixes && prefixes[i]; i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(key, prefixes[i], n) == 0 && (key[n] == '\0' || key[n] == '.'))
            return true;
    }
    return false;
}

/* Walk leaves of obj, rejecting any dotted key not in the table. */
static int check_leaves(const struct mlpio_param_spec *specs, int n, const cJSON *obj,
                        const char *prefix, const char *const *ignore, struct mlpio_error *err)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, obj)
    {
        char key[256];
        if (prefix[0])
            snprintf(key, sizeof(key), "%s.%s", prefix, item->string);
        else
            snprintf(key, sizeof(key), "%s", item->string);
        if (ignored(key, ignore))
            continue;
        if (cJSON_IsObject(item) && !mlpio_params_find(specs, n, key)) {
            if (check_leaves(specs, n, item, key, ignore, err) < 0)
                return -1;
            continue;
        }
        if (!mlpio_params_find(specs, n, key)) {
            const char *near = mlpio_params_suggest(specs, n, key);
            mlpio_error_set(err, MLPIO_ERR_CONFIG, "unknown parameter '%s'", key);
            if (near)
                return mlpio_error_hint(err, "did you mean '%s'?", near);
            return mlpio_error_hint(err, "see 'mlpio <benchmark> run --help' for parameters");
        }
    }
    return 0;
}

int mlpio_params_validate(const struct mlpio_param_spec *specs, int n, const cJSON *config,
                          const char *const *ignore_prefixes, struct mlpio_error *err)
{
    for (int i = 0; i < n; i++) {
        const cJSON *v = mlpio_json_get_path(config, specs[i].key);
        if (!v) {
            mlpio_error_set(err, MLPIO_ERR_CONFIG, "parameter %s is missing from the configuration",
                            specs[i].key);
            return mlpio_error_hint(err, "set it with --params %s=<value>", specs[i].key);
        }
        if (mlpio_params_check(&specs[i], v, err) < 0)
            return -1;
    }
    return check_leaves(specs, n, config, "", ignore_prefixes, err);
}

static bool field_fits(enum mlpio_param_type type, enum mlpio_param_field field)
{
    switch (type) {
    case MLPIO_PARAM_INT:
        return field == MLPIO_FIELD_I64 || field == MLPIO_FIELD_DOUBLE;
    case MLPIO_PARAM_SIZE:
        return field == MLPIO_FIELD_U64;
    case MLPIO_PARAM_NUMBER:
        return field == MLPIO_FIELD_DOUBLE;
    case MLPIO_PARAM_BOOL:
        return field == MLPIO_FIELD_BOOL;
    case MLPIO_PARAM_STRING:
    case MLPIO_PARAM_ENUM:
        return field == MLPIO_FIELD_TEXT;
    }
    return false;
}

int mlpio_params_settings(const struct mlpio_param_spec *specs, int n, const cJSON *config,
                          void *settings, struct mlpio_error *err)
{
    for (int i = 0; i < n; i++) {
        const struct mlpio_param_spec *spec = &specs[i];
        if (spec->field == MLPIO_FIELD_NONE)
            continue;
        char want[160];
        mlpio_params_describe(spec, want, sizeof(want));
        if (!field_fits(spec->type, spec->field))
            return mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                                   "%s: its settings field has a C type that cannot hold %s",
                                   spec->key, want);
        const cJSON *v = mlpio_json_get_path(config, spec->key);
        bool text = spec->field == MLPIO_FIELD_TEXT;
        bool flag = spec->field == MLPIO_FIELD_BOOL;
        if (!v || (text && !cJSON_IsString(v)) || (flag && !cJSON_IsBool(v)) ||
            (!text && !flag && !cJSON_IsNumber(v))) {
            mlpio_error_set(err, MLPIO_ERR_CONFIG, "%s: expected %s in the configuration, got %s",
                            spec->key, want, v ? "another type" : "nothing");
            return mlpio_error_hint(err, "give it in --config-file or with --params %s=VALUE",
                                    spec->key);
        }
        char *at = (char *)settings + spec->offset;
        switch (spec->field) {
        case MLPIO_FIELD_I64:
            *(int64_t *)(void *)at = (int64_t)v->valuedouble;
            break;
        case MLPIO_FIELD_U64:
            *(uint64_t *)(void *)at = (uint64_t)v->valuedouble;
            break;
        case MLPIO_FIELD_DOUBLE:
            *(double *)(void *)at = v->valuedouble;
            break;
        case MLPIO_FIELD_BOOL:
            *(bool *)(void *)at = cJSON_IsTrue(v);
            break;
        case MLPIO_FIELD_TEXT:
            *(const char **)(void *)at = v->valuestring;
            break;
        case MLPIO_FIELD_NONE:
            break;
        }
    }
    return 0;
}
