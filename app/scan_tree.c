/* mlpio results-tree scanner: the checks of a submission tree's org and its manifest, see
 * scan_run.h.
 *
 * What is checked follows mlcommons/storage Rules.md 2.1.7 to 2.1.9 and the provenance rules
 * of its submission checker (PROV-01, PROV-02); each problem's "what" starts with the rule's id
 * as the checker names it, so a submitter can look it up.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "app/scan_run.h"
#include "app/subtree.h"
#include "app/yaml.h"
#include "report/json_file.h"
#include "rules/edition.h"

#define TREE_FILE_MAX (1u << 20)
#define GIB (1024.0 * 1024.0 * 1024.0)

struct org_scan {
    const char *root, *division, *org;
    const cJSON *const *runs;
    int n;
    cJSON *problems;
    int oom;
    char rel[PATH_MAX]; /* <division>/<org> */
};

static void add(struct org_scan *o, const char *where, const char *fix, const char *fmt, ...)
    MLPIO_PRINTF(4, 5);

static void add(struct org_scan *o, const char *where, const char *fix, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (mlpio_scan_problemv(o->problems, where, fix, fmt, ap))
        o->oom = 1;
    va_end(ap);
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && strcmp(s + n - k, suffix) == 0;
}

/* A YAML file of the tree, or NULL: *missing set when it is not there, else a problem. */
static cJSON *read_yaml(struct org_scan *o, const char *rel, const char *rule, int *missing)
{
    char abs[PATH_MAX * 2];
    struct mlpio_error err = {0};
    struct stat st;
    size_t len;
    snprintf(abs, sizeof(abs), "%s/%s", o->root, rel);
    *missing = stat(abs, &st) != 0 && errno == ENOENT;
    if (*missing)
        return NULL;
    char *text = mlpio_file_read_text(abs, TREE_FILE_MAX, &len, &err);
    cJSON *v = text ? mlpio_yaml_parse(text, rel, &err) : NULL;
    free(text);
    if (!v)
        add(o, rel, err.hint[0] ? err.hint : "restore the file", "[%s] %s", rule, err.message);
    return v;
}

static const char *entry_system(const cJSON *e)
{
    return mlpio_json_string(e, "tree.system", "");
}

/* ---- systems/ (Rules.md 2.1.7 - 2.1.9) --------------------------------------------------- */

/* 2.1.9: the system's clients against what its runs measured. */
static void check_clients(struct org_scan *o, const char *rel, const char *system,
                          const cJSON *desc)
{
    const cJSON *clients = mlpio_json_get_path(desc, "system_under_test.clients");
    double hosts = 0, gib = 0;
    int memory_known = 1;
    const cJSON *c;
    if (!cJSON_IsArray(clients) || !cJSON_GetArraySize(clients)) {
        add(o, rel, "list the client nodes under system_under_test.clients",
            "[2.1.9 clients] %s has no system_under_test.clients", rel);
        return;
    }
    cJSON_ArrayForEach(c, clients)
    {
        double q = mlpio_json_number(c, "quantity", NAN);
        double m = mlpio_json_number(c, "chassis.memory_capacity", NAN);
        if (!isfinite(q) || q < 1) {
            add(o, rel, "give every client entry its quantity (a whole number of nodes)",
                "[2.1.9 clients] a client of %s has no quantity", rel);
            return;
        }
        hosts += q;
        memory_known &= isfinite(m) && m > 0;
        gib += q * (isfinite(m) ? m : 0);
    }
    for (int i = 0; i < o->n; i++) {
        const cJSON *e = o->runs[i];
        if (strcmp(entry_system(e), system) != 0)
            continue;
        const char *path = mlpio_json_string(e, "path", "");
        double measured = mlpio_json_number(e, "metadata.cluster.num_hosts", NAN);
        double bytes = mlpio_json_number(e, "metadata.cluster.total_memory_bytes", NAN);
        if (isfinite(measured) && measured != hosts)
            add(o, rel,
                "make the clients' quantities add up to the hosts the runs used, or run on the "
                "system described",
                "[2.1.9 num_hosts] %s describes %.0f client host(s), run %s used %.0f", rel, hosts,
                path, measured);
        else if (memory_known && isfinite(bytes) && fabs(gib * GIB - bytes) > 0.1 * bytes)
            add(o, rel,
                "give each client's chassis.memory_capacity in GiB as the hosts have it (within "
                "10 %)",
                "[2.1.9 memory] %s describes %.0f GiB of client memory, run %s measured %.1f GiB "
                "(more than 10 %% apart)",
                rel, gib, path, bytes / GIB);
        else
            continue;
        return; /* one run's mismatch says it: the others are the same hosts */
    }
}

