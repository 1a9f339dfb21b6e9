/* mlpio rules engine, internal: see fields.h.
 *
 * Field messages and hints are part of what users see (and what tests assert); every checker
 * goes through these functions so that the same fault reads the same in every benchmark.
 */
#include "rules/fields.h"

#include "io/io.h"
#include "io/path.h"
#include "rules/edition.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *type_name(const cJSON *item)
{
    if (!item)
        return "missing";
    if (cJSON_IsNull(item))
        return "null";
    if (cJSON_IsBool(item))
        return "a boolean";
    if (cJSON_IsNumber(item))
        return "a number";
    if (cJSON_IsString(item))
        return "a string";
    if (cJSON_IsArray(item))
        return "an array";
    if (cJSON_IsObject(item))
        return "an object";
    return "of an unknown type";
}

int mlpio_rules_bad_field(const char *path, const char *expected, const cJSON *found,
                          struct mlpio_error *err)
{
    if (found)
        mlpio_error_set(err, MLPIO_ERR_CONFIG, "run description: field \"%s\" must be %s, found %s",
                        path, expected, type_name(found));
    else
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "run description: field \"%s\" is missing (expected %s)", path, expected);
    return mlpio_error_hint(err, "the run description is built by mlpio from the workload "
                                 "config; a *_metadata.json file that fails this check is "
                                 "damaged or was written by another mlpio version");
}

int mlpio_rules_expect_benchmark(const cJSON *run, const char *benchmark, struct mlpio_error *err)
{
    const char *found = NULL;
    if (!cJSON_IsObject(run))
        return mlpio_rules_bad_field("(run description)", "an object", run, err);
    if (mlpio_rules_get_string(run, "", "benchmark", &found, err))
        return -1;
    if (strcmp(found, benchmark) != 0) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "run description: field \"benchmark\" is \"%s\", the %s rules cannot "
                        "judge it",
                        found, benchmark);
        return mlpio_error_hint(err, "judge the run with the checker of its own benchmark");
    }
    return 0;
}

static const cJSON *member(const cJSON *obj, const char *prefix, const char *name, char *path,
                           size_t n)
{
    snprintf(path, n, "%s%s%s", prefix, prefix[0] ? "." : "", name);
    return cJSON_GetObjectItemCaseSensitive(obj, name);
}

int mlpio_rules_get_object(const cJSON *obj, const char *prefix, const char *name,
                           const cJSON **out, struct mlpio_error *err)
{
    char path[MLPIO_RULES_TEXT_MAX];
    const cJSON *it = member(obj, prefix, name, path, sizeof(path));
    if (!cJSON_IsObject(it))
        return mlpio_rules_bad_field(path, "an object", it, err);
    *out = it;
    return 0;
}

int mlpio_rules_get_string(const cJSON *obj, const char *prefix, const char *name, const char **out,
                           struct mlpio_error *err)
{
    char path[MLPIO_RULES_TEXT_MAX];
    const cJSON *it = member(obj, prefix, name, path, sizeof(path));
    if (!cJSON_IsString(it) || !it->valuestring)
        return mlpio_rules_bad_field(path, "a string", it, err);
    *out = it->valuestring;
    return 0;
}

int mlpio_rules_get_absolute(const cJSON *obj, const char *prefix, const char *name,
                             const char **out, struct mlpio_error *err)
{
    char path[MLPIO_RULES_TEXT_MAX];
    const cJSON *it = member(obj, prefix, name, path, sizeof(path));
    if (!cJSON_IsString(it) || !it->valuestring)
        return mlpio_rules_bad_field(path, "a string", it, err);
    if (it->valuestring[0] != '/')
        return mlpio_rules_bad_field(path, "an absolute path", it, err);
    *out = it->valuestring;
    return 0;
}

int mlpio_rules_get_bool(const cJSON *obj, const char *prefix, const char *name, int *out,
                         struct mlpio_error *err)
{
    char path[MLPIO_RULES_TEXT_MAX];
    const cJSON *it = member(obj, prefix, name, path, sizeof(path));
    if (!cJSON_IsBool(it))
        return mlpio_rules_bad_field(path, "true or false", it, err);
    *out = cJSON_IsTrue(it);
    return 0;
}

