/* mlpio run driver: see run.h. */
#include "app/run.h"

#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "app/cli.h"
#include "app/config.h"
#include "app/params.h"
#include "app/rundir.h"
#include "app/clock.h"
#include "app/fsprobe.h"
#include "app/sameness.h"
#include "app/sharedfs.h"
#include "app/subtree.h"
#include "io/format.h"
#include "io/path.h"
#include "report/html.h"
#include "report/json_file.h"
#include "rules/edition.h"
#include "rules/rules.h"

double mlpio_run_scale(const struct mlpio_run *run)
{
    return run->opts->scale;
}

void mlpio_run_event(struct mlpio_run *run, const char *name, cJSON *context)
{
    if (run->ctx->rank != 0 || !run->rec.events) {
        cJSON_Delete(context);
        return;
    }
    struct mlpio_error err = {0};
    mlpio_guard_lock(run->rec.guard);
    /* Once the guard has written "finish", nothing may follow it. */
    if (!mlpio_guard_fired(run->rec.guard) &&
        mlpio_eventlog_append(run->rec.events, name, context, &err) < 0) {
        fprintf(run->ctx->err, "mlpio: warning: event log: %s (later events are skipped)\n",
                err.message);
        mlpio_eventlog_close(&run->rec.events);
    }
    mlpio_guard_unlock(run->rec.guard);
    cJSON_Delete(context);
}

int mlpio_run_configview(struct mlpio_run *run, struct mlpio_error *err)
{
    if (run->ctx->rank != 0)
        return 0;
    cJSON *view = cJSON_CreateObject();
    cJSON_AddItemToObject(view, "config", cJSON_Duplicate(run->config, 1));
    cJSON_AddItemToObject(view, "overrides",
                          cJSON_Duplicate(cJSON_GetObjectItem(run->rec.doc, "overrides"), 1));
    char *text = cJSON_Print(view);
    cJSON_Delete(view);
    if (!text)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
    fprintf(run->ctx->out, "%s\n", text);
    free(text);
    return 0;
}

static void print_help(const struct mlpio_context *ctx, const struct mlpio_cli *cli)
{
    if (ctx->rank != 0)
        return;
    if (cli->command)
        mlpio_cli_help_command(ctx->out, cli->workload, cli->command);
    else
        mlpio_cli_help_workload(ctx->out, cli->workload);
}