/* 2.1.8: the description names its system. */
static void check_description(struct org_scan *o, const char *system)
{
    char rel[PATH_MAX + 300];
    int missing;
    snprintf(rel, sizeof(rel), "%s/systems/%s.yaml", o->rel, system);
    cJSON *desc = read_yaml(o, rel, "2.1.8 system description", &missing);
    if (missing) {
        add(o, rel,
            "run a benchmark of the system into the tree (mlpio writes the description from "
            "its hosts), or write it",
            "[2.1.8 system description] results/%s has no systems/%s.yaml", system, system);
        return;
    }
    if (!desc)
        return;
    const char *name = mlpio_json_string(desc, "system_under_test.solution.submission_name", "");
    if (strcmp(name, system) != 0)
        add(o, rel, "set system_under_test.solution.submission_name to the system's directory name",
            "[2.1.8 submission_name] %s names the system \"%s\", its directory is results/%s", rel,
            name, system);
    check_clients(o, rel, system, desc);
    cJSON_Delete(desc);
}

static int listed(char **names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], name))
            return 1;
    return 0;
}

/* The sorted entries of dir, or none when it cannot be listed (its own problem elsewhere). */
static char **list(const char *dir, int *n)
{
    char **names = NULL;
    if (mlpio_scan_list(dir, &names, n) != 0)
        *n = 0;
    return names;
}

static void check_systems(struct org_scan *o)
{
    char dir[PATH_MAX * 2], rel[PATH_MAX + 300];
    int ns = 0, nr = 0;
    snprintf(dir, sizeof(dir), "%s/%s/systems", o->root, o->rel);
    char **files = list(dir, &ns);
    snprintf(dir, sizeof(dir), "%s/%s/results", o->root, o->rel);
    char **systems = list(dir, &nr);
    for (int i = 0; i < ns; i++) {
        snprintf(rel, sizeof(rel), "%s/systems/%s", o->rel, files[i]);
        if (has_suffix(files[i], ".md"))
            continue;
        if (!has_suffix(files[i], ".yaml") && !has_suffix(files[i], ".pdf")) {
            add(o, rel, "move it out of systems/",
                "[2.1.7 systems files] systems/ holds only <system>.yaml, <system>.pdf and *.md "
                "files, not %s",
                files[i]);
            continue;
        }
        char system[PATH_MAX];
        snprintf(system, sizeof(system), "%.*s", (int)(strrchr(files[i], '.') - files[i]),
                 files[i]);
        if (!listed(systems, nr, system))
            add(o, rel, "remove it, or put the system's runs in results/<system>/",
                "[2.1.8 systems match results] %s describes a system with no results/%s", rel,
                system);
    }
    for (int i = 0; i < nr; i++) {
        char pdf[PATH_MAX];
        snprintf(pdf, sizeof(pdf), "%s.pdf", systems[i]);
        check_description(o, systems[i]);
        if (!listed(files, ns, pdf)) {
            char sys[PATH_MAX];
            mlpio_scan_join(sys, sizeof(sys), o->rel, "systems");
            mlpio_scan_join(rel, sizeof(rel), sys, pdf);
            add(o, rel, "add the system's PDF description beside its YAML",
                "[2.1.8 system description] results/%s has no systems/%s", systems[i], pdf);
        }
    }
    mlpio_scan_free_names(files, ns);
    mlpio_scan_free_names(systems, nr);
}

