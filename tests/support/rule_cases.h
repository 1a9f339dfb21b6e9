/* Table-driven tests of a run checker (rules/).
 *
 * A checker's tests start from a clean CLOSED run description (a fixture under
 * runs/<benchmark>/) and change the few fields a rule looks at, so each case shows exactly
 * which input triggers which issue. What differs between checkers is data: a struct
 * rules_suite names the checker, its fixtures and its case tables, and rules_suite_run runs
 * them with the program's own tests. The tests here take that suite as their state.
 * Include once per test program.
 */
#ifndef MLPIO_TEST_RULE_CASES_H
#define MLPIO_TEST_RULE_CASES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/json_file.h"
#include "support/json_edit.h"
#include "rules/rules.h"
#include "support/files.h"

/* Two hosts: a ranks on n1 (from rank 0), then b ranks on n2. */
#define TWO_HOSTS(a, b)                                                                            \
    "[{\"hostname\": \"n1\", \"ranks\": " #a ", \"first_rank\": 0},"                               \
    " {\"hostname\": \"n2\", \"ranks\": " #b ", \"first_rank\": " #a "}]"

struct mutation {
    const char *path;
    const char *value; /* JSON text; NULL deletes */
};

/* A clean run changed by set and override, and the one issue that must come of it. */
struct rule_case {
    const char *name;
    struct mutation set[4];
    struct {
        const char *key, *value, *reference, *source;
    } override;
    enum mlpio_verdict verdict;
    const char *parameter; /* the issue expected (NULL: no issue at all) */
    enum mlpio_issue_level level;
    const char *hint_has; /* substring of that issue's hint, or NULL */
    int extra;            /* issues expected besides that one (usually 0) */
};

/* A run the checker must refuse, naming the field at fault. */
struct malformed_case {
    const char *name;
    const char *file;    /* fixture to start from (NULL: the suite's clean run) */
    struct mutation set; /* applied when path is set */
    const char *field;   /* must appear in the error message */
};

/* A fixture file of a whole run, judged as it is. */
struct file_case {
    const char *file;
    enum mlpio_verdict verdict;
    int count;                 /* issues */
    const char *parameters[2]; /* issues that must be among them (NULL ends) */
};

struct rules_suite {
    const char *group;     /* CMocka group name */
    const char *benchmark; /* the checker's name, and its fixtures' folder runs/<benchmark> */
    const char *clean;     /* fixture of a clean CLOSED run */
    mlpio_rules_checker_fn check;
    const struct rule_case *rules;
    size_t nrules;
    const struct malformed_case *malformed;
    size_t nmalformed;
    const struct file_case *files;
    size_t nfiles;
    /* The folder the run keeps its data in, for the folder cases below: where the run
     * description has it, the parameter of its issue, and what the issue's hint says. */
    struct {
        const char *path, *parameter, *hint_has;
    } folder;
    int cluster; /* 1: the run description has world_size and cluster.hosts (cluster cases) */
};

/* ---- cases of the rules every checker shares (rules/fields.h) --------------------------- */