int mlpio_rules_get_number(const cJSON *obj, const char *prefix, const char *name, double min,
                           double *out, struct mlpio_error *err)
{
    char path[MLPIO_RULES_TEXT_MAX];
    char what[64];
    const cJSON *it = member(obj, prefix, name, path, sizeof(path));
    snprintf(what, sizeof(what), "a number >= %g", min);
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble < min)
        return mlpio_rules_bad_field(path, what, it, err);
    *out = it->valuedouble;
    return 0;
}

int mlpio_rules_get_positive(const cJSON *obj, const char *prefix, const char *name, double *out,
                             struct mlpio_error *err)
{
    char path[MLPIO_RULES_TEXT_MAX];
    const cJSON *it = member(obj, prefix, name, path, sizeof(path));
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || !(it->valuedouble > 0))
        return mlpio_rules_bad_field(path, "a number > 0", it, err);
    *out = it->valuedouble;
    return 0;
}

/* A whole number in [min, max]; min is whole, so "%.0f" prints it as written. */
static int get_whole(const cJSON *obj, const char *prefix, const char *name, double min, double max,
                     double *out, struct mlpio_error *err)
{
    char path[MLPIO_RULES_TEXT_MAX];
    char what[64];
    const cJSON *it = member(obj, prefix, name, path, sizeof(path));
    snprintf(what, sizeof(what), "an integer >= %.0f", min);
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble < min ||
        it->valuedouble > max || floor(it->valuedouble) != it->valuedouble)
        return mlpio_rules_bad_field(path, what, it, err);
    *out = it->valuedouble;
    return 0;
}

int mlpio_rules_get_int(const cJSON *obj, const char *prefix, const char *name, int min, int *out,
                        struct mlpio_error *err)
{
    double d;
    if (get_whole(obj, prefix, name, min, INT_MAX, &d, err))
        return -1;
    *out = (int)d;
    return 0;
}

int mlpio_rules_get_count(const cJSON *obj, const char *prefix, const char *name, double min,
                          double *out, struct mlpio_error *err)
{
    return get_whole(obj, prefix, name, min, MLPIO_RULES_MAX_COUNT, out, err);
}

int mlpio_rules_read_overrides(const cJSON *run, const cJSON **out, struct mlpio_error *err)
{
    const cJSON *ov = cJSON_GetObjectItemCaseSensitive(run, "overrides");
    if (!cJSON_IsArray(ov))
        return mlpio_rules_bad_field("overrides", "an array", ov, err);
    int i = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, ov)
    {
        char prefix[64];
        const char *s;
        snprintf(prefix, sizeof(prefix), "overrides[%d]", i++);
        if (!cJSON_IsObject(o))
            return mlpio_rules_bad_field(prefix, "an object", o, err);
        if (mlpio_rules_get_string(o, prefix, "key", &s, err) ||
            mlpio_rules_get_string(o, prefix, "source", &s, err))
            return -1;
        if (!cJSON_GetObjectItemCaseSensitive(o, "value")) {
            char path[MLPIO_RULES_TEXT_MAX];
            snprintf(path, sizeof(path), "%s.value", prefix);
            return mlpio_rules_bad_field(path, "a JSON value", NULL, err);
        }
    }
    *out = ov;
    return 0;
}

int mlpio_rules_read_hosts(const cJSON *run, double max_ranks, const cJSON **out,
                           struct mlpio_error *err)
{
    const cJSON *cluster = NULL, *hosts = NULL;
    if (mlpio_rules_get_object(run, "", "cluster", &cluster, err))
        return -1;
    hosts = cJSON_GetObjectItemCaseSensitive(cluster, "hosts");
    if (!cJSON_IsArray(hosts) || cJSON_GetArraySize(hosts) < 1)
        return mlpio_rules_bad_field("cluster.hosts", "a non-empty array", hosts, err);
    int i = 0;
    const cJSON *h;
    cJSON_ArrayForEach(h, hosts)
    {
        char prefix[64];
        const char *name;
        double ranks;
        snprintf(prefix, sizeof(prefix), "cluster.hosts[%d]", i++);
        if (!cJSON_IsObject(h))
            return mlpio_rules_bad_field(prefix, "an object", h, err);
        if (mlpio_rules_get_string(h, prefix, "hostname", &name, err) ||
            get_whole(h, prefix, "ranks", 1, max_ranks, &ranks, err))
            return -1;
    }
    *out = hosts;
    return 0;
}