static cJSON *build_info(void)
{
    cJSON *b = cJSON_CreateObject();
    char mpi[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(mpi, &len);
    char *nl = strchr(mpi, '\n');
    if (nl)
        *nl = '\0';
    cJSON_AddStringToObject(b, "build_type", MLPIO_BUILD_TYPE);
    cJSON_AddBoolToObject(b, "sanitizers", MLPIO_SANITIZE_BUILD);
    cJSON_AddStringToObject(b, "compiler", __VERSION__);
    cJSON_AddStringToObject(b, "mpi_library", mpi);
    cJSON_AddStringToObject(b, "cjson", cJSON_Version());
    cJSON_AddStringToObject(b, "libsodium", sodium_version_string());
    cJSON_AddStringToObject(b, "io_backends", mlpio_io_choices());
    cJSON_AddStringToObject(b, "formats", mlpio_format_choices());
    return b;
}

/* Rank 0: the run description the rules judge and the metadata file stores. */
static cJSON *build_doc(struct mlpio_run *run, const struct mlpio_cli *cli, cJSON *overrides)
{
    cJSON *doc = cJSON_CreateObject();
    if (!doc)
        return NULL;
    cJSON_AddStringToObject(doc, "mlpio_version", MLPIO_VERSION);
    cJSON_AddStringToObject(doc, "benchmark", run->workload->name);
    cJSON_AddStringToObject(doc, "command", run->command ? run->command->name : "");
    cJSON_AddStringToObject(doc, "model", cli->model ? cli->model : "");
    cJSON_AddItemToObject(doc, "argv", mlpio_cli_argv_json(cli));
    cJSON_AddNumberToObject(doc, "world_size", run->ctx->size);
    const char *edition = cli->rules_edition ? cli->rules_edition : mlpio_rules_edition_newest();
    cJSON_AddStringToObject(doc, "rules_edition", edition ? edition : "");
    cJSON *options = mlpio_cli_options_json(cli);
    char *abs = mlpio_path_absolute(cli->results_dir);
    if (options && abs)
        cJSON_ReplaceItemInObject(options, "results_dir", cJSON_CreateString(abs));
    free(abs);
    cJSON_AddItemToObject(doc, "options", options);
    cJSON_AddItemToObject(doc, "config", cJSON_Duplicate(run->config, 1));
    cJSON_AddItemToObject(doc, "overrides", overrides);
    cJSON_AddItemToObject(doc, "cluster", mlpio_cluster_to_json(run->rec.cluster));
    run->rec.facts = cJSON_AddObjectToObject(doc, "facts");
    cJSON_AddItemToObject(doc, "build", build_info());
    return doc;
}

static int fail(struct mlpio_run *run, struct mlpio_error *err)
{
    mlpio_log_error(run->ctx, err);
    return mlpio_exit_code(err->category);
}

static struct mlpio_verdict_report *judge(struct mlpio_run *run, struct mlpio_error *err)
{
    struct mlpio_verdict_report *v = mlpio_verdict_create();
    if (!v) {
        mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    mlpio_rules_checker_fn check = mlpio_rules_run_checker(run->workload->name);
    if (!check) {
        mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, "benchmark", "a benchmark with rules",
                          run->workload->name, "", "no rules are defined for %s",
                          run->workload->name);
    } else if (check(run->rec.doc, v, err) < 0) {
        mlpio_verdict_destroy(&v);
        return NULL;
    }
    cJSON_DeleteItemFromObject(run->rec.doc, "verdict");
    cJSON_AddItemToObject(run->rec.doc, "verdict", mlpio_verdict_to_json(v));
    return v;
}

/* detail_level: the log level from which each issue is listed. */
static void print_verdict(const struct mlpio_run *run, const struct mlpio_verdict_report *v,
                          const char *when, enum mlpio_log_level detail_level)
{
    const struct mlpio_context *ctx = run->ctx;
    mlpio_log(ctx, MLPIO_LOG_QUIET, "verdict (%s): %s under the MLPerf Storage %s rules", when,
              mlpio_verdict_name(mlpio_verdict_of(v)), mlpio_rules_edition_of(run->rec.doc));
    if (ctx->level < detail_level && v->count > 0) {
        mlpio_log(ctx, MLPIO_LOG_QUIET, " (%d issue%s: see report.txt)\n", v->count,
                  v->count == 1 ? "" : "s");
        return;
    }
    mlpio_log(ctx, MLPIO_LOG_QUIET, "\n");
    static const char *level[] = {"warning", "OPEN", "INVALID"};
    for (int i = 0; i < v->count; i++) {
        const struct mlpio_issue *is = &v->issues[i];
        mlpio_log(ctx, MLPIO_LOG_QUIET, "  %-7s %s: %s (expected %s, got %s)\n", level[is->level],
                  is->parameter, is->message, is->expected, is->actual);
        if (is->hint[0])
            mlpio_log(ctx, MLPIO_LOG_QUIET, "          fix: %s\n", is->hint);
    }
}

/* Rank 0: refuse before any I/O when the requested division cannot be met. */
static int admit(const struct mlpio_run *run, const struct mlpio_verdict_report *v,
                 struct mlpio_error *err)
{
    enum mlpio_verdict verdict = mlpio_verdict_of(v);
    if (run->opts->closed && verdict != MLPIO_VERDICT_CLOSED) {
        mlpio_error_set(err, MLPIO_ERR_RULES, "--closed was given but this run would be %s",
                        mlpio_verdict_name(verdict));
        return mlpio_error_hint(err, "fix the issues listed above, or run with --open");
    }
    if (verdict == MLPIO_VERDICT_INVALID && !run->opts->allow_invalid) {
        mlpio_error_set(err, MLPIO_ERR_RULES, "this run would be INVALID");
        return mlpio_error_hint(err, "fix the issues listed above, or pass "
                                     "--allow-invalid-params to run anyway");
    }
    return 0;
}

static char *metadata_path(const struct mlpio_run *run)
{
    char name[128];
    snprintf(name, sizeof(name), "%s_%s_metadata.json", run->workload->name, run->rec.run_id);
    return mlpio_path_join(run->rec.run_dir, name);
}

static int write_metadata(const struct mlpio_run *run, struct mlpio_error *err)
{
    char *path = metadata_path(run);
    if (!path)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
    int rc = mlpio_json_write_atomic(path, run->rec.doc, err);
    free(path);
    return rc;
}

static int draw_salt(struct mlpio_run *run, struct mlpio_error *err)
{
    const struct mlpio_run_options *opts = run->opts;
    int rc = 0;
    if (opts->has_seed)
        mlpio_data_salt_from_seed(opts->seed + (uint64_t)run->loop, &run->io.salt);
    else if (run->ctx->rank == 0)
        rc = mlpio_data_salt_random(&run->io.salt, err);
    if (mlpio_context_agree(run->ctx, rc, err) < 0)
        return -1;
    if (!opts->has_seed &&
        mlpio_config_bcast_bytes(run->ctx, run->io.salt.bytes, sizeof(run->io.salt.bytes), err) < 0)
        return -1;
    mlpio_data_rank_key(&run->io.salt, (uint64_t)run->ctx->rank, &run->io.key);
    return 0;
}

/* Rank 0: from here on, an interruption leaves a finished record even if the ranks hang. */
static void start_guard(struct mlpio_run *run)
{
    struct mlpio_error err = {0};
    char *meta = metadata_path(run);
    char *summary = mlpio_path_join(run->rec.run_dir, "summary.json");
    if (meta && summary)
        run->rec.guard = mlpio_guard_start(meta, summary, run->rec.doc, &run->rec.events,
                                           MLPIO_GUARD_GRACE, &err);
    if (!run->rec.guard)
        fprintf(run->ctx->err, "mlpio: warning: %s\n",
                err.message[0] ? err.message : "out of memory starting the interruption guard");
    free(meta);
    free(summary);
}

/* Rank 0: the run directory in a submission tree (subtree.h), and the system's description
 * when it is the system's first run. */
static char *tree_run_dir(struct mlpio_run *run, const char *results, const struct mlpio_tree *t,
                          struct mlpio_error *err)
{
    const struct mlpio_run_options *opts = run->opts;
    const char *system = opts->system ? opts->system : t->system;
    if (!opts->division) {
        mlpio_error_set(err, MLPIO_ERR_USAGE,
                        "%s is a submission tree (org %s): a run in it goes to closed/%s/ or "
                        "open/%s/, and none was declared",
                        opts->results_dir, t->org, t->org, t->org);
        mlpio_error_hint(err, "add --closed or --open");
        return NULL;
    }
    if (!system[0]) {
        mlpio_error_set(err, MLPIO_ERR_USAGE,
                        "%s is a submission tree (org %s) with no default system, and the run "
                        "names none",
                        opts->results_dir, t->org);
        mlpio_error_hint(err,
                         "add --system NAME, or set a default with mlpio init --org %s "
                         "--system NAME --results-dir %s",
                         t->org, opts->results_dir);
        return NULL;
    }
    char *parent = mlpio_tree_leaf_parent(results, t, opts->division, system, run->workload->name,
                                          opts->model, run->command->name);
    if (!parent) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG, "results path is too long: %s", results);
        return NULL;
    }
    char *dir = mlpio_rundir_create_in(parent, time(NULL), run->rec.run_id, err);
    free(parent);
    bool written = false;
    if (dir && mlpio_tree_write_system(results, t, opts->division, system, run->rec.cluster,
                                       &written, err) < 0) {
        rmdir(dir);
        free(dir);
        return NULL;
    }
    if (written)
        mlpio_log(run->ctx, MLPIO_LOG_NORMAL,
                  "described system %s from this job's hosts: %s/%s/%s/systems/%s.yaml (fill in "
                  "its empty fields and add %s.pdf before submitting)\n",
                  system, opts->results_dir, opts->division, t->org, system, system);
    cJSON *where = cJSON_CreateObject();
    cJSON_AddStringToObject(where, "org", t->org);
    cJSON_AddStringToObject(where, "division", opts->division);
    cJSON_AddStringToObject(where, "system", system);
    cJSON_DeleteItemFromObject(run->rec.doc, "submission_tree");
    cJSON_AddItemToObject(run->rec.doc, "submission_tree", where);
    return dir;
}