/* The run options: scale, the null backend, verification. */
static const struct rule_case run_option_cases[] = {
    {"scale_half",
     {{"options.scale", "0.5"}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "scale",
     .level = MLPIO_ISSUE_OPEN,
     .hint_has = "--scale 1"},
    {"scale_above_one_ok", {{"options.scale", "2"}}, .verdict = MLPIO_VERDICT_CLOSED},
    {"io_api_null",
     {{"options.io_api", "\"null\""}},
     .verdict = MLPIO_VERDICT_INVALID,
     .parameter = "io_api",
     .level = MLPIO_ISSUE_INVALID},
    {"io_api_mpiio_ok", {{"options.io_api", "\"mpiio\""}}, .verdict = MLPIO_VERDICT_CLOSED},
    {"verify_on",
     {{"options.verify", "true"}},
     .verdict = MLPIO_VERDICT_OPEN,
     .parameter = "verify",
     .level = MLPIO_ISSUE_OPEN},
};

/* The data folder against the results directory: each way one can meet the other, then a
 * sibling whose name only starts the same. The folder goes to the suite's folder.path. */
struct folder_case {
    const char *name, *results, *folder;
    enum mlpio_verdict verdict;
};

static const struct folder_case folder_cases[] = {
    {"folder_is_results", "\"/data/run\"", "\"/data/run/\"", MLPIO_VERDICT_INVALID},
    {"folder_inside_results", "\"/data/run\"", "\"/data/run/data\"", MLPIO_VERDICT_INVALID},
    {"results_inside_folder", "\"/data//run/./results\"", "\"/data/run\"", MLPIO_VERDICT_INVALID},
    {"folder_dotdot_into_results", "\"/data/results\"", "\"/data/x/../results/data\"",
     MLPIO_VERDICT_INVALID},
    {"folder_sibling_prefix_ok", "\"/a/b\"", "\"/a/bc\"", MLPIO_VERDICT_CLOSED},
};

/* Fields every run description has, read by the shared readers. */
static const struct malformed_case common_malformed_cases[] = {
    {"no_model", NULL, {"model", NULL}, "\"model\""},
    {"no_config", NULL, {"config", NULL}, "\"config\""},
    {"no_facts", NULL, {"facts", NULL}, "\"facts\""},
    {"no_options", NULL, {"options", NULL}, "\"options\""},
    {"scale_zero", NULL, {"options.scale", "0"}, "\"options.scale\""},
    {"scale_string", NULL, {"options.scale", "\"1\""}, "\"options.scale\""},
    {"io_api_json_null", NULL, {"options.io_api", "null"}, "\"options.io_api\""},
    {"verify_number", NULL, {"options.verify", "1"}, "\"options.verify\""},
    {"relative_results", NULL, {"options.results_dir", "\"results\""}, "\"options.results_dir\""},
    {"overrides_not_array", NULL, {"overrides", "{}"}, "\"overrides\""},
    {"override_without_key",
     NULL,
     {"overrides", "[{\"value\": 1, \"source\": \"cli\"}]"},
     "\"overrides[0].key\""},
    {"override_without_value",
     NULL,
     {"overrides", "[{\"key\": \"a.b\", \"source\": \"cli\"}]"},
     "\"overrides[0].value\""},
    {"override_without_source",
     NULL,
     {"overrides", "[{\"key\": \"a.b\", \"value\": 2}]"},
     "\"overrides[0].source\""},
};

/* world_size and cluster.hosts, in a suite whose runs have them. */
static const struct malformed_case cluster_malformed_cases[] = {
    {"world_size_zero", NULL, {"world_size", "0"}, "\"world_size\""},
    {"no_cluster", NULL, {"cluster", NULL}, "\"cluster\""},
    {"hosts_empty", NULL, {"cluster.hosts", "[]"}, "\"cluster.hosts\""},
    {"host_ranks_missing",
     NULL,
     {"cluster.hosts", "[{\"hostname\": \"n1\", \"ranks\": 4}, {\"hostname\": \"n2\"}]"},
     "\"cluster.hosts[1].ranks\""},
    {"host_not_object", NULL, {"cluster.hosts", "[3]"}, "\"cluster.hosts[0]\""},
};

#define RULE_CASES_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The folder case c as a rule case of suite s. */
static inline struct rule_case folder_rule_case(const struct rules_suite *s,
                                                const struct folder_case *c)
{
    struct rule_case r = {
        .name = c->name,
        .set = {{"options.results_dir", c->results}, {s->folder.path, c->folder}},
        .verdict = c->verdict,
    };
    if (c->verdict != MLPIO_VERDICT_CLOSED) {
        r.parameter = s->folder.parameter;
        r.level = MLPIO_ISSUE_INVALID;
        r.hint_has = s->folder.hint_has;
    }
    return r;
}

/* The case tables of a suite, with their sizes: RULES_TABLES(rule_cases, malformed_cases,
 * file_cases) in its initializer. */
#define RULES_TABLES(rules_, malformed_, files_)                                                   \
    .rules = (rules_), .nrules = sizeof(rules_) / sizeof((rules_)[0]), .malformed = (malformed_),  \
    .nmalformed = sizeof(malformed_) / sizeof((malformed_)[0]), .files = (files_),                 \
    .nfiles = sizeof(files_) / sizeof((files_)[0])

static inline cJSON *load_fixture(const struct rules_suite *s, const char *name)
{
    char path[PATH_MAX], sub[64];
    struct mlpio_error err = {0};
    snprintf(sub, sizeof(sub), "runs/%s", s->benchmark);
    cJSON *json = mlpio_json_read_file(fixture_path(path, sizeof(path), sub, name), &err);
    if (!json)
        fail_msg("%s: %s", path, err.message);
    return json;
}

static inline void add_override(cJSON *run, const char *key, const char *value,
                                const char *reference, const char *source)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "key", key);
    cJSON_AddItemToObject(o, "value", cJSON_Parse(value));
    cJSON_AddItemToObject(o, "reference", cJSON_Parse(reference));
    cJSON_AddStringToObject(o, "source", source);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(run, "overrides"), o);
}

