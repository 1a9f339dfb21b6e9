/* mlpio rules engine: see rules.h.
 *
 * The verdict report, and the run checker of a benchmark (the registry's, benchmarks.c).
 * Checkers only add issues; the verdict is derived from them on demand, so a report can never
 * disagree with the issues it lists.
 */
#include "rules/rules.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct mlpio_verdict_report *mlpio_verdict_create(void)
{
    return calloc(1, sizeof(struct mlpio_verdict_report));
}

static void issue_free(struct mlpio_issue *is)
{
    free(is->parameter);
    free(is->expected);
    free(is->actual);
    free(is->message);
    free(is->hint);
    memset(is, 0, sizeof(*is));
}

void mlpio_verdict_truncate(struct mlpio_verdict_report *v, int keep)
{
    while (v && v->count > keep && v->count > 0)
        issue_free(&v->issues[--v->count]);
}

void mlpio_verdict_destroy(struct mlpio_verdict_report **v)
{
    if (!v || !*v)
        return;
    for (int i = 0; i < (*v)->count; i++)
        issue_free(&(*v)->issues[i]);
    free((*v)->issues);
    free(*v);
    *v = NULL;
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

int mlpio_verdict_add(struct mlpio_verdict_report *v, enum mlpio_issue_level level,
                      const char *parameter, const char *expected, const char *actual,
                      const char *hint, const char *fmt, ...)
{
    if (!v) {
        errno = EINVAL;
        return -1;
    }
    if (v->count == v->capacity) {
        int cap = v->capacity ? v->capacity * 2 : 8;
        struct mlpio_issue *grown = realloc(v->issues, (size_t)cap * sizeof(*grown));
        if (!grown)
            return -1;
        v->issues = grown;
        v->capacity = cap;
    }
    struct mlpio_issue is = {.level = level};
    char *message = NULL;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&message, fmt, ap);
        va_end(ap);
        if (n < 0)
            message = NULL;
    } else {
        message = strdup("");
    }
    is.parameter = dup_or_empty(parameter);
    is.expected = dup_or_empty(expected);
    is.actual = dup_or_empty(actual);
    is.hint = dup_or_empty(hint);
    is.message = message;
    if (!is.parameter || !is.expected || !is.actual || !is.hint || !is.message) {
        issue_free(&is);
        errno = ENOMEM;
        return -1;
    }
    v->issues[v->count++] = is;
    return 0;
}

enum mlpio_verdict mlpio_verdict_of(const struct mlpio_verdict_report *v)
{
    enum mlpio_verdict worst = MLPIO_VERDICT_CLOSED;
    if (!v)
        return worst;
    for (int i = 0; i < v->count; i++) {
        if (v->issues[i].level == MLPIO_ISSUE_INVALID)
            return MLPIO_VERDICT_INVALID;
        if (v->issues[i].level == MLPIO_ISSUE_OPEN)
            worst = MLPIO_VERDICT_OPEN;
    }
    return worst;
}

static const char *const verdict_names[] = {
    [MLPIO_VERDICT_CLOSED] = "CLOSED",
    [MLPIO_VERDICT_OPEN] = "OPEN",
    [MLPIO_VERDICT_INVALID] = "INVALID",
};

const char *mlpio_verdict_name(enum mlpio_verdict v)
{
    if ((int)v < 0 || (size_t)v >= sizeof(verdict_names) / sizeof(verdict_names[0]))
        return "UNKNOWN";
    return verdict_names[v];
}

int mlpio_verdict_parse(const char *name, enum mlpio_verdict *out)
{
    if (!name)
        return -1;
    /* Case-insensitive so that "--expect open" on a command line reads naturally. */
    for (size_t i = 0; i < sizeof(verdict_names) / sizeof(verdict_names[0]); i++) {
        if (strcasecmp(name, verdict_names[i]) == 0) {
            if (out)
                *out = (enum mlpio_verdict)i;
            return 0;
        }
    }
    return -1;
}

static const char *level_name(enum mlpio_issue_level level)
{
    switch (level) {
    case MLPIO_ISSUE_WARNING:
        return "warning";
    case MLPIO_ISSUE_OPEN:
        return "open";
    case MLPIO_ISSUE_INVALID:
        return "invalid";
    }
    return "unknown";
}

static cJSON *issue_to_json(const struct mlpio_issue *is)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if (!cJSON_AddStringToObject(o, "level", level_name(is->level)) ||
        !cJSON_AddStringToObject(o, "parameter", is->parameter) ||
        !cJSON_AddStringToObject(o, "expected", is->expected) ||
        !cJSON_AddStringToObject(o, "actual", is->actual) ||
        !cJSON_AddStringToObject(o, "message", is->message) ||
        !cJSON_AddStringToObject(o, "hint", is->hint)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *mlpio_verdict_to_json(const struct mlpio_verdict_report *v)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    if (!cJSON_AddStringToObject(root, "verdict", mlpio_verdict_name(mlpio_verdict_of(v))))
        goto fail;
    cJSON *issues = cJSON_AddArrayToObject(root, "issues");
    if (!issues)
        goto fail;
    for (int i = 0; v && i < v->count; i++) {
        cJSON *o = issue_to_json(&v->issues[i]);
        if (!o)
            goto fail;
        cJSON_AddItemToArray(issues, o);
    }
    return root;
fail:
    cJSON_Delete(root);
    return NULL;
}

mlpio_rules_checker_fn mlpio_rules_run_checker(const char *benchmark)
{
    const struct mlpio_rules_benchmark *b = mlpio_rules_benchmark_find(benchmark);
    return b ? b->check : NULL;
}