/* Rank 0: provenance.json beside the metadata, which names it. */
static int write_provenance(struct mlpio_run *run, struct mlpio_error *err)
{
    cJSON *p = mlpio_tree_provenance(run->rec.doc);
    char *path = mlpio_path_join(run->rec.run_dir, "provenance.json");
    int rc = p && path ? mlpio_json_write_atomic(path, p, err)
                       : mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
    free(path);
    cJSON_Delete(p);
    cJSON_DeleteItemFromObject(run->rec.doc, "provenance_file");
    if (rc == 0)
        cJSON_AddStringToObject(run->rec.doc, "provenance_file", "provenance.json");
    return rc;
}

/* Rank 0, before the rules judge the run: whether its data and its results are on different
 * file systems (facts.fs_separation; fsprobe.h). Under --what-if nothing is written, so only
 * the devices are compared. */
static int probe_fs(struct mlpio_run *run, bool what_if, struct mlpio_error *err)
{
    const char *key = run->workload->data_folder_key;
    const char *dir = key ? mlpio_json_string(run->config, key, "") : "";
    if (!dir[0])
        return 0;
    const char *host = run->rec.cluster && run->rec.cluster->num_hosts
                           ? run->rec.cluster->hosts[0].info.hostname
                           : "";
    cJSON *p = mlpio_fs_separation_probe(dir, run->opts->results_dir, host, !what_if, err);
    if (!p)
        return -1;
    cJSON_DeleteItemFromObject(run->rec.facts, "fs_separation");
    cJSON_AddItemToObject(run->rec.facts, "fs_separation", p);
    return 0;
}