void mlpio_rules_value_text(const cJSON *item, char *buf, size_t n)
{
    if (!item) {
        snprintf(buf, n, "(not set)");
        return;
    }
    if (cJSON_IsString(item)) {
        snprintf(buf, n, "%s", item->valuestring);
        return;
    }
    char *printed = cJSON_PrintUnformatted(item);
    snprintf(buf, n, "%s", printed ? printed : "?");
    cJSON_free(printed);
}

const cJSON *mlpio_rules_find_override(const cJSON *overrides, const char *key)
{
    const cJSON *o, *found = NULL;
    cJSON_ArrayForEach(o, overrides)
    {
        if (strcmp(cJSON_GetObjectItemCaseSensitive(o, "key")->valuestring, key) == 0)
            found = o;
    }
    return found;
}

void mlpio_rules_undo_hint(const cJSON *ov, const char *key, const char *closed, char *buf,
                           size_t n)
{
    char value[MLPIO_RULES_TEXT_MAX] = "";
    const char *source = ov ? cJSON_GetObjectItemCaseSensitive(ov, "source")->valuestring : "";
    if (ov)
        mlpio_rules_value_text(cJSON_GetObjectItemCaseSensitive(ov, "value"), value, sizeof(value));
    if (strcmp(source, "params") == 0)
        snprintf(buf, n, "remove --params %s=%s", key, value);
    else if (strcmp(source, "cli") == 0)
        snprintf(buf, n, "drop the command-line option that sets %s to %s", key, value);
    else if (strcmp(source, "config-file") == 0)
        snprintf(buf, n, "set %s back to %s in the config file (or remove it there)", key, closed);
    else
        snprintf(buf, n, "set %s to %s", key, closed);
}

int mlpio_rules_override_change(const cJSON *overrides, const cJSON *o,
                                struct mlpio_rules_change *c)
{
    const char *key = cJSON_GetObjectItemCaseSensitive(o, "key")->valuestring;
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(o, "value");
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(o, "reference");
    if (mlpio_rules_find_override(overrides, key) != o)
        return 0;
    /* Restating the reference value changes nothing the storage sees. */
    if (ref && cJSON_Compare(value, ref, 1))
        return 0;
    c->key = key;
    mlpio_rules_value_text(ref, c->expected, sizeof(c->expected));
    mlpio_rules_value_text(value, c->actual, sizeof(c->actual));
    mlpio_rules_undo_hint(o, key, c->expected, c->hint, sizeof(c->hint));
    return 1;
}

/* How folder lies to results: "is", "is inside", "contains", or NULL when apart. */
static const char *apart_relation(const char *dir, const char *results)
{
    if (strcmp(dir, results) == 0)
        return "is";
    if (mlpio_path_within(results, dir))
        return "is inside";
    if (mlpio_path_within(dir, results))
        return "contains";
    return NULL;
}

int mlpio_rules_check_apart(struct mlpio_verdict_report *v, const char *parameter,
                            const char *folder, const char *results_dir, const char *what,
                            const char *contents, const char *hint)
{
    char *dir = mlpio_path_normalize(folder);
    char *results = mlpio_path_normalize(results_dir);
    int rc = -1;
    if (!dir || !results)
        goto out;
    rc = 0;
    const char *how = apart_relation(dir, results);
    if (how)
        rc = mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, parameter, "outside the results directory",
                               dir, hint,
                               "the %s %s %s the results directory %s: %s would mix with "
                               "results, and cleaning one destroys the other",
                               what, dir, how, results, contents);
out:
    free(dir);
    free(results);
    return rc;
}

int mlpio_rules_read_fs(const cJSON *run, const char *benchmark, struct mlpio_rules_fs *fs,
                        struct mlpio_error *err)
{
    const cJSON *section = NULL;
    memset(fs, 0, sizeof(*fs));
    if (mlpio_rules_edition_section(run, benchmark, &section, err))
        return -1;
    const cJSON *rule = cJSON_GetObjectItemCaseSensitive(section, "fs_separation_rule");
    fs->rule = cJSON_IsString(rule) ? rule->valuestring : NULL;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(run, "facts"), "fs_separation");
    if (!p)
        return 0;
    fs->probed = 1;
    return mlpio_rules_get_bool(p, "facts.fs_separation", "same_filesystem", &fs->same, err) ||
                   mlpio_rules_get_string(p, "facts.fs_separation", "method", &fs->method, err) ||
                   mlpio_rules_get_string(p, "facts.fs_separation", "data_path", &fs->data, err) ||
                   mlpio_rules_get_string(p, "facts.fs_separation", "results_path", &fs->results,
                                          err)
               ? -1
               : 0;
}