/* ---- each run: provenance (PROV-01), file systems; the manifest (PROV-02)
 * ------------------------------------- */

/* A run's provenance.json, or NULL (a problem says why when report is set). */
static cJSON *provenance_of(struct org_scan *o, const cJSON *e, int report)
{
    const char *path = mlpio_json_string(e, "path", "");
    const char *file = mlpio_json_string(e, "metadata.provenance_file", NULL);
    char abs[PATH_MAX * 2], rel[PATH_MAX * 2];
    struct mlpio_error err = {0};
    if (!mlpio_json_get_path(e, "metadata"))
        return NULL; /* the run's own problems say why */
    if (!file || strchr(file, '/')) {
        if (report)
            add(o, path, "rerun the run into the tree (every run there writes provenance.json)",
                "[PROV-01 provenance] the run's metadata names no provenance file in its "
                "directory");
        return NULL;
    }
    mlpio_scan_join(rel, sizeof(rel), path, file);
    mlpio_scan_join(abs, sizeof(abs), o->root, rel);
    cJSON *p = mlpio_json_read_file_max(abs, TREE_FILE_MAX, &err);
    if (p && !cJSON_IsObject(p)) {
        cJSON_Delete(p);
        p = NULL;
        mlpio_error_set(&err, MLPIO_ERR_CONFIG, "%s is not a JSON object", rel);
    }
    if (!p && report)
        add(o, rel, "restore it, or rerun the run", "[PROV-01 provenance] %s", err.message);
    return p;
}

/* Rules.md 3.4.2 / 4.4.2 (6.4.1): a run's fs_separation.json says its data and results were
 * on different file systems, where its edition wants them so. */
static void check_fs_separation(struct org_scan *o, const cJSON *e)
{
    const cJSON *m = mlpio_json_get_path(e, "metadata"), *section = NULL;
    struct mlpio_error err = {0};
    const char *path = mlpio_json_string(e, "path", "");
    if (!m || strcmp(mlpio_json_string(e, "command", ""), "run") != 0 ||
        mlpio_rules_edition_section(m, mlpio_json_string(e, "benchmark", ""), &section, &err))
        return;
    const char *rule = mlpio_json_string(section, "fs_separation_rule", NULL);
    if (!rule)
        return;
    char rel[PATH_MAX + 32], abs[PATH_MAX * 2];
    mlpio_scan_join(rel, sizeof(rel), path, "fs_separation.json");
    mlpio_scan_join(abs, sizeof(abs), o->root, rel);
    struct stat st;
    if (stat(abs, &st) != 0 && errno == ENOENT) {
        add(o, rel, "rerun the run with this mlpio (every run writes fs_separation.json)",
            "[%s fs separation] the run has no fs_separation.json: nothing shows its data and "
            "results on different file systems",
            rule);
        return;
    }
    cJSON *p = mlpio_json_read_file_max(abs, TREE_FILE_MAX, &err);
    const cJSON *same = cJSON_GetObjectItemCaseSensitive(p, "same_filesystem");
    if (!p || !cJSON_IsBool(same))
        add(o, rel, "restore it, or rerun the run", "[%s fs separation] %s", rule,
            p ? "fs_separation.json has no boolean same_filesystem" : err.message);
    else if (cJSON_IsTrue(same))
        add(o, rel, "rerun with the results on another file system than the data (--results-dir)",
            "[%s fs separation] the data %s and the results %s are on one file system (%s)", rule,
            mlpio_json_string(p, "data_path", "?"), mlpio_json_string(p, "results_path", "?"),
            mlpio_json_string(p, "method", "?"));
    cJSON_Delete(p);
}