/* Rank 0: fs_separation.json beside the metadata, as the submission checker reads it. */
static int write_fs_separation(struct mlpio_run *run, struct mlpio_error *err)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(run->rec.facts, "fs_separation");
    if (!p)
        return 0;
    char *path = mlpio_path_join(run->rec.run_dir, "fs_separation.json");
    int rc = path ? mlpio_json_write_atomic(path, p, err)
                  : mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
    free(path);
    return rc;
}

/* Rank 0: run directory, metadata marked "running", the first events. */
static int open_run(struct mlpio_run *run, struct mlpio_error *err)
{
    const struct mlpio_run_options *opts = run->opts;
    char *results = mlpio_path_absolute(opts->results_dir);
    if (!results)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "cannot resolve %s", opts->results_dir);
    struct mlpio_tree tree;
    int is_tree = mlpio_tree_open(results, &tree, err);
    if (is_tree > 0)
        run->rec.run_dir = tree_run_dir(run, results, &tree, err);
    else if (is_tree == 0)
        run->rec.run_dir =
            mlpio_rundir_create(results, run->workload->name, opts->model, run->command->name,
                                time(NULL), run->rec.run_id, err);
    free(results);
    if (!run->rec.run_dir || write_provenance(run, err) < 0 || write_fs_separation(run, err) < 0)
        return -1;
    char hex[65];
    mlpio_data_salt_to_hex(&run->io.salt, hex);
    cJSON *doc = run->rec.doc;
    cJSON_DeleteItemFromObject(doc, "run_id");
    cJSON_AddStringToObject(doc, "run_id", run->rec.run_id);
    cJSON_DeleteItemFromObject(doc, "run_dir");
    cJSON_AddStringToObject(doc, "run_dir", run->rec.run_dir);
    cJSON_DeleteItemFromObject(doc, "seed");
    if (opts->has_seed)
        cJSON_AddNumberToObject(doc, "seed", (double)(opts->seed + (uint64_t)run->loop));
    else
        cJSON_AddNullToObject(doc, "seed");
    cJSON_DeleteItemFromObject(doc, "salt");
    cJSON_AddStringToObject(doc, "salt", hex);
    cJSON_DeleteItemFromObject(doc, "loop");
    cJSON_AddNumberToObject(doc, "loop", run->loop);
    mlpio_json_set_time(doc, "start_time", mlpio_json_now());
    cJSON_DeleteItemFromObject(doc, "status");
    cJSON_AddStringToObject(doc, "status", "running");
    if (write_metadata(run, err) < 0)
        return -1;
    char *events = mlpio_path_join(run->rec.run_dir, "events.jsonl");
    run->rec.events = events ? mlpio_eventlog_open(events, err) : NULL;
    free(events);
    if (!run->rec.events)
        return -1;
    cJSON *start = cJSON_CreateObject();
    cJSON_AddStringToObject(start, "benchmark", run->workload->name);
    cJSON_AddStringToObject(start, "command", run->command->name);
    cJSON_AddStringToObject(start, "model", opts->model);
    cJSON_AddStringToObject(start, "run_id", run->rec.run_id);
    cJSON_AddNumberToObject(start, "world_size", run->ctx->size);
    cJSON_AddStringToObject(start, "mlpio_version", MLPIO_VERSION);
    mlpio_run_event(run, "start", start);
    cJSON *config = cJSON_CreateObject();
    cJSON_AddItemToObject(config, "config", cJSON_Duplicate(run->config, 1));
    cJSON_AddItemToObject(config, "overrides",
                          cJSON_Duplicate(cJSON_GetObjectItem(doc, "overrides"), 1));
    mlpio_run_event(run, "config", config);
    mlpio_run_event(run, "cluster", cJSON_Duplicate(cJSON_GetObjectItem(doc, "cluster"), 1));
    mlpio_log(run->ctx, MLPIO_LOG_NORMAL, "run directory: %s\n", run->rec.run_dir);
    start_guard(run);
    return 0;
}

