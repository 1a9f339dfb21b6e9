/* mlpio watch: one event as a text line, time styles and context matching (see watch.h). */
#include "app/watch.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const time_names[] = {
    [MLPIO_WATCH_TIME_RAW] = "raw",
    [MLPIO_WATCH_TIME_ISO] = "iso",
    [MLPIO_WATCH_TIME_OFFSET] = "offset",
    [MLPIO_WATCH_TIME_HUMAN] = "human",
};

int mlpio_watch_time_parse(const char *name, enum mlpio_watch_time *style, struct mlpio_error *err)
{
    for (size_t i = 0; i < sizeof(time_names) / sizeof(time_names[0]); i++) {
        if (strcmp(name, time_names[i]) == 0) {
            *style = (enum mlpio_watch_time)i;
            return 0;
        }
    }
    mlpio_error_set(err, MLPIO_ERR_USAGE, "watch: unknown time style '%s'", name);
    return mlpio_error_hint(err, "use --time raw, iso, offset or human");
}

/* 9999-12-31T23:59:59Z: past it a timestamp has no four-digit year. */
#define LAST_CALENDAR_SECOND 253402300799.0

void mlpio_watch_format_time(char *buf, size_t size, enum mlpio_watch_time style, double ts,
                             double first_ts)
{
    if (style == MLPIO_WATCH_TIME_OFFSET) {
        snprintf(buf, size, "%.3f", ts - first_ts);
        return;
    }
    if (style == MLPIO_WATCH_TIME_RAW || !(ts >= 0 && ts <= LAST_CALENDAR_SECOND)) {
        snprintf(buf, size, "%.6f", ts);
        return;
    }
    /* Rounded to the millisecond as a whole, so that .9996 s carries into the next second. */
    long long ms = llround(ts * 1000.0);
    time_t sec = (time_t)(ms / 1000);
    int milli = (int)(ms % 1000);
    struct tm tm;
    bool ok = style == MLPIO_WATCH_TIME_ISO ? gmtime_r(&sec, &tm) != NULL
                                            : localtime_r(&sec, &tm) != NULL;
    if (!ok) {
        snprintf(buf, size, "%.6f", ts);
        return;
    }
    if (style == MLPIO_WATCH_TIME_ISO)
        snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, milli);
    else
        snprintf(buf, size, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec, milli);
}

/* Text that would be ambiguous unquoted in `key=value` output. */
static bool needs_quotes(const char *s, bool is_key)
{
    if (!*s)
        return true;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (isspace(*p) || iscntrl(*p) || *p == '"' || *p == '\'' || (is_key && *p == '='))
            return true;
    return false;
}

/* s as a JSON string (quotes and escapes) to out. -1 only when memory runs out. */
static int put_quoted(FILE *out, const char *s)
{
    cJSON *tmp = cJSON_CreateStringReference(s);
    char *text = tmp ? cJSON_PrintUnformatted(tmp) : NULL;
    cJSON_Delete(tmp);
    if (!text)
        return -1;
    fputs(text, out);
    free(text);
    return 0;
}

static int put_value(FILE *out, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        if (needs_quotes(v->valuestring, false))
            return put_quoted(out, v->valuestring);
        fputs(v->valuestring, out);
        return 0;
    }
    char *text = cJSON_PrintUnformatted(v);
    if (!text)
        return -1;
    fputs(text, out);
    free(text);
    return 0;
}

int mlpio_watch_format_event(FILE *out, const cJSON *event, enum mlpio_watch_time style,
                             double first_ts, struct mlpio_error *err)
{
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(event, "timestamp");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(event, "name");
    const cJSON *context = cJSON_GetObjectItemCaseSensitive(event, "context");
    if (!cJSON_IsNumber(ts) || !cJSON_IsString(name))
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                               "watch: event without a timestamp or name to format");
    char when[64];
    mlpio_watch_format_time(when, sizeof(when), style, ts->valuedouble, first_ts);
    fprintf(out, "%s %s", when, name->valuestring);
    const cJSON *item = NULL;
    cJSON_ArrayForEach(item, context)
    {
        const char *key = item->string ? item->string : "";
        fputc(' ', out);
        int rc = 0;
        if (needs_quotes(key, true))
            rc = put_quoted(out, key);
        else
            fputs(key, out);
        fputc('=', out);
        if (rc < 0 || put_value(out, item) < 0)
            return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM,
                                     "watch: formatting event '%s'", name->valuestring);
    }
    /* Write errors stick to the stream: one check at the end covers every piece. */
    if (fputc('\n', out) == EOF || ferror(out))
        return mlpio_error_errno(err, MLPIO_ERR_IO, errno ? errno : EIO,
                                 "watch: writing event '%s' to the output", name->valuestring);
    return 0;
}

int mlpio_watch_match_parse(const char *arg, struct mlpio_watch_match *m, struct mlpio_error *err)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg) {
        mlpio_error_set(err, MLPIO_ERR_USAGE, "watch: --match-context '%s' is not KEY=VALUE", arg);
        return mlpio_error_hint(err, "for example --match-context exit_code=0");
    }
    m->key = arg;
    m->key_len = (size_t)(eq - arg);
    m->value = eq + 1;
    return 0;
}

bool mlpio_watch_value_matches(const cJSON *v, const char *text)
{
    if (cJSON_IsString(v))
        return strcmp(v->valuestring, text) == 0;
    if (cJSON_IsNumber(v)) {
        char *end = NULL;
        errno = 0;
        double d = strtod(text, &end);
        return *text && end && *end == '\0' && errno == 0 && d == v->valuedouble;
    }
    if (cJSON_IsTrue(v))
        return strcmp(text, "true") == 0;
    if (cJSON_IsFalse(v))
        return strcmp(text, "false") == 0;
    if (cJSON_IsNull(v))
        return strcmp(text, "null") == 0;
    cJSON *want = cJSON_Parse(text);
    bool same = want && cJSON_Compare(v, want, true);
    cJSON_Delete(want);
    return same;
}

bool mlpio_watch_context_matches(const cJSON *context, const struct mlpio_watch_match *m, int n)
{
    for (int i = 0; i < n; i++) {
        const cJSON *item = NULL;
        bool found = false;
        cJSON_ArrayForEach(item, context)
        {
            if (item->string && strlen(item->string) == m[i].key_len &&
                memcmp(item->string, m[i].key, m[i].key_len) == 0) {
                found = mlpio_watch_value_matches(item, m[i].value);
                break;
            }
        }
        if (!found)
            return false;
    }
    return true;
}
