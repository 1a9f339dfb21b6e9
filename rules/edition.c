/* mlpio rules engine: rules editions, see edition.h. */
#include "rules/edition.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EDITIONS_MAX 16
#define EDITION_FILE_MAX (1 << 20)

static struct {
    char *dir;
    int n;
    char *names[EDITIONS_MAX];
    cJSON *docs[EDITIONS_MAX];
    char joined[EDITIONS_MAX * 16];
    const char *forced;
} editions;

void mlpio_rules_edition_force(const char *name)
{
    editions.forced = name;
}

static void unload(void);

void mlpio_rules_editions_dir(const char *dir)
{
    unload();
    free(editions.dir);
    editions.dir = dir ? strdup(dir) : NULL;
}

static const char *editions_dir(char *buf, size_t n)
{
    if (editions.dir)
        return editions.dir;
    const char *share = getenv("MLPIO_SHARE_DIR");
    if (!share || !*share)
        return NULL;
    snprintf(buf, n, "%s/rules", share);
    return buf;
}

static char *read_text(const char *path, struct mlpio_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        mlpio_error_errno(err, MLPIO_ERR_CONFIG, errno, "cannot open rules edition %s", path);
        return NULL;
    }
    char *text = malloc(EDITION_FILE_MAX + 1);
    size_t len = text ? fread(text, 1, EDITION_FILE_MAX + 1, f) : 0;
    int bad = ferror(f) || len > EDITION_FILE_MAX;
    fclose(f);
    if (!text || bad) {
        free(text);
        mlpio_error_set(err, MLPIO_ERR_CONFIG, "cannot read rules edition %s%s", path,
                        len > EDITION_FILE_MAX ? ": larger than 1 MiB" : "");
        return NULL;
    }
    text[len] = '\0';
    return text;
}

static int bad_edition(const char *path, const char *what, struct mlpio_error *err)
{
    mlpio_error_set(err, MLPIO_ERR_CONFIG, "rules edition %s: %s", path, what);
    return mlpio_error_hint(err, "restore the file from mlpio's share/rules/ folder");
}

/* Every figure of a section cites its source, and every source names a figure. */
static int check_sources(const char *path, const char *name, const cJSON *section,
                         struct mlpio_error *err)
{
    char what[256];
    const cJSON *sources = cJSON_GetObjectItemCaseSensitive(section, "sources"), *it;
    if (!cJSON_IsObject(section) || !cJSON_IsObject(sources)) {
        snprintf(what, sizeof(what), "\"%s\" must be an object with a \"sources\" object", name);
        return bad_edition(path, what, err);
    }
    cJSON_ArrayForEach(it, section)
    {
        if (strcmp(it->string, "sources") == 0)
            continue;
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(sources, it->string))) {
            snprintf(what, sizeof(what), "figure \"%s.%s\" cites no source in \"%s.sources\"", name,
                     it->string, name);
            return bad_edition(path, what, err);
        }
    }
    cJSON_ArrayForEach(it, sources)
    {
        if (!cJSON_GetObjectItemCaseSensitive(section, it->string)) {
            snprintf(what, sizeof(what), "\"%s.sources.%s\" cites a figure the edition lacks", name,
                     it->string);
            return bad_edition(path, what, err);
        }
    }
    return 0;
}

static int check_edition(const char *path, const char *stem, const cJSON *doc,
                         struct mlpio_error *err)
{
    static const char *const sections[] = MLPIO_RULES_EDITION_SECTIONS;
    char what[256];
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(doc, "edition");
    if (!cJSON_IsObject(doc))
        return bad_edition(path, "not a JSON object", err);
    if (!cJSON_IsString(name) || strcmp(name->valuestring, stem) != 0) {
        snprintf(what, sizeof(what), "\"edition\" must be \"%s\", the file's name", stem);
        return bad_edition(path, what, err);
    }
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "title")))
        return bad_edition(path, "\"title\" must be a string", err);
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
        if (check_sources(path, sections[i], cJSON_GetObjectItemCaseSensitive(doc, sections[i]),
                          err))
            return -1;
    return 0;
}

static int load_one(const char *dir, const char *file, struct mlpio_error *err)
{
    char path[4096 + 256];
    snprintf(path, sizeof(path), "%.4095s/%.255s", dir, file);
    if (editions.n == EDITIONS_MAX)
        return bad_edition(path, "too many editions in the folder", err);
    char *text = read_text(path, err);
    if (!text)
        return -1;
    cJSON *doc = cJSON_Parse(text);
    free(text);
    if (!doc)
        return bad_edition(path, "not valid JSON", err);
    char *stem = strndup(file, strlen(file) - strlen(".json"));
    if (!stem || check_edition(path, stem, doc, err) < 0) {
        if (!stem)
            mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
        cJSON_Delete(doc);
        free(stem);
        return -1;
    }
    editions.names[editions.n] = stem;
    editions.docs[editions.n++] = doc;
    return 0;
}

static int by_version(const struct dirent **a, const struct dirent **b)
{
    return strverscmp((*a)->d_name, (*b)->d_name);
}