int mlpio_rules_check_fs(struct mlpio_verdict_report *v, const char *parameter,
                         const struct mlpio_rules_fs *fs, const char *what, const char *option)
{
    char hint[512];
    if (!fs->rule || !fs->probed || !fs->same)
        return 0;
    snprintf(hint, sizeof(hint),
             "put the results on another file system than the data (--results-dir DIR), or the "
             "data on the storage under test (%s)",
             option);
    return mlpio_verdict_add(
        v, MLPIO_ISSUE_OPEN, parameter, "another file system than the results", "the same", hint,
        "the %s %s and the results directory %s are on one file system (%s): Rules.md %s wants "
        "them apart, so that writing the results adds no I/O to the storage measured, and a "
        "submission with them together fails the checker",
        what, fs->data, fs->results,
        !strcmp(fs->method, "link_exdev") ? "a hard link between them works" : "the same device",
        fs->rule);
}

int mlpio_rules_refuse_in_results(const char *what, const char *option, const char *folder,
                                  const char *results_dir, struct mlpio_error *err)
{
    char *dir = mlpio_path_normalize(folder);
    char *results = mlpio_path_normalize(results_dir);
    int rc = 0;
    const char *how = dir && results ? apart_relation(dir, results) : NULL;
    if (!dir || !results) {
        rc = mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "cannot compare %s with %s", folder,
                               results_dir);
    } else if (how) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "the %s %s %s the results directory %s: expected them apart, so that "
                        "data and results do not mix (validate would read the data as runs)",
                        what, dir, how, results);
        rc = mlpio_error_hint(err,
                              "choose a %s outside %s (%s DIR), or another results "
                              "directory (--results-dir DIR) outside %s",
                              what, results, option, dir);
    }
    free(dir);
    free(results);
    return rc;
}

int mlpio_rules_check_options(struct mlpio_verdict_report *v, double scale, const char *io_api,
                              int verify, const struct mlpio_rules_option_words *words)
{
    char act[64];
    if (scale < 1) {
        snprintf(act, sizeof(act), "%g", scale);
        if (mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, "scale", "1", act, "run with --scale 1",
                              "scale %g shrinks %s to %.3g%% of its CLOSED size; %s", scale,
                              words->scaled, scale * 100, words->scale_why))
            return -1;
    }
    char stores[128], fix[192];
    mlpio_io_names(MLPIO_IO_CAP_STORAGE, ", ", " or ", stores, sizeof(stores));
    snprintf(fix, sizeof(fix), "choose an I/O API that stores data (--io-api %s)", stores);
    const struct mlpio_io_backend *be = mlpio_io_find(io_api);
    if (be && !(be->caps & MLPIO_IO_CAP_STORAGE) &&
        mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "io_api", stores, io_api, fix, "%s",
                          words->null_why))
        return -1;
    if (verify && mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, "verify", "false", "true",
                                    "run without --verify (verify the data in a separate run)",
                                    "%s", words->verify_why))
        return -1;
    return 0;
}

int mlpio_rules_abandon(struct mlpio_verdict_report *v, int keep, const char *checker,
                        struct mlpio_error *err)
{
    mlpio_verdict_truncate(v, keep);
    return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "%s rules: cannot record an issue",
                             checker);
}

int mlpio_rules_run_checks(const struct mlpio_rules_check *table, size_t n, const void *run,
                           struct mlpio_verdict_report *v, const char *checker,
                           struct mlpio_error *err)
{
    int keep = v->count;
    for (size_t i = 0; i < n; i++)
        if (table[i].fn(run, v) != 0)
            return mlpio_rules_abandon(v, keep, checker, err);
    return 0;
}

int mlpio_rules_judge(const struct mlpio_rules_checker *c, const cJSON *run, void *copy,
                      struct mlpio_verdict_report *v, struct mlpio_error *err)
{
    if (!v)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "%s rules: no verdict report",
                               c->benchmark->name);
    if (c->read(run, copy, err))
        return -1;
    return mlpio_rules_run_checks(c->checks, c->n, copy, v, c->benchmark->name, err);
}
