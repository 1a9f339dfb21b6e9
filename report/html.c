/* mlpio HTML reports: reading a run directory and writing the pages (see html.h). */
#include "report/html.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/html_impl.h"
#include "report/json_file.h"

#define METADATA_SUFFIX "_metadata.json"

int mlpio_html_render_run(FILE *out, const cJSON *metadata, const cJSON *summary,
                          const cJSON *events, struct mlpio_error *err)
{
    struct html_run_input in = {.metadata = metadata, .summary = summary, .events = events};
    html_run_page(out, &in);
    return html_check(out, "page", err);
}

static void render_run(FILE *out, const void *arg)
{
    html_run_page(out, arg);
}

static void render_tree(FILE *out, const void *arg)
{
    html_tree_page(out, arg);
}

int mlpio_html_write_tree(const char *path, const cJSON *results, struct mlpio_error *err)
{
    if (!cJSON_IsObject(results)) {
        mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                        "cannot write the results report %s: the results document is not a "
                        "JSON object",
                        path);
        return mlpio_error_hint(err, "this is a bug in mlpio; please report it");
    }
    return html_write_file(path, render_tree, results, err);
}

/* ---- reading a run directory ------------------------------------------------------------ */

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* The one "<benchmark>_<id>_metadata.json" in run_dir. */
static char *find_metadata(const char *run_dir, struct mlpio_error *err)
{
    DIR *d = opendir(run_dir);
    if (!d) {
        mlpio_error_errno(err, MLPIO_ERR_IO, errno, "cannot open run directory %s", run_dir);
        mlpio_error_hint(err, "give the directory of one run: "
                              "<results>/<benchmark>/<model>/<command>/<YYYYMMDD_HHMMSS>");
        return NULL;
    }
    char *found = NULL;
    int count = 0;
    size_t suffix = strlen(METADATA_SUFFIX);
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len <= suffix ||
            strcmp(e->d_name + len - suffix, METADATA_SUFFIX) != 0)
            continue;
        if (++count == 1)
            found = join(run_dir, e->d_name);
    }
    closedir(d);
    if (count == 1 && found)
        return found;
    free(found);
    if (count == 0) {
        mlpio_error_errno(err, MLPIO_ERR_IO, ENOENT,
                          "run directory %s holds no *" METADATA_SUFFIX " file", run_dir);
        mlpio_error_hint(err, "give the directory of one run, which mlpio creates with its "
                              "metadata file; an interrupted start may leave none");
    } else if (count > 1) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "run directory %s holds %d *" METADATA_SUFFIX " files; one run has one",
                        run_dir, count);
        mlpio_error_hint(err, "remove the files that belong to no run from %s", run_dir);
    } else {
        mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "cannot read run directory %s", run_dir);
    }
    return NULL;
}

/* The events of path, skipping lines that are not events; *note says what was wrong, if
 * anything. NULL (and a note) when the file cannot be read. */
static cJSON *read_events(const char *path, char *note, size_t len)
{
    note[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            snprintf(note, len, "events.jsonl is missing: there is no throughput over time.");
        else
            snprintf(note, len,
                     "events.jsonl cannot be read (%s): there is no throughput "
                     "over time.",
                     strerror(errno));
        return NULL;
    }
    cJSON *events = cJSON_CreateArray();
    char *line = NULL, first[160] = "";
    size_t cap = 0, lineno = 0, skipped = 0;
    ssize_t n;
    while (events && (n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        bool whole = n > 0 && line[n - 1] == '\n';
        cJSON *e = cJSON_ParseWithLength(line, (size_t)n);
        const char *why = NULL;
        if (!e)
            why = whole ? "not JSON" : "an unfinished last line";
        else if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "name")) ||
                 !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(e, "timestamp")))
            why = "not an event (no name or timestamp)";
        if (why) {
            cJSON_Delete(e);
            if (skipped++ == 0)
                snprintf(first, sizeof(first), "line %zu: %s", lineno, why);
            continue;
        }
        cJSON_AddItemToArray(events, e);
    }
    bool bad = ferror(f) != 0;
    free(line);
    fclose(f);
    if (!events || bad) {
        snprintf(note, len, "events.jsonl cannot be read: there is no throughput over time.");
        cJSON_Delete(events);
        return NULL;
    }
    if (skipped)
        snprintf(note, len, "events.jsonl: %zu of %zu lines were skipped (first, %s).", skipped,
                 lineno, first);
    return events;
}

/* The page of the run described by metadata, from the summary and events at these paths. */
static int write_page(const cJSON *metadata, const char *summary_path, const char *events_path,
                      const char *report_path, struct mlpio_error *err)
{
    struct html_run_input in = {.metadata = metadata};
    struct mlpio_error serr = {0};
    char summary_why[MLPIO_ERROR_MSG_MAX + 64], events_note[256];
    cJSON *summary = mlpio_json_read_file(summary_path, &serr);
    if (!summary && serr.cause != ENOENT) {
        snprintf(summary_why, sizeof(summary_why), "summary.json cannot be read: %s", serr.message);
        in.summary_missing = summary_why;
    }
    in.summary = summary;
    cJSON *events = read_events(events_path, events_note, sizeof(events_note));
    in.events = events;
    if (events_note[0])
        in.notes[in.nnotes++] = events_note;
    int rc = html_write_file(report_path, render_run, &in, err);
    cJSON_Delete(summary);
    cJSON_Delete(events);
    return rc;
}

int mlpio_html_write_run(const char *run_dir, struct mlpio_error *err)
{
    char *meta_path = find_metadata(run_dir, err);
    if (!meta_path)
        return -1;
    cJSON *metadata = mlpio_json_read_file(meta_path, err);
    free(meta_path);
    if (!metadata)
        return -1;
    int rc;
    char *summary_path = join(run_dir, "summary.json");
    char *events_path = join(run_dir, "events.jsonl");
    char *report_path = join(run_dir, "report.html");
    if (!cJSON_IsObject(metadata)) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG, "the metadata file in %s is not a JSON object",
                        run_dir);
        rc = mlpio_error_hint(err, "restore it from a copy; mlpio writes an object");
    } else if (!summary_path || !events_path || !report_path) {
        rc = mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "cannot write the report of %s",
                               run_dir);
    } else {
        rc = write_page(metadata, summary_path, events_path, report_path, err);
    }
    free(summary_path);
    free(events_path);
    free(report_path);
    cJSON_Delete(metadata);
    return rc;
}