static inline const struct mlpio_issue *find_issue(const struct mlpio_verdict_report *v,
                                                   const char *parameter)
{
    for (int i = 0; i < v->count; i++)
        if (strcmp(v->issues[i].parameter, parameter) == 0)
            return &v->issues[i];
    return NULL;
}

/* ---- tests whose state is the suite ------------------------------------------------------ */

static inline void test_clean_closed_run(void **state)
{
    const struct rules_suite *s = *state;
    cJSON *run = load_fixture(s, s->clean);
    struct mlpio_verdict_report *v = mlpio_verdict_create();
    struct mlpio_error err = {0};
    assert_int_equal(s->check(run, v, &err), 0);
    for (int i = 0; i < v->count; i++)
        print_message("unexpected issue: %s: %s\n", v->issues[i].parameter, v->issues[i].message);
    assert_int_equal(v->count, 0);
    assert_int_equal(mlpio_verdict_of(v), MLPIO_VERDICT_CLOSED);
    mlpio_verdict_destroy(&v);
    cJSON_Delete(run);
}

/* Through the registry, as a run is judged. */
static inline void test_fixture_runs(void **state)
{
    const struct rules_suite *s = *state;
    for (size_t i = 0; i < s->nfiles; i++) {
        const struct file_case *c = &s->files[i];
        cJSON *run = load_fixture(s, c->file);
        struct mlpio_verdict_report *v = mlpio_verdict_create();
        struct mlpio_error err = {0};
        assert_int_equal(mlpio_rules_run_checker(s->benchmark)(run, v, &err), 0);
        if (mlpio_verdict_of(v) != c->verdict || v->count != c->count)
            fail_msg("%s: verdict %s with %d issues", c->file,
                     mlpio_verdict_name(mlpio_verdict_of(v)), v->count);
        for (int p = 0; p < 2 && c->parameters[p]; p++)
            assert_non_null(find_issue(v, c->parameters[p]));
        mlpio_verdict_destroy(&v);
        cJSON_Delete(run);
    }
}

/* Every field of a real run replaced by every other JSON type, or removed: the checker
 * either judges the run or fails naming a field, and never touches the report on failure. */
static inline void test_every_field_mutated(void **state)
{
    const struct rules_suite *s = *state;
    static const char *const variants[] = {NULL, "null", "\"s\"", "-1", "true", "[]", "{}"};
    cJSON *pristine = load_fixture(s, s->clean);
    int judged = 0, refused = 0;
    for (int node = 0;; node++) {
        for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
            cJSON *run = cJSON_Duplicate(pristine, 1);
            cJSON *parent = NULL;
            int k = node;
            cJSON *target = nth_node(run, &k, &parent);
            if (!target) {
                cJSON_Delete(run);
                cJSON_Delete(pristine);
                assert_true(judged > 0 && refused > 0);
                return;
            }
            if (variants[i])
                assert_true(cJSON_ReplaceItemViaPointer(parent, target, cJSON_Parse(variants[i])));
            else
                cJSON_Delete(cJSON_DetachItemViaPointer(parent, target));
            struct mlpio_verdict_report *v = mlpio_verdict_create();
            struct mlpio_error err = {0};
            if (s->check(run, v, &err) == 0) {
                judged++;
            } else {
                refused++;
                assert_int_equal(err.category, MLPIO_ERR_CONFIG);
                assert_non_null(strstr(err.message, "field"));
                assert_int_equal(v->count, 0);
            }
            mlpio_verdict_destroy(&v);
            cJSON_Delete(run);
        }
    }
}