static cJSON *summary_doc(const struct mlpio_run *run, const struct mlpio_verdict_report *v,
                          int code)
{
    cJSON *s = run->rec.summary ? cJSON_Duplicate(run->rec.summary, 1) : cJSON_CreateObject();
    cJSON_AddStringToObject(s, "benchmark", run->workload->name);
    cJSON_AddStringToObject(s, "model", run->opts->model);
    cJSON_AddStringToObject(s, "command", run->command->name);
    cJSON_AddStringToObject(s, "run_id", run->rec.run_id);
    cJSON_AddNumberToObject(s, "num_accelerators", run->ctx->size);
    cJSON_AddNumberToObject(s, "num_hosts", run->rec.cluster ? run->rec.cluster->num_hosts : 0);
    cJSON *mem = cJSON_AddArrayToObject(s, "host_memory_GB");
    cJSON *cpu = cJSON_AddArrayToObject(s, "host_cpu_count");
    for (int i = 0; run->rec.cluster && i < run->rec.cluster->num_hosts; i++) {
        const struct mlpio_host_info *h = &run->rec.cluster->hosts[i].info;
        cJSON_AddItemToArray(mem, cJSON_CreateNumber((double)h->mem_total_bytes / (1 << 30)));
        cJSON_AddItemToArray(cpu, cJSON_CreateNumber(h->cpu_count));
    }
    /* Commands the rules do not judge (datagen) have no verdict. */
    if (v)
        cJSON_AddStringToObject(s, "verdict", mlpio_verdict_name(mlpio_verdict_of(v)));
    else
        cJSON_AddNullToObject(s, "verdict");
    cJSON_AddNumberToObject(s, "exit_code", code);
    return s;
}

static void write_report(const struct mlpio_run *run, const struct mlpio_verdict_report *v,
                         int code, struct mlpio_error *err)
{
    size_t cap = 4096 + (run->rec.report_text ? strlen(run->rec.report_text) : 0);
    for (int i = 0; v && i < v->count; i++)
        cap += strlen(v->issues[i].message) + strlen(v->issues[i].hint) +
               strlen(v->issues[i].parameter) + strlen(v->issues[i].expected) +
               strlen(v->issues[i].actual) + 64;
    char *text = malloc(cap);
    if (!text)
        return;
    size_t n = (size_t)snprintf(text, cap,
                                "mlpio %s %s  model %s  run %s\nranks %d  exit %d (%s)\n"
                                "verdict: %s\n",
                                run->workload->name, run->command->name, run->opts->model,
                                run->rec.run_id, run->ctx->size, code, mlpio_exit_name(code),
                                v      ? mlpio_verdict_name(mlpio_verdict_of(v))
                                : code ? "none (the run failed)"
                                       : "not judged");
    static const char *level[] = {"warning", "OPEN", "INVALID"};
    for (int i = 0; v && i < v->count && n < cap; i++) {
        const struct mlpio_issue *is = &v->issues[i];
        n += (size_t)snprintf(text + n, cap - n, "  %-7s %s: %s (expected %s, got %s)%s%s\n",
                              level[is->level], is->parameter, is->message, is->expected,
                              is->actual, is->hint[0] ? "; fix: " : "", is->hint);
    }
    if (run->rec.report_text && n < cap)
        snprintf(text + n, cap - n, "\n%s", run->rec.report_text);
    char *path = mlpio_path_join(run->rec.run_dir, "report.txt");
    if (path && mlpio_file_write_atomic(path, text, strlen(text), err) < 0)
        fprintf(run->ctx->err, "mlpio: warning: %s\n", err->message);
    free(path);
    free(text);
}