static int is_edition_file(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".json") == 0;
}

static void unload(void)
{
    for (int i = 0; i < editions.n; i++) {
        free(editions.names[i]);
        cJSON_Delete(editions.docs[i]);
    }
    editions.n = 0;
    editions.joined[0] = '\0';
}

int mlpio_rules_editions_load(struct mlpio_error *err)
{
    char buf[4096];
    if (editions.n > 0) /* read already; after a failure, each lookup tries (and reports) again */
        return 0;
    const char *dir = editions_dir(buf, sizeof(buf));
    if (!dir) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG, "no folder of rules editions is known");
        return mlpio_error_hint(err, "set MLPIO_SHARE_DIR to mlpio's share folder");
    }
    struct dirent **files = NULL;
    int n = scandir(dir, &files, is_edition_file, by_version), rc = 0;
    if (n < 0) {
        mlpio_error_errno(err, MLPIO_ERR_CONFIG, errno, "cannot list the rules editions in %s",
                          dir);
        return mlpio_error_hint(err, "set MLPIO_SHARE_DIR to mlpio's share folder");
    }
    for (int i = 0; i < n; i++) {
        if (rc == 0 && load_one(dir, files[i]->d_name, err) < 0)
            rc = -1;
        free(files[i]);
    }
    free(files);
    if (rc == 0 && editions.n == 0) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG, "no rules edition (*.json) in %s", dir);
        rc = mlpio_error_hint(err, "set MLPIO_SHARE_DIR to mlpio's share folder");
    }
    if (rc < 0)
        unload();
    return rc;
}

const cJSON *mlpio_rules_edition_find(const char *name)
{
    if (!name || mlpio_rules_editions_load(NULL) < 0)
        return NULL;
    for (int i = 0; i < editions.n; i++)
        if (strcmp(editions.names[i], name) == 0)
            return editions.docs[i];
    return NULL;
}

const char *mlpio_rules_edition_newest(void)
{
    if (mlpio_rules_editions_load(NULL) < 0)
        return NULL;
    return editions.names[editions.n - 1];
}

const char *mlpio_rules_edition_names(void)
{
    if (mlpio_rules_editions_load(NULL) < 0)
        return "none";
    if (!editions.joined[0]) {
        size_t used = 0;
        for (int i = 0; i < editions.n && used < sizeof(editions.joined); i++)
            used += (size_t)snprintf(editions.joined + used, sizeof(editions.joined) - used, "%s%s",
                                     i ? ", " : "", editions.names[i]);
    }
    return editions.joined;
}

const char *mlpio_rules_edition_of(const cJSON *run)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(run, "rules_edition");
    if (editions.forced)
        return editions.forced;
    return cJSON_IsString(e) ? e->valuestring : MLPIO_RULES_EDITION_LEGACY;
}

int mlpio_rules_edition_check(const char *name, const char *option, struct mlpio_error *err)
{
    if (mlpio_rules_editions_load(err) < 0)
        return -1;
    if (mlpio_rules_edition_find(name))
        return 0;
    mlpio_error_set(err, MLPIO_ERR_USAGE, "%s: unknown rules edition '%s' (known: %s)", option,
                    name ? name : "", mlpio_rules_edition_names());
    return mlpio_error_hint(err,
                            "choose one of the editions listed; the newest, %s, is the "
                            "default",
                            mlpio_rules_edition_newest());
}

int mlpio_rules_edition_section(const cJSON *run, const char *benchmark, const cJSON **out,
                                struct mlpio_error *err)
{
    const char *name = mlpio_rules_edition_of(run);
    if (mlpio_rules_editions_load(err) < 0)
        return -1;
    const cJSON *ed = mlpio_rules_edition_find(name);
    if (!ed) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "the run was judged under rules edition '%s', which this mlpio does not "
                        "know (known: %s)",
                        name, mlpio_rules_edition_names());
        return mlpio_error_hint(err,
                                "re-judge it under a known edition (validate "
                                "--rules-edition %s)",
                                mlpio_rules_edition_newest());
    }
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(ed, benchmark);
    if (!cJSON_IsObject(s)) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG, "rules edition %s has no rules for %s", name,
                        benchmark);
        return mlpio_error_hint(err, "judge the run under an edition that has them");
    }
    *out = s;
    return 0;
}

int mlpio_rules_edition_lists(const cJSON *list, const char *s)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0)
            return 1;
    }
    return 0;
}

void mlpio_rules_edition_join(const cJSON *list, char *buf, size_t n)
{
    size_t used = 0;
    const cJSON *it;
    buf[0] = '\0';
    cJSON_ArrayForEach(it, list)
    {
        if (cJSON_IsString(it) && used < n)
            used +=
                (size_t)snprintf(buf + used, n - used, "%s%s", used ? ", " : "", it->valuestring);
    }
    if (!buf[0])
        snprintf(buf, n, "none");
}

const char *mlpio_rules_edition_name_at(int i)
{
    if (i < 0 || mlpio_rules_editions_load(NULL) < 0 || i >= editions.n)
        return NULL;
    return editions.names[i];
}