/* Something that is no run description is refused, and the report stays empty; so is a run
 * with no report to add its issues to. */
static inline void test_refuses_non_runs(void **state)
{
    const struct rules_suite *s = *state;
    struct mlpio_verdict_report *v = mlpio_verdict_create();
    struct mlpio_error err = {0};
    cJSON *arr = cJSON_CreateArray();
    assert_int_equal(s->check(arr, v, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_CONFIG);
    assert_int_equal(s->check(NULL, v, &err), -1);
    assert_int_equal(v->count, 0);
    cJSON_Delete(arr);
    mlpio_verdict_destroy(&v);
    cJSON *run = load_fixture(s, s->clean);
    assert_int_equal(s->check(run, NULL, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_INTERNAL);
    cJSON_Delete(run);
}

/* ---- tests whose state is one case of a table --------------------------------------------- */

struct rules_case_state {
    const struct rules_suite *suite;
    const void *c; /* a struct rule_case or a struct malformed_case of the suite */
};

static inline void test_rule_case(void **state)
{
    const struct rules_case_state *st = *state;
    const struct rules_suite *s = st->suite;
    const struct rule_case *c = st->c;
    cJSON *run = load_fixture(s, s->clean);
    for (int i = 0; i < 4 && c->set[i].path; i++)
        set_path(run, c->set[i].path, c->set[i].value);
    if (c->override.key)
        add_override(run, c->override.key, c->override.value, c->override.reference,
                     c->override.source);
    struct mlpio_verdict_report *v = mlpio_verdict_create();
    struct mlpio_error err = {0};
    if (s->check(run, v, &err) != 0)
        fail_msg("%s: %s", c->name, err.message);
    for (int i = 0; i < v->count; i++)
        print_message("  %s: [%d] %s: %s (hint: %s)\n", c->name, v->issues[i].level,
                      v->issues[i].parameter, v->issues[i].message, v->issues[i].hint);
    assert_int_equal(mlpio_verdict_of(v), c->verdict);
    if (!c->parameter) {
        assert_int_equal(v->count, 0);
    } else {
        /* One rule, one finding: no rule fires on a neighbour's input. */
        assert_int_equal(v->count, 1 + c->extra);
        const struct mlpio_issue *is = find_issue(v, c->parameter);
        assert_non_null(is);
        assert_int_equal(is->level, c->level);
        assert_true(is->message[0] != '\0');
        assert_true(is->expected[0] != '\0');
        assert_true(is->actual[0] != '\0');
        assert_true(is->hint[0] != '\0');
        if (c->hint_has && !strstr(is->hint, c->hint_has))
            fail_msg("hint \"%s\" lacks \"%s\"", is->hint, c->hint_has);
    }
    mlpio_verdict_destroy(&v);
    cJSON_Delete(run);
}

static inline void test_malformed_case(void **state)
{
    const struct rules_case_state *st = *state;
    const struct rules_suite *s = st->suite;
    const struct malformed_case *c = st->c;
    cJSON *run = load_fixture(s, c->file ? c->file : s->clean);
    if (c->set.path)
        set_path(run, c->set.path, c->set.value);
    struct mlpio_verdict_report *v = mlpio_verdict_create();
    /* An earlier checker's issue must survive a failed check untouched. */
    assert_int_equal(mlpio_verdict_add(v, MLPIO_ISSUE_WARNING, "earlier", "", "", "", "kept"), 0);
    struct mlpio_error err = {0};
    assert_int_equal(s->check(run, v, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_CONFIG);
    if (!strstr(err.message, c->field))
        fail_msg("%s: message \"%s\" does not name %s", c->name, err.message, c->field);
    assert_true(err.hint[0] != '\0');
    assert_int_equal(v->count, 1);
    assert_string_equal(v->issues[0].parameter, "earlier");
    mlpio_verdict_destroy(&v);
    cJSON_Delete(run);
}

/* Runs the program's own tests, the tests above whose state is the suite, then one test per
 * rule case (rule_<name>) and per malformed case (malformed_<name>): the suite's own, then the
 * shared ones (the run options, the folder when the suite names it, the common fields, the
 * cluster's when the suite's runs have one). Returns the number of failed tests, or 1 when out
 * of memory. */
static inline int rules_suite_run(const struct rules_suite *s, const struct CMUnitTest *own,
                                  size_t nown)
{
    const struct CMUnitTest whole[] = {
        cmocka_unit_test_prestate(test_clean_closed_run, (void *)s),
        cmocka_unit_test_prestate(test_fixture_runs, (void *)s),
        cmocka_unit_test_prestate(test_every_field_mutated, (void *)s),
        cmocka_unit_test_prestate(test_refuses_non_runs, (void *)s),
    };
    const size_t nwhole = RULE_CASES_COUNT(whole);
    const size_t nfolder = s->folder.path ? RULE_CASES_COUNT(folder_cases) : 0;
    const size_t ncluster = s->cluster ? RULE_CASES_COUNT(cluster_malformed_cases) : 0;
    const size_t nrules = s->nrules + RULE_CASES_COUNT(run_option_cases) + nfolder;
    const size_t ncases =
        nrules + s->nmalformed + RULE_CASES_COUNT(common_malformed_cases) + ncluster;
    struct CMUnitTest *tests = calloc(nown + nwhole + ncases, sizeof(*tests));
    struct rules_case_state *states = calloc(ncases, sizeof(*states));
    struct rule_case *folder = calloc(nfolder + 1, sizeof(*folder));
    char(*names)[96] = calloc(ncases, sizeof(*names));
    int rc = 1;
    if (tests && states && folder && names) {
        size_t n = 0, k = 0;
        for (size_t i = 0; i < nown; i++)
            tests[n++] = own[i];
        for (size_t i = 0; i < nwhole; i++)
            tests[n++] = whole[i];
        for (size_t i = 0; i < s->nrules; i++)
            states[k++].c = &s->rules[i];
        for (size_t i = 0; i < RULE_CASES_COUNT(run_option_cases); i++)
            states[k++].c = &run_option_cases[i];
        for (size_t i = 0; i < nfolder; i++) {
            folder[i] = folder_rule_case(s, &folder_cases[i]);
            states[k++].c = &folder[i];
        }
        for (size_t i = 0; i < s->nmalformed; i++)
            states[k++].c = &s->malformed[i];
        for (size_t i = 0; i < RULE_CASES_COUNT(common_malformed_cases); i++)
            states[k++].c = &common_malformed_cases[i];
        for (size_t i = 0; i < ncluster; i++)
            states[k++].c = &cluster_malformed_cases[i];
        for (size_t i = 0; i < ncases; i++) {
            bool rule = i < nrules;
            states[i].suite = s;
            snprintf(names[i], sizeof(names[i]), "%s_%s", rule ? "rule" : "malformed",
                     rule ? ((const struct rule_case *)states[i].c)->name
                          : ((const struct malformed_case *)states[i].c)->name);
            tests[n++] =
                (struct CMUnitTest){.name = names[i],
                                    .test_func = rule ? test_rule_case : test_malformed_case,
                                    .initial_state = &states[i]};
        }
        rc = _cmocka_run_group_tests(s->group, tests, n, NULL, NULL);
    }
    free(tests);
    free(states);
    free(folder);
    free(names);
    return rc;
}

#endif
