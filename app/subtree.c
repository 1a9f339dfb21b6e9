/* mlpio submission trees: see subtree.h. */
#include "app/subtree.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "io/io.h"
#include "io/path.h"
#include "app/yaml.h"
#include "report/json_file.h"
#include "rules/edition.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

#ifndef MLPIO_GIT_SHA
#define MLPIO_GIT_SHA "unknown"
#endif

static const char *const divisions[] = {"closed", "open"};

/* ---- names ------------------------------------------------------------------------------ */

bool mlpio_tree_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= MLPIO_TREE_NAME_MAX || !strcmp(name, ".") || !strcmp(name, ".."))
        return false;
    return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static const struct {
    const char *benchmark, *category;
    bool command;
} categories[] = {
    {"training", "training", true},
    {"checkpointing", "checkpointing", false},
    {"kvcache", "kv_cache", true},
};
#define NCATEGORIES (sizeof(categories) / sizeof(categories[0]))

const char *mlpio_tree_category(const char *benchmark)
{
    for (size_t i = 0; i < NCATEGORIES; i++)
        if (!strcmp(benchmark, categories[i].benchmark))
            return categories[i].category;
    return benchmark;
}

const char *mlpio_tree_benchmark(const char *category)
{
    for (size_t i = 0; i < NCATEGORIES; i++)
        if (!strcmp(category, categories[i].category))
            return categories[i].benchmark;
    return NULL;
}

bool mlpio_tree_has_command(const char *benchmark)
{
    for (size_t i = 0; i < NCATEGORIES; i++)
        if (!strcmp(benchmark, categories[i].benchmark))
            return categories[i].command;
    return true;
}

/* ---- the marker ------------------------------------------------------------------------- */

static void defaults_path(const char *root, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", root, MLPIO_TREE_DEFAULTS);
}

int mlpio_tree_open(const char *results_dir, struct mlpio_tree *t, struct mlpio_error *err)
{
    char path[PATH_MAX];
    size_t len;
    memset(t, 0, sizeof(*t));
    snprintf(path, sizeof(path), "%s/%s", results_dir, MLPIO_TREE_MARKER);
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    char *text = mlpio_file_read_text(path, 1 << 16, &len, err);
    cJSON *marker = text ? mlpio_yaml_parse(text, path, err) : NULL;
    free(text);
    if (!marker)
        return -1;
    const char *org = mlpio_json_string(marker, "orgname", "");
    double version = mlpio_json_number(marker, "mlperf_results_version", 0);
    snprintf(t->org, sizeof(t->org), "%s", org);
    int ok = mlpio_tree_name_ok(org) && version >= 1;
    cJSON_Delete(marker);
    if (!ok) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "%s is not a results-tree marker: it needs an orgname (letters, digits, "
                        "'.', '_', '-') and an mlperf_results_version of 1 or more",
                        path);
        return mlpio_error_hint(err, "restore it, or make the tree anew with mlpio init");
    }
    defaults_path(results_dir, path, sizeof(path));
    bool has_defaults = stat(path, &st) == 0;
    cJSON *d = has_defaults ? mlpio_json_read_file(path, err) : NULL;
    if (has_defaults && !d)
        return -1;
    const char *system = mlpio_json_string(d, "system", "");
    if (system[0] && mlpio_tree_name_ok(system))
        snprintf(t->system, sizeof(t->system), "%s", system);
    cJSON_Delete(d);
    return 1;
}

static int write_defaults(const char *root, const char *org, const char *system,
                          struct mlpio_error *err)
{
    char path[PATH_MAX];
    defaults_path(root, path, sizeof(path));
    cJSON *d = cJSON_CreateObject();
    if (!d || !cJSON_AddStringToObject(d, "schema", "mlpio-tree/1") ||
        !cJSON_AddStringToObject(d, "orgname", org) ||
        !cJSON_AddStringToObject(d, "system", system ? system : "")) {
        cJSON_Delete(d);
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
    }
    int rc = mlpio_json_write_atomic(path, d, err);
    cJSON_Delete(d);
    return rc;
}

static void iso_now(char *out, size_t n)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The first entry of dir that is not a dot entry, into out; 0 when there is none. */
static int first_entry(const char *dir, char *out, size_t n)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    const struct dirent *e;
    int found = 0;
    while (!found && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') {
            snprintf(out, n, "%s", e->d_name);
            found = 1;
        }
    closedir(d);
    return found;
}