static cJSON *manifest_run(struct org_scan *o, const cJSON *e)
{
    char prov[PATH_MAX * 2];
    const char *file = mlpio_json_string(e, "metadata.provenance_file", NULL);
    cJSON *p = provenance_of(o, e, 0), *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "leaf", mlpio_json_string(e, "tree.leaf", ""));
    cJSON_AddStringToObject(r, "benchmark", mlpio_json_string(e, "tree.category", ""));
    cJSON_AddStringToObject(r, "model", mlpio_json_string(e, "model", ""));
    cJSON_AddStringToObject(r, "command", mlpio_json_string(e, "command", ""));
    const char *acc = mlpio_json_string(e, "metadata.config.reference.accelerator_type", NULL);
    if (acc)
        cJSON_AddStringToObject(r, "accelerator", acc);
    else
        cJSON_AddNullToObject(r, "accelerator");
    cJSON_AddStringToObject(r, "system", entry_system(e));
    cJSON_AddStringToObject(
        r, "rules_edition",
        mlpio_tree_edition_number(mlpio_rules_edition_of(cJSON_GetObjectItem(e, "metadata"))));
    cJSON_AddStringToObject(r, "core_config", mlpio_json_string(p, "core_config.hash", "unknown"));
    cJSON_AddStringToObject(r, "code_image", mlpio_json_string(p, "tool.code_image", "unknown"));
    snprintf(prov, sizeof(prov), "%s/%s", mlpio_json_string(e, "tree.leaf", ""),
             file ? file : "provenance.json");
    if (p)
        cJSON_AddStringToObject(r, "provenance", prov);
    else
        cJSON_AddNullToObject(r, "provenance");
    cJSON_Delete(p);
    return r;
}

static cJSON *build_manifest(struct org_scan *o)
{
    char when[32], by[64], dir[PATH_MAX * 2];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(by, sizeof(by), "mlpio %s", MLPIO_VERSION);
    const char *edition = o->n ? mlpio_rules_edition_of(mlpio_json_get_path(o->runs[0], "metadata"))
                               : mlpio_rules_edition_newest();
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "schema", MLPIO_MANIFEST_SCHEMA);
    cJSON_AddStringToObject(m, "orgname", o->org);
    cJSON_AddStringToObject(m, "mode", o->division);
    cJSON_AddStringToObject(m, "rules_edition", mlpio_tree_edition_number(edition));
    cJSON_AddNumberToObject(m, "layout_version", MLPIO_TREE_LAYOUT_VERSION);
    cJSON_AddStringToObject(m, "generated_at", when);
    cJSON_AddStringToObject(m, "generated_by", by);
    cJSON *tools = cJSON_AddObjectToObject(m, "tool_versions");
    cJSON_AddStringToObject(tools, "mlpio", MLPIO_VERSION);
    cJSON_AddArrayToObject(m, "dlio_commits");
    cJSON *systems = cJSON_AddArrayToObject(m, "systems");
    int nr = 0;
    snprintf(dir, sizeof(dir), "%s/%s/results", o->root, o->rel);
    char **names = list(dir, &nr);
    for (int i = 0; i < nr; i++) {
        char path[PATH_MAX * 3], rel[PATH_MAX];
        struct stat st;
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "name", names[i]);
        snprintf(rel, sizeof(rel), "systems/%s.yaml", names[i]);
        cJSON_AddStringToObject(s, "description", rel);
        snprintf(rel, sizeof(rel), "systems/%s.pdf", names[i]);
        snprintf(path, sizeof(path), "%s/%s/%s", o->root, o->rel, rel);
        cJSON_AddStringToObject(s, "pdf", stat(path, &st) == 0 ? rel : "missing");
        cJSON_AddItemToArray(systems, s);
    }
    mlpio_scan_free_names(names, nr);
    cJSON *runs = cJSON_AddArrayToObject(m, "runs");
    for (int i = 0; i < o->n; i++)
        cJSON_AddItemToArray(runs, manifest_run(o, o->runs[i]));
    cJSON *images = cJSON_AddArrayToObject(m, "code_images");
    cJSON_AddItemToArray(images, cJSON_CreateString("unknown"));
    cJSON *prov = cJSON_AddObjectToObject(m, "provenance");
    cJSON_AddStringToObject(prov, "rules_edition", "runtime");
    cJSON_AddNumberToObject(prov, "runs", o->n);
    return m;
}