static int write_record(struct mlpio_run *run, int code, const struct mlpio_error *failure);

/* Rank 0: post-run rules, summary.json, report.txt, final metadata and "finish". */
static int close_run(struct mlpio_run *run, int code, const struct mlpio_error *failure)
{
    /* The record is written whole before the guard may write its own. */
    mlpio_guard_lock(run->rec.guard);
    code = write_record(run, code, failure);
    mlpio_guard_closed(run->rec.guard);
    mlpio_guard_unlock(run->rec.guard);
    return code;
}

static int write_record(struct mlpio_run *run, int code, const struct mlpio_error *failure)
{
    struct mlpio_error err = {0};
    cJSON *doc = run->rec.doc;
    bool judged = run->command->flags & MLPIO_CMD_JUDGED;
    /* A failed run measured nothing the rules could judge: it has no verdict, only its error. */
    struct mlpio_verdict_report *v = judged && code == 0 ? judge(run, &err) : NULL;
    if (judged && code != 0) {
        cJSON_DeleteItemFromObject(doc, "verdict");
        cJSON_AddNullToObject(doc, "verdict");
        mlpio_log(run->ctx, MLPIO_LOG_QUIET, "verdict (run): none, the run failed: %s\n",
                  failure ? failure->message : mlpio_exit_name(code));
    } else if (judged && !v) {
        fprintf(run->ctx->err, "mlpio: warning: post-run rules: %s\n", err.message);
    } else if (v) {
        print_verdict(run, v, "run", MLPIO_LOG_VERBOSE);
    }
    mlpio_json_set_time(doc, "end_time", mlpio_json_now());
    cJSON_DeleteItemFromObject(doc, "status");
    cJSON_AddStringToObject(doc, "status", code == 0 ? "complete" : "failed");
    cJSON *exit_status = cJSON_CreateObject();
    cJSON_AddNumberToObject(exit_status, "code", code);
    cJSON_AddStringToObject(exit_status, "name", mlpio_exit_name(code));
    if (failure) {
        cJSON_AddStringToObject(exit_status, "error", failure->message);
        cJSON_AddStringToObject(exit_status, "category", mlpio_errcat_name(failure->category));
        cJSON_AddStringToObject(exit_status, "hint", failure->hint);
    }
    cJSON_DeleteItemFromObject(doc, "exit_status");
    cJSON_AddItemToObject(doc, "exit_status", exit_status);

    cJSON *summary = summary_doc(run, v, code);
    char *path = mlpio_path_join(run->rec.run_dir, "summary.json");
    int rc = 0;
    if (!path || mlpio_json_write_atomic(path, summary, &err) < 0)
        rc = -1;
    free(path);
    cJSON_Delete(summary);
    write_report(run, v, code, &err);
    if (rc == 0 && write_metadata(run, &err) < 0)
        rc = -1;
    if (rc < 0) {
        mlpio_log_error(run->ctx, &err);
        if (code == 0)
            code = mlpio_exit_code(err.category);
    }
    if (run->rec.report_text)
        mlpio_log(run->ctx, MLPIO_LOG_NORMAL, "\n%s", run->rec.report_text);
    cJSON *finish = cJSON_CreateObject();
    cJSON_AddNumberToObject(finish, "exit_code", code);
    cJSON_AddStringToObject(finish, "status", mlpio_exit_name(code));
    if (v)
        cJSON_AddStringToObject(finish, "verdict", mlpio_verdict_name(mlpio_verdict_of(v)));
    mlpio_run_event(run, "finish", finish);
    /* The page is drawn from the files just written, as any later reader would see them. */
    struct mlpio_error herr = {0};
    if (mlpio_html_write_run(run->rec.run_dir, &herr) < 0)
        fprintf(run->ctx->err, "mlpio: warning: report.html not written: %s\n", herr.message);
    mlpio_log(run->ctx, MLPIO_LOG_NORMAL, "results: %s\n", run->rec.run_dir);
    mlpio_verdict_destroy(&v);
    return code;
}