int mlpio_tree_init(const char *results_dir, const char *org, const char *system, bool *created,
                    struct mlpio_error *err)
{
    *created = false;
    if (!mlpio_tree_name_ok(org)) {
        mlpio_error_set(err, MLPIO_ERR_USAGE,
                        "--org: \"%s\" is not an org name the submission checker accepts",
                        org ? org : "");
        return mlpio_error_hint(err, "use letters, digits, '.', '_' and '-' only (at most %d)",
                                MLPIO_TREE_NAME_MAX - 1);
    }
    if (system && !mlpio_tree_name_ok(system)) {
        mlpio_error_set(err, MLPIO_ERR_USAGE,
                        "--system: \"%s\" is not a system name the submission checker accepts",
                        system);
        return mlpio_error_hint(err, "use letters, digits, '.', '_' and '-' only (at most %d)",
                                MLPIO_TREE_NAME_MAX - 1);
    }
    if (mlpio_io_mkdirs(&mlpio_io_posix, results_dir, err) < 0)
        return mlpio_error_hint(err, "choose a writable location with --results-dir");
    struct mlpio_tree t;
    int is_tree = mlpio_tree_open(results_dir, &t, err);
    if (is_tree < 0)
        return -1;
    char other[256];
    if (is_tree && strcmp(t.org, org) != 0) {
        mlpio_error_set(err, MLPIO_ERR_USAGE, "%s is already the results tree of org %s, not %s",
                        results_dir, t.org, org);
        return mlpio_error_hint(err, "pass --org %s, or make the tree of %s elsewhere", t.org, org);
    }
    if (!is_tree && first_entry(results_dir, other, sizeof(other))) {
        mlpio_error_set(err, MLPIO_ERR_USAGE,
                        "%s is not empty (it holds %s) and is not a results tree: mlpio init "
                        "makes a tree only in a new or empty directory",
                        results_dir, other);
        return mlpio_error_hint(err, "choose a new directory with --results-dir");
    }
    if (!is_tree) {
        char path[PATH_MAX], when[32], text[512];
        iso_now(when, sizeof(when));
        int n = snprintf(text, sizeof(text),
                         "mlperf_results_version: %d\norgname: %s\ninitialized_at: '%s'\n"
                         "initialized_by: mlpio %s\n",
                         MLPIO_TREE_LAYOUT_VERSION, org, when, MLPIO_VERSION);
        snprintf(path, sizeof(path), "%s/%s", results_dir, MLPIO_TREE_MARKER);
        if (mlpio_file_create_exclusive(path, text, (size_t)n, err) < 0)
            return -1;
        *created = true;
    }
    for (size_t i = 0; i < sizeof(divisions) / sizeof(divisions[0]); i++)
        for (int k = 0; k < 2; k++) {
            char dir[PATH_MAX];
            snprintf(dir, sizeof(dir), "%s/%s/%s/%s", results_dir, divisions[i], org,
                     k ? "systems" : "results");
            if (mlpio_io_mkdirs(&mlpio_io_posix, dir, err) < 0)
                return -1;
        }
    return write_defaults(results_dir, org, system ? system : (is_tree ? t.system : ""), err);
}

char *mlpio_tree_leaf_parent(const char *results_dir, const struct mlpio_tree *t,
                             const char *division, const char *system, const char *benchmark,
                             const char *model, const char *command)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/%s/%s/results/%s/%s/%s", results_dir, division, t->org,
                     system, mlpio_tree_category(benchmark), model);
    if (n > 0 && (size_t)n < sizeof(path) && mlpio_tree_has_command(benchmark))
        n += snprintf(path + n, sizeof(path) - (size_t)n, "/%s", command);
    return n > 0 && (size_t)n < sizeof(path) ? strdup(path) : NULL;
}

/* ---- systems/<system>.yaml --------------------------------------------------------------- */

struct client_kind {
    const struct mlpio_host_info *h;
    int quantity;
};

static bool same_kind(const struct mlpio_host_info *a, const struct mlpio_host_info *b)
{
    return !strcmp(a->cpu_model, b->cpu_model) && a->cpu_count == b->cpu_count &&
           llround(a->mem_total_bytes / GIB) == llround(b->mem_total_bytes / GIB) &&
           !strcmp(a->os_name, b->os_name) && !strcmp(a->kernel, b->kernel);
}

/* s with '"' and '\\' escaped, for a double-quoted YAML scalar. */
static const char *quoted(const char *s, char *buf, size_t n)
{
    size_t j = 0;
    for (; *s && j + 3 < n; s++) {
        if (*s == '"' || *s == '\\')
            buf[j++] = '\\';
        buf[j++] = (unsigned char)*s < 0x20 ? ' ' : *s;
    }
    buf[j] = '\0';
    return buf;
}