/* PROV-02: submission.yaml lists exactly the leaves there are, each with its edition. */
static void check_manifest(struct org_scan *o)
{
    char rel[PATH_MAX + 32];
    int missing;
    snprintf(rel, sizeof(rel), "%s/submission.yaml", o->rel);
    const char *fix = "write it again with 'mlpio reports manifest --results-dir TREE'";
    cJSON *m = read_yaml(o, rel, "PROV-02 manifest", &missing);
    if (missing) {
        if (o->n)
            add(o, rel, "write it with 'mlpio reports manifest --results-dir TREE'",
                "[PROV-02 manifest] the submission has no submission.yaml");
        return;
    }
    if (!m)
        return;
    const char *schema = mlpio_json_string(m, "schema", "");
    if (strcmp(schema, MLPIO_MANIFEST_SCHEMA) != 0) {
        add(o, rel, fix, "[PROV-02 manifest] schema \"%s\", expected \"%s\"", schema,
            MLPIO_MANIFEST_SCHEMA);
        cJSON_Delete(m);
        return;
    }
    const cJSON *listed_runs = cJSON_GetObjectItemCaseSensitive(m, "runs"), *r;
    int extra = 0;
    cJSON_ArrayForEach(r, listed_runs)
    {
        const char *leaf = mlpio_json_string(r, "leaf", "");
        int found = 0;
        for (int i = 0; i < o->n && !found; i++) {
            if (strcmp(mlpio_json_string(o->runs[i], "tree.leaf", ""), leaf) != 0)
                continue;
            found = 1;
            const char *have = mlpio_tree_edition_number(
                mlpio_rules_edition_of(mlpio_json_get_path(o->runs[i], "metadata")));
            const char *says = mlpio_json_string(r, "rules_edition", "");
            if (strcmp(have, says) != 0)
                add(o, rel, fix,
                    "[PROV-02 manifest] lists %s under rules edition %s, the run was judged by %s",
                    leaf, says, have);
        }
        if (!found && extra++ < 5)
            add(o, rel, fix, "[PROV-02 manifest] lists %s, which is not a run of the tree", leaf);
    }
    for (int i = 0; i < o->n; i++) {
        const char *leaf = mlpio_json_string(o->runs[i], "tree.leaf", "");
        int found = 0;
        cJSON_ArrayForEach(r, listed_runs) found |= !strcmp(mlpio_json_string(r, "leaf", ""), leaf);
        if (!found)
            add(o, rel, fix, "[PROV-02 manifest] does not list the run %s", leaf);
    }
    cJSON_Delete(m);
}

int mlpio_scan_org(const char *root, const char *division, const char *org,
                   const cJSON *const *runs, int n, cJSON *problems)
{
    struct org_scan o = {
        .root = root, .division = division, .org = org, .runs = runs, .n = n, .problems = problems};
    snprintf(o.rel, sizeof(o.rel), "%s/%s", division, org);
    check_systems(&o);
    for (int i = 0; i < n; i++) {
        cJSON_Delete(provenance_of(&o, runs[i], 1));
        check_fs_separation(&o, runs[i]);
    }
    check_manifest(&o);
    return o.oom ? -1 : 0;
}

cJSON *mlpio_scan_manifest(const char *root, const char *division, const char *org,
                           const cJSON *const *runs, int n)
{
    struct org_scan o = {.root = root, .division = division, .org = org, .runs = runs, .n = n};
    snprintf(o.rel, sizeof(o.rel), "%s/%s", division, org);
    return build_manifest(&o);
}