static void reset_loop(struct mlpio_run *run)
{
    mlpio_guard_stop(&run->rec.guard);
    mlpio_eventlog_close(&run->rec.events);
    free(run->rec.run_dir);
    run->rec.run_dir = NULL;
    cJSON_Delete(run->rec.summary);
    run->rec.summary = NULL;
    free(run->rec.report_text);
    run->rec.report_text = NULL;
}

static int parse_settings(struct mlpio_run *run, void *settings, struct mlpio_error *err)
{
    const struct mlpio_workload *w = run->workload;
    if (w->settings_parse)
        return w->settings_parse(run->config, settings, err);
    return mlpio_params_settings(w->params, w->nparams, run->config, settings, err);
}

/* Collective: the workload's pre-run checks on rank 0, before any run directory exists. */
static int prepare(struct mlpio_run *run, struct mlpio_error *err)
{
    int rc = 0;
    if (run->ctx->rank == 0 && run->workload->prepare)
        rc = run->workload->prepare(run, err);
    return mlpio_context_agree(run->ctx, rc, err);
}

static int measure(struct mlpio_run *run, struct mlpio_error *err)
{
    const struct mlpio_context *ctx = run->ctx;
    int code = 0;
    for (run->loop = 0; run->loop < run->opts->loops && code == 0; run->loop++) {
        if (draw_salt(run, err) < 0)
            return fail(run, err);
        int rc = ctx->rank == 0 ? open_run(run, err) : 0;
        if (mlpio_context_agree(ctx, rc, err) < 0) {
            code = mlpio_exit_code(err->category);
            if (ctx->rank == 0 && run->rec.run_dir)
                close_run(run, code, err);
            reset_loop(run);
            return fail(run, err);
        }
        rc = mlpio_run_check_shared(run, err);
        if (rc == 0)
            rc = run->command->execute(run, err);
        rc = mlpio_context_agree(ctx, rc, err);
        if (rc < 0) {
            code = mlpio_exit_code(err->category);
            if (ctx->rank == 0) {
                cJSON *ex = cJSON_CreateObject();
                cJSON_AddStringToObject(ex, "category", mlpio_errcat_name(err->category));
                cJSON_AddStringToObject(ex, "message", err->message);
                cJSON_AddStringToObject(ex, "hint", err->hint);
                mlpio_run_event(run, "exception", ex);
            }
        }
        if (ctx->rank == 0)
            code = close_run(run, code, rc < 0 ? err : NULL);
        MPI_Bcast(&code, 1, MPI_INT, 0, ctx->comm);
        reset_loop(run);
        /* The error is the last thing said, after the results and where they are. */
        if (rc < 0)
            mlpio_log_error(ctx, err);
    }
    return code;
}