static char *system_yaml(const char *system, const struct mlpio_cluster *c)
{
    struct client_kind *kinds = calloc((size_t)c->num_hosts + 1, sizeof(*kinds));
    int nk = 0;
    for (int i = 0; kinds && i < c->num_hosts; i++) {
        int k = 0;
        while (k < nk && !same_kind(kinds[k].h, &c->hosts[i].info))
            k++;
        if (k == nk)
            kinds[nk++].h = &c->hosts[i].info;
        kinds[k].quantity++;
    }
    size_t cap = 4096 + (size_t)nk * 1024, used = 0;
    char *out = kinds ? malloc(cap) : NULL, q[3][512], when[32];
    if (!out) {
        free(kinds);
        return NULL;
    }
    iso_now(when, sizeof(when));
    used += (size_t)snprintf(
        out + used, cap - used,
        "# %s: generated by mlpio %s on %s from the %d host(s) of the first run of this\n"
        "# system. The clients are what mlpio measured; the empty fields are the submitter's\n"
        "# (Rules.md 2.1.7; mlpstorage_py/system_description/schema_validator.py). mlpio never\n"
        "# rewrites this file: edit it, and add %s.pdf beside it.\n"
        "system_under_test:\n"
        "  solution:\n"
        "    submission_name: \"%s\"\n"
        "    friendly_description: \"\"\n"
        "    architecture:\n"
        "      storage_location: \"\"      # remote | local | remote_and_local\n"
        "      benchmark_API: file\n"
        "      product_API: \"\"           # file | object | block\n"
        "      client_footprint: open_source\n"
        "      client_installation: installable\n"
        "    capabilities:\n"
        "      multi_host: %s\n"
        "      simultaneous_write: \"\"    # true | false\n"
        "      simultaneous_read: \"\"     # true | false\n"
        "      remap_time_in_seconds: \"\" # 0 exactly when both are true\n"
        "  deployment: \"\"                # onprem | cloud\n"
        "  clients:\n",
        system, MLPIO_VERSION, when, c->num_hosts, system, system,
        c->num_hosts > 1 ? "true" : "false");
    for (int k = 0; k < nk && used < cap; k++) {
        const struct mlpio_host_info *h = kinds[k].h;
        used += (size_t)snprintf(out + used, cap - used,
                                 "    - friendly_description: \"%s\"\n"
                                 "      quantity: %d\n"
                                 "      chassis:\n"
                                 "        model_name: \"\"\n"
                                 "        cpu_model: \"%s\"\n"
                                 "        cpu_qty: \"\"              # sockets\n"
                                 "        cpu_cores: %d              # logical processors seen\n"
                                 "        memory_capacity: %.0f        # GiB\n"
                                 "      operating_system:\n"
                                 "        name: \"%s\"\n"
                                 "        version: \"%s\"\n",
                                 quoted(h->cpu_model, q[0], sizeof(q[0])), kinds[k].quantity, q[0],
                                 h->cpu_count, round(h->mem_total_bytes / GIB),
                                 quoted(h->os_name, q[1], sizeof(q[1])),
                                 quoted(h->kernel, q[2], sizeof(q[2])));
    }
    free(kinds);
    if (used >= cap) {
        free(out);
        return NULL;
    }
    return out;
}

int mlpio_tree_write_system(const char *results_dir, const struct mlpio_tree *t,
                            const char *division, const char *system,
                            const struct mlpio_cluster *cluster, bool *written,
                            struct mlpio_error *err)
{
    char dir[PATH_MAX], path[PATH_MAX + 160];
    struct stat st;
    *written = false;
    snprintf(dir, sizeof(dir), "%s/%s/%s/systems", results_dir, division, t->org);
    snprintf(path, sizeof(path), "%s/%s.yaml", dir, system);
    if (stat(path, &st) == 0)
        return 0;
    if (mlpio_io_mkdirs(&mlpio_io_posix, dir, err) < 0)
        return -1;
    char *text = system_yaml(system, cluster);
    if (!text)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
    int rc = mlpio_file_create_exclusive(path, text, strlen(text), err);
    free(text);
    if (rc < 0 && err->cause == EEXIST) /* another run wrote it first: that one stands */
        return 0;
    *written = rc == 0;
    return rc;
}

/* ---- provenance -------------------------------------------------------------------------- */

static int cmp_items(const void *a, const void *b)
{
    return strcmp((*(cJSON *const *)a)->string, (*(cJSON *const *)b)->string);
}

/* Sort the members of every object in j by name, in place: canonical JSON. */
static void sort_keys(cJSON *j)
{
    int n = cJSON_GetArraySize(j);
    if (!cJSON_IsObject(j) && !cJSON_IsArray(j))
        return;
    cJSON *it;
    cJSON_ArrayForEach(it, j) sort_keys(it);
    if (!cJSON_IsObject(j) || n < 2)
        return;
    cJSON **items = malloc(sizeof(*items) * (size_t)n);
    if (!items)
        return;
    int i = 0;
    cJSON_ArrayForEach(it, j) items[i++] = it;
    qsort(items, (size_t)n, sizeof(*items), cmp_items);
    for (i = 0; i < n; i++) {
        items[i]->prev = i ? items[i - 1] : items[n - 1];
        items[i]->next = i + 1 < n ? items[i + 1] : NULL;
    }
    j->child = items[0];
    free(items);
}

/* The first 16 hex digits of SHA-256 over j's canonical JSON text, into hex (17 bytes). */
static void canonical_hash(const cJSON *j, char hex[17])
{
    cJSON *copy = j ? cJSON_Duplicate(j, 1) : NULL;
    sort_keys(copy);
    char *text = copy ? cJSON_PrintUnformatted(copy) : NULL;
    cJSON_Delete(copy);
    if (!text) {
        snprintf(hex, 17, "unknown");
        return;
    }
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)text, strlen(text));
    free(text);
    sodium_bin2hex(hex, 17, h, 8);
}

/* The dotted names of j's leaves, into keys. */
static void leaf_keys(const cJSON *j, const char *prefix, cJSON *keys)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, j)
    {
        char name[512];
        if (snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] ? "." : "", it->string) >=
            (int)sizeof(name))
            continue; /* no config key is that long */
        if (cJSON_IsObject(it))
            leaf_keys(it, name, keys);
        else
            cJSON_AddItemToArray(keys, cJSON_CreateString(name));
    }
}

/* "v3.0" -> "3.0", as the reference names editions. */
const char *mlpio_tree_edition_number(const char *e)
{
    return e && e[0] == 'v' ? e + 1 : e;
}

cJSON *mlpio_tree_provenance(const cJSON *run)
{
    char when[32], by[64], hex[17], ehex[17], notes[256], allow[96];
    const char *edition = mlpio_rules_edition_of(run);
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(run, "config");
    iso_now(when, sizeof(when));
    snprintf(by, sizeof(by), "mlpio %s", MLPIO_VERSION);
    canonical_hash(config, hex);
    canonical_hash(mlpio_rules_edition_find(edition), ehex);
    snprintf(allow, sizeof(allow), "%s@1 (every config key)",
             mlpio_json_string(run, "benchmark", "unknown"));
    snprintf(notes, sizeof(notes),
             "written by mlpio, which issues its own I/O (no DLIO, no storage library); "
             "rules edition %s sha256-16 %s",
             edition, ehex);
    cJSON *p = cJSON_CreateObject(), *tool, *dlio, *lib, *core, *keys, *tags;
    cJSON_AddStringToObject(p, "schema", "mlps-run-provenance/1");
    cJSON_AddStringToObject(p, "rules_edition", mlpio_tree_edition_number(edition));
    cJSON_AddNumberToObject(p, "layout_version", MLPIO_TREE_LAYOUT_VERSION);
    tool = cJSON_AddObjectToObject(p, "tool");
    cJSON_AddStringToObject(tool, "name", "mlpio");
    cJSON_AddStringToObject(tool, "version", MLPIO_VERSION);
    cJSON_AddStringToObject(tool, "git_sha", MLPIO_GIT_SHA);
    cJSON_AddStringToObject(tool, "code_image", "unknown");
    dlio = cJSON_AddObjectToObject(p, "dlio");
    cJSON_AddStringToObject(dlio, "version", "n/a");
    cJSON_AddStringToObject(dlio, "source", "n/a");
    cJSON_AddStringToObject(dlio, "commit", "n/a");
    lib = cJSON_AddObjectToObject(p, "storage_library");
    cJSON_AddStringToObject(lib, "name", "none");
    core = cJSON_AddObjectToObject(p, "core_config");
    cJSON_AddStringToObject(core, "algorithm", "mlpio-config-sha256-v1");
    cJSON_AddStringToObject(core, "allowlist", allow);
    cJSON_AddStringToObject(core, "hash", hex);
    keys = cJSON_AddArrayToObject(core, "keys");
    leaf_keys(config, "", keys);
    cJSON_AddStringToObject(p, "stamped_at", when);
    cJSON_AddStringToObject(p, "stamped_by", by);
    tags = cJSON_AddObjectToObject(p, "provenance");
    cJSON_AddStringToObject(tags, "rules_edition", "runtime");
    cJSON_AddStringToObject(tags, "layout_version", "tool-constant");
    cJSON_AddStringToObject(tags, "tool", "tool-constant");
    cJSON_AddStringToObject(tags, "dlio", "n/a");
    cJSON_AddStringToObject(tags, "storage_library", "n/a");
    cJSON_AddStringToObject(tags, "core_config", "runtime");
    cJSON_AddStringToObject(p, "notes", notes);
    return p;
}