int mlpio_run_main(struct mlpio_context *ctx, const struct mlpio_cli *cli)
{
    struct mlpio_run run;
    struct mlpio_error err = {0};
    memset(&run, 0, sizeof(run));
    run.ctx = ctx;
    struct mlpio_run_options opts = {
        .model = cli->model,
        .variant = cli->variant,
        .results_dir = cli->results_dir,
        .io_api = cli->io_api,
        .closed = cli->division == MLPIO_DIVISION_CLOSED,
        .division = cli->division == MLPIO_DIVISION_CLOSED ? "closed"
                    : cli->division == MLPIO_DIVISION_OPEN ? "open"
                                                           : NULL,
        .system = cli->system,
        .allow_invalid = cli->allow_invalid,
        .what_if = cli->what_if,
        .verify = cli->verify,
        .odirect = cli->odirect,
        .loops = cli->loops,
        .has_seed = cli->has_seed,
        .seed = cli->seed,
        .scale = cli->scale,
        .client_memory_gb = cli->client_memory_gb,
        .settings = cli->settings,
    };
    run.opts = &opts;
    run.workload = cli->workload;
    run.command = cli->command;
    ctx->level = cli->level;
    if (cli->help) {
        print_help(ctx, cli);
        return MLPIO_EXIT_OK;
    }
    run.io.backend = mlpio_io_find(cli->io_api);
    run.io.options.odirect = cli->odirect;
    run.io.options.comm = ctx->comm;

    int code = MLPIO_EXIT_OK;
    cJSON *overrides = NULL;
    void *settings = NULL;
    struct mlpio_verdict_report *verdict = NULL;
    int rc = 0;
    if (ctx->rank == 0) {
        run.config = mlpio_config_build(cli, &overrides, &err);
        rc = run.config ? 0 : -1;
    }
    if (mlpio_context_agree(ctx, rc, &err) < 0) {
        code = fail(&run, &err);
        goto out;
    }
    rc = mlpio_cluster_collect(ctx->comm, "/", &run.rec.cluster, &run.host_ranks, &err);
    if (mlpio_context_agree(ctx, rc, &err) < 0) {
        code = fail(&run, &err);
        goto out;
    }
    if (mlpio_check_same_everywhere(ctx, &err) < 0) {
        code = fail(&run, &err);
        goto out;
    }
    cJSON *clocks = NULL;
    rc = mlpio_clock_offsets(ctx->comm, run.rec.cluster, &clocks, &err);
    if (mlpio_context_agree(ctx, rc, &err) < 0) {
        code = fail(&run, &err);
        goto out;
    }
    settings = calloc(1, run.workload->settings_size + 1);
    run.settings = settings;
    if (ctx->rank == 0) {
        run.rec.doc = build_doc(&run, cli, overrides);
        overrides = NULL;
        if (run.rec.doc)
            cJSON_AddItemToObject(run.rec.doc, "clock", clocks);
        else
            cJSON_Delete(clocks);
        clocks = NULL;
        rc = run.rec.doc && settings ? 0
                                     : mlpio_error_set(&err, MLPIO_ERR_INTERNAL, "out of memory");
        if (rc == 0)
            rc = parse_settings(&run, settings, &err);
        if (rc == 0 && run.workload->describe)
            rc = run.workload->describe(&run, run.rec.facts, &err);
        if (rc == 0) /* describe may have resolved paths: store what will really run */
            cJSON_ReplaceItemInObject(run.rec.doc, "config", cJSON_Duplicate(run.config, 1));
    }
    if (mlpio_context_agree(ctx, rc, &err) < 0 || mlpio_config_bcast(ctx, &run.config, &err) < 0) {
        code = fail(&run, &err);
        goto out;
    }
    /* Again on every rank: describe may have completed the config, and text fields borrow it. */
    rc = settings ? parse_settings(&run, settings, &err)
                  : mlpio_error_set(&err, MLPIO_ERR_INTERNAL, "out of memory");
    if (mlpio_context_agree(ctx, rc, &err) < 0) {
        code = fail(&run, &err);
        goto out;
    }
    if (!(run.command->flags & MLPIO_CMD_MEASURE)) {
        rc = run.command->execute(&run, &err);
        if (mlpio_context_agree(ctx, rc, &err) < 0)
            code = fail(&run, &err);
        goto out;
    }
    if (ctx->rank == 0 && probe_fs(&run, cli->what_if, &err) < 0)
        rc = -1;
    else if (ctx->rank == 0 && (run.command->flags & MLPIO_CMD_JUDGED)) {
        verdict = judge(&run, &err);
        rc = verdict ? 0 : -1;
        if (verdict) {
            print_verdict(&run, verdict, "before the run", MLPIO_LOG_NORMAL);
            rc = admit(&run, verdict, &err);
        }
    }
    if (mlpio_context_agree(ctx, rc, &err) < 0) {
        code = fail(&run, &err);
        goto out;
    }
    if (cli->what_if) {
        rc = run.command->execute(&run, &err);
        if (mlpio_context_agree(ctx, rc, &err) < 0)
            code = fail(&run, &err);
        else
            mlpio_log(ctx, MLPIO_LOG_NORMAL, "what-if: nothing was written\n");
        goto out;
    }
    if (prepare(&run, &err) < 0) {
        code = fail(&run, &err);
        goto out;
    }
    code = measure(&run, &err);
out:
    mlpio_verdict_destroy(&verdict);
    cJSON_Delete(overrides);
    cJSON_Delete(run.config);
    free(settings);
    cJSON_Delete(run.rec.doc);
    mlpio_cluster_destroy(&run.rec.cluster);
    reset_loop(&run);
    return code;
}
