/* Tests of the rules editions (rules/edition.h) and of the checkers that read them.
 *
 * The figure tests are driven by the shipped editions themselves (the JSON files of share/rules):
 * for every edition, every model, accelerator, AU floor, rank count, checkpoint count and KV-cache
 * option it lists is put into a clean run description and judged, on both sides of each
 * figure. A changed figure therefore changes what these tests expect, and a checker that
 * ignored the edition's figure fails them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/workload.h"
#include "report/json_file.h"
#include "rules/edition.h"
#include "rules/rules.h"
#include "support/files.h"
#include "support/json_edit.h"

static const char *share(void)
{
    const char *s = getenv("MLPIO_SHARE_DIR");
    if (!s)
        fail_msg("MLPIO_SHARE_DIR is not set");
    return s;
}

static void use_shipped(void)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/rules", share());
    mlpio_rules_editions_dir(dir);
}

static cJSON *fixture(const char *benchmark, const char *name)
{
    char path[PATH_MAX], sub[64];
    struct mlpio_error err = {0};
    snprintf(sub, sizeof(sub), "runs/%s", benchmark);
    cJSON *json = mlpio_json_read_file(fixture_path(path, sizeof(path), sub, name), &err);
    if (!json)
        fail_msg("%s: %s", path, err.message);
    return json;
}

static void set_string(cJSON *run, const char *path, const char *s)
{
    char text[256];
    snprintf(text, sizeof(text), "\"%s\"", s);
    set_path(run, path, text);
}

static void set_number(cJSON *run, const char *path, double x)
{
    char text[64];
    snprintf(text, sizeof(text), "%.17g", x);
    set_path(run, path, text);
}

/* Judge run and return the level of the issue on parameter, or -1 when there is none. */
static int level_of(mlpio_rules_checker_fn check, const cJSON *run, const char *parameter)
{
    struct mlpio_verdict_report *v = mlpio_verdict_create();
    struct mlpio_error err = {0};
    if (check(run, v, &err) != 0)
        fail_msg("the checker refused the run: %s", err.message);
    int level = -1;
    for (int i = 0; i < v->count; i++)
        if (strcmp(v->issues[i].parameter, parameter) == 0)
            level = (int)v->issues[i].level;
    mlpio_verdict_destroy(&v);
    return level;
}

static const cJSON *section(const char *edition, const char *benchmark)
{
    const cJSON *s = cJSON_GetObjectItem(mlpio_rules_edition_find(edition), benchmark);
    assert_non_null(s);
    return s;
}

static const cJSON *at(const cJSON *obj, const char *dotted)
{
    const cJSON *it = mlpio_json_get_path(obj, dotted);
    if (!it)
        fail_msg("the edition lacks %s", dotted);
    return it;
}

/* ---- loading ------------------------------------------------------------------------------ */

static void test_shipped_editions(void **state)
{
    (void)state;
    use_shipped();
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_rules_editions_load(&err), 0);
    assert_string_equal(mlpio_rules_edition_names(), "v2.0, v3.0");
    assert_string_equal(mlpio_rules_edition_newest(), "v3.0");
    assert_null(mlpio_rules_edition_find("v9"));
    assert_int_equal(mlpio_rules_edition_check("v9", "--rules-edition", &err), -1);
    assert_non_null(strstr(err.message, "known: v2.0, v3.0"));
    /* A run without an edition was recorded before editions: v2.0. */
    cJSON *run = cJSON_CreateObject();
    assert_string_equal(mlpio_rules_edition_of(run), MLPIO_RULES_EDITION_LEGACY);
    cJSON_AddStringToObject(run, "rules_edition", "v3.0");
    assert_string_equal(mlpio_rules_edition_of(run), "v3.0");
    mlpio_rules_edition_force("v2.0");
    assert_string_equal(mlpio_rules_edition_of(run), "v2.0");
    mlpio_rules_edition_force(NULL);
    cJSON_Delete(run);
}

/* An edition file in a scratch folder, and the error loading it gives. */
static void expect_refused(const char *dir, const char *name, const char *text,
                           const char *expected)
{
    char path[PATH_MAX];
    file_write(path_join(path, dir, name), text, strlen(text));
    mlpio_rules_editions_dir(dir);
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_rules_editions_load(&err), -1);
    if (!strstr(err.message, expected))
        fail_msg("expected \"%s\" in: %s", expected, err.message);
    assert_null(mlpio_rules_edition_newest());
    remove(path);
}

#define SECTION(figure) "{\"" figure "\": 1, \"sources\": {\"" figure "\": \"Rules.md\"}}"
#define EDITION(name, training)                                                                    \
    "{\"edition\": \"" name "\", \"title\": \"t\", \"training\": " training                        \
    ", \"checkpointing\": " SECTION("a") ", \"kvcache\": " SECTION("b") "}"

static void test_damaged_editions(void **state)
{
    const char *dir = ((struct scratch *)*state)->dir;
    expect_refused(dir, "v1.json", "{not json", "not valid JSON");
    expect_refused(dir, "v1.json", EDITION("v2", SECTION("x")), "must be \"v1\"");
    expect_refused(dir, "v1.json", EDITION("v1", "{\"runs\": 6, \"sources\": {}}"),
                   "figure \"training.runs\" cites no source");
    expect_refused(dir, "v1.json",
                   EDITION("v1", "{\"runs\": 6, \"sources\": {\"runs\": \"a\", \"old\": \"b\"}}"),
                   "\"training.sources.old\" cites a figure the edition lacks");
    expect_refused(dir, "v1.json", "{\"edition\": \"v1\", \"title\": \"t\"}",
                   "\"training\" must be an object");
    /* A good one loads. */
    char path[PATH_MAX];
    const char *good = EDITION("v1", SECTION("x"));
    file_write(path_join(path, dir, "v1.json"), good, strlen(good));
    mlpio_rules_editions_dir(dir);
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_rules_editions_load(&err), 0);
    assert_string_equal(mlpio_rules_edition_names(), "v1");
    remove(path);
    use_shipped();
}

/* The checkpoint model definitions and the editions agree on the job each model is. */
static void test_checkpoint_models_agree(void **state)
{
    (void)state;
    use_shipped();
    const char *e;
    for (int i = 0; (e = mlpio_rules_edition_name_at(i)); i++) {
        const cJSON *m;
        cJSON_ArrayForEach(m, at(section(e, "checkpointing"), "models"))
        {
            char path[PATH_MAX];
            struct mlpio_error err = {0};
            snprintf(path, sizeof(path), "%s/checkpointing/%s.json", share(), m->string);
            cJSON *def = mlpio_json_read_file(path, &err);
            if (!def)
                fail_msg("%s: %s", path, err.message);
            assert_int_equal(mlpio_json_number(def, "reference.closed_ranks", -1),
                             mlpio_json_number(m, "closed_ranks", -2));
            assert_int_equal(mlpio_json_number(def, "parallelism.tensor", 0) *
                                 mlpio_json_number(def, "parallelism.pipeline", 0),
                             mlpio_json_number(m, "tp_pp", -1));
            cJSON_Delete(def);
        }
    }
}

/* ---- training ----------------------------------------------------------------------------- */

static cJSON *training_run(const char *edition, const char *model, const char *accel)
{
    cJSON *run = fixture("training", "closed_unet3d.json");
    set_string(run, "rules_edition", edition);
    set_string(run, "model", model);
    set_string(run, "options.variant", accel);
    return run;
}

static int training_level(const char *edition, const char *model, const char *accel,
                          const char *parameter)
{
    cJSON *run = training_run(edition, model, accel);
    int level = level_of(mlpio_rules_check_training, run, parameter);
    cJSON_Delete(run);
    return level;
}

static void test_training_sets(void **state)
{
    (void)state;
    use_shipped();
    const char *e;
    for (int i = 0; (e = mlpio_rules_edition_name_at(i)); i++) {
        const cJSON *t = section(e, "training"), *m, *a;
        const cJSON *closed_models = at(t, "closed.models"),
                    *closed_accels = at(t, "closed.accelerators");
        const char *accel0 = cJSON_GetArrayItem(closed_accels, 0)->valuestring;
        const char *model0 = cJSON_GetArrayItem(closed_models, 0)->valuestring;
        cJSON_ArrayForEach(m, closed_models)
        {
            cJSON_ArrayForEach(a, closed_accels)
            {
                assert_int_equal(training_level(e, m->valuestring, a->valuestring, "model"), -1);
                assert_int_equal(
                    training_level(e, m->valuestring, a->valuestring, "accelerator_type"), -1);
            }
        }
        cJSON_ArrayForEach(a, at(t, "whatif_accelerators"))
        {
            assert_int_equal(training_level(e, model0, a->valuestring, "accelerator_type"),
                             MLPIO_ISSUE_INVALID);
        }
        cJSON_ArrayForEach(m, at(t, "open.models"))
        {
            if (!mlpio_rules_edition_lists(closed_models, m->valuestring))
                assert_int_equal(training_level(e, m->valuestring, accel0, "model"),
                                 MLPIO_ISSUE_OPEN);
        }
        assert_int_equal(training_level(e, "no-such-model", accel0, "model"), MLPIO_ISSUE_INVALID);
        assert_int_equal(training_level(e, model0, "no-such-accelerator", "accelerator_type"),
                         MLPIO_ISSUE_INVALID);
    }
}

static void test_training_au_floors(void **state)
{
    (void)state;
    use_shipped();
    const char *e;
    for (int i = 0; (e = mlpio_rules_edition_name_at(i)); i++) {
        const cJSON *t = section(e, "training"), *f;
        const char *accel = cJSON_GetArrayItem(at(t, "closed.accelerators"), 0)->valuestring;
        cJSON_ArrayForEach(f, at(t, "min_au"))
        {
            cJSON *run = training_run(e, f->string, accel);
            set_number(run, "config.metric.au", f->valuedouble);
            assert_int_equal(level_of(mlpio_rules_check_training, run, "metric.au"), -1);
            set_number(run, "config.metric.au", f->valuedouble - 0.01);
            assert_int_equal(level_of(mlpio_rules_check_training, run, "metric.au"),
                             MLPIO_ISSUE_INVALID);
            cJSON_Delete(run);
        }
    }
}

static void test_training_prefetch(void **state)
{
    (void)state;
    use_shipped();
    const char *e;
    for (int i = 0; (e = mlpio_rules_edition_name_at(i)); i++) {
        const cJSON *t = section(e, "training");
        double most = at(t, "max_prefetch")->valuedouble;
        cJSON *run = fixture("training", "closed_unet3d.json");
        set_string(run, "rules_edition", e);
        set_number(run, "config.reader.prefetch_size", most);
        assert_int_equal(level_of(mlpio_rules_check_training, run, "reader.prefetch_size"), -1);
        set_number(run, "config.reader.prefetch_size", most + 1);
        assert_int_equal(level_of(mlpio_rules_check_training, run, "reader.prefetch_size"),
                         MLPIO_ISSUE_INVALID);
        cJSON_Delete(run);
    }
}

/* The datasize rule's figures reach the workload (mlpio_rules_training_datasize) and the
 * checker's message as the edition has them. */
static void test_training_datasize(void **state)
{
    (void)state;
    use_shipped();
    const char *e;
    for (int i = 0; (e = mlpio_rules_edition_name_at(i)); i++) {
        const cJSON *t = section(e, "training");
        double multiple = at(t, "datasize.memory_multiple")->valuedouble;
        int steps = at(t, "datasize.min_steps_per_epoch")->valueint;
        cJSON *run = fixture("training", "closed_unet3d.json");
        set_string(run, "rules_edition", e);
        double got_multiple = 0;
        int got_steps = 0;
        struct mlpio_error err = {0};
        assert_int_equal(mlpio_rules_training_datasize(run, &got_multiple, &got_steps, &err), 0);
        assert_true(got_multiple == multiple);
        assert_int_equal(got_steps, steps);

        /* A run recorded without the figures is judged by the edition's. */
        cJSON_DeleteItemFromObject(cJSON_GetObjectItem(run, "facts"), "datasize_memory_multiple");
        cJSON_DeleteItemFromObject(cJSON_GetObjectItem(run, "facts"), "datasize_min_steps");
        set_number(run, "facts.datasize_num_files", 1e9);
        struct mlpio_verdict_report *v = mlpio_verdict_create();
        assert_int_equal(mlpio_rules_check_training(run, v, &err), 0);
        char says[96];
        snprintf(says, sizeof(says), "(%gx the clients' memory and %d steps per epoch)", multiple,
                 steps);
        int found = 0;
        for (int k = 0; k < v->count; k++)
            found |= strcmp(v->issues[k].parameter, "dataset.num_files_train") == 0 &&
                     strstr(v->issues[k].message, says) != NULL;
        if (!found)
            fail_msg("%s: no dataset issue says \"%s\"", e, says);
        mlpio_verdict_destroy(&v);

        cJSON_Delete(run);
    }
}

/* ---- checkpointing ------------------------------------------------------------------------ */

static cJSON *ckpt_run(const char *edition, const char *accel)
{
    cJSON *run = fixture("checkpointing", "closed_8b.json");
    set_string(run, "rules_edition", edition);
    set_string(run, "config.checkpoint.accelerator_type", accel);
    return run;
}

static int ckpt_level(const cJSON *run, const char *parameter)
{
    return level_of(mlpio_rules_check_checkpointing, run, parameter);
}

static void test_ckpt_accelerators_and_memory(void **state)
{
    (void)state;
    use_shipped();
    const char *e;
    for (int i = 0; (e = mlpio_rules_edition_name_at(i)); i++) {
        const cJSON *c = section(e, "checkpointing"), *a;
        cJSON_ArrayForEach(a, at(c, "closed.accelerators"))
        {
            cJSON *run = ckpt_run(e, a->valuestring);
            assert_int_equal(ckpt_level(run, "checkpoint.accelerator_type"), -1);
            /* The checkpoint the closed ranks' memory just holds, then one byte more. */
            double ranks = at(c, "models.llama3-8b.closed_ranks")->valuedouble;
            double gb = at(at(c, "accelerator_memory_GB"), a->valuestring)->valuedouble;
            set_number(run, "facts.checkpoint_bytes_full", ranks * gb * 1e9);
            assert_int_equal(ckpt_level(run, "accelerator_memory_GB"), -1);
            set_number(run, "facts.checkpoint_bytes_full", ranks * gb * 1e9 + 1);
            assert_int_equal(ckpt_level(run, "accelerator_memory_GB"),
                             strcmp(at(c, "memory_shortfall")->valuestring, "invalid") == 0
                                 ? MLPIO_ISSUE_INVALID
                                 : MLPIO_ISSUE_WARNING);
            cJSON_Delete(run);
        }
        cJSON_ArrayForEach(a, at(c, "whatif_accelerators"))
        {
            cJSON *run = ckpt_run(e, a->valuestring);
            assert_int_equal(ckpt_level(run, "checkpoint.accelerator_type"), MLPIO_ISSUE_INVALID);
            cJSON_Delete(run);
        }
    }
}

static void test_ckpt_counts(void **state)
{
    (void)state;
    use_shipped();
    const char *e;
    for (int i = 0; (e = mlpio_rules_edition_name_at(i)); i++) {
        const cJSON *c = section(e, "checkpointing");
        const char *accel = cJSON_GetArrayItem(at(c, "closed.accelerators"), 0)->valuestring;
        cJSON *run = ckpt_run(e, accel);
        double n = at(c, "num_checkpoints")->valuedouble;
        set_number(run, "config.checkpoint.num_checkpoints_write", n);
        assert_int_equal(ckpt_level(run, "checkpoint.num_checkpoints_write"), -1);
        set_number(run, "config.checkpoint.num_checkpoints_write", n + 1);
        assert_int_equal(ckpt_level(run, "checkpoint.num_checkpoints_write"), MLPIO_ISSUE_OPEN);
        set_number(run, "config.checkpoint.num_checkpoints_write", n);
        /* The fixture's one host carries every rank: at the minimum per host, then below. */
        double least = at(c, "min_ranks_per_host")->valuedouble;
        cJSON *host = cJSON_GetArrayItem(mlpio_json_get_path(run, "cluster.hosts"), 0);
        cJSON_ReplaceItemInObject(host, "ranks", cJSON_CreateNumber(least));
        assert_int_equal(ckpt_level(run, "ranks_per_host"), -1);
        cJSON_ReplaceItemInObject(host, "ranks", cJSON_CreateNumber(least - 1));
        assert_int_equal(ckpt_level(run, "ranks_per_host"), MLPIO_ISSUE_OPEN);
        cJSON_Delete(run);
    }
}

/* Fewer ranks than the job: subset mode where the edition allows it, OPEN in multiples of
 * TP x PP, INVALID otherwise. The fixture is llama3-8b: its figures are the edition's. */
static void test_ckpt_ranks(void **state)
{
    (void)state;
    use_shipped();
    const char *e;
    for (int i = 0; (e = mlpio_rules_edition_name_at(i)); i++) {
        const cJSON *c = section(e, "checkpointing");
        const char *accel = cJSON_GetArrayItem(at(c, "closed.accelerators"), 0)->valuestring;
        double closed = at(c, "models.llama3-8b.closed_ranks")->valuedouble;
        cJSON *run = ckpt_run(e, accel);
        assert_int_equal(ckpt_level(run, "world_size"), -1);
        set_number(run, "world_size", closed + 1);
        assert_int_equal(ckpt_level(run, "world_size"), MLPIO_ISSUE_INVALID);
        set_number(run, "world_size", closed / 2);
        assert_int_equal(ckpt_level(run, "world_size"), MLPIO_ISSUE_OPEN);
        cJSON_Delete(run);
    }
    /* v3.0 lets only llama3-8b run a subset; v2.0 every model (Rules 4.3.5 of each). */
    assert_true(mlpio_rules_edition_lists(at(section("v3.0", "checkpointing"), "subset.models"),
                                          "llama3-8b"));
    assert_false(mlpio_rules_edition_lists(at(section("v3.0", "checkpointing"), "subset.models"),
                                           "llama3-70b"));
    assert_true(mlpio_rules_edition_lists(at(section("v2.0", "checkpointing"), "subset.models"),
                                          "llama3-70b"));
}

/* ---- kvcache ------------------------------------------------------------------------------ */

static void test_kvcache_options(void **state)
{
    (void)state;
    use_shipped();
    static const char *const keys[][2] = {
        {"num_users", "config.kvcache.num_users"},
        {"duration", "config.kvcache.duration"},
        {"max_concurrent_allocs", "config.kvcache.max_concurrent_allocs"},
        {"gpu_mem_gb", "config.cache.gpu_mem_gb"},
        {"cpu_mem_gb", "config.cache.cpu_mem_gb"},
    };
    const char *e;
    for (int i = 0; (e = mlpio_rules_edition_name_at(i)); i++) {
        const cJSON *k = section(e, "kvcache"), *o;
        cJSON_ArrayForEach(o, at(k, "options"))
        {
            cJSON *run = fixture("kvcache", "closed_option2.json");
            set_string(run, "rules_edition", e);
            set_string(run, "model", at(o, "model")->valuestring);
            set_number(run, "options.seed", at(k, "seed")->valuedouble);
            set_number(run, "config.kvcache.trials", at(k, "trials")->valuedouble);
            set_string(run, "config.kvcache.generation_mode",
                       at(k, "generation_mode")->valuestring);
            set_string(run, "config.kvcache.io_model", at(k, "io_model")->valuestring);
            for (size_t p = 0; p < sizeof(keys) / sizeof(keys[0]); p++)
                set_number(run, keys[p][1], at(o, keys[p][0])->valuedouble);
            for (size_t p = 0; p < sizeof(keys) / sizeof(keys[0]); p++)
                assert_int_equal(level_of(mlpio_rules_check_kvcache, run, keys[p][1] + 7), -1);
            assert_int_equal(level_of(mlpio_rules_check_kvcache, run, "options.seed"), -1);
            assert_int_equal(level_of(mlpio_rules_check_kvcache, run, "kvcache.trials"), -1);
            assert_int_equal(level_of(mlpio_rules_check_kvcache, run, "kvcache.io_model"), -1);
            /* The edition's I/O model, and only it, is CLOSED; a run that names none ran the
             * block model. */
            set_string(run, "config.kvcache.io_model", "blocks");
            assert_int_equal(level_of(mlpio_rules_check_kvcache, run, "kvcache.io_model"),
                             strcmp(at(k, "io_model")->valuestring, "blocks") ? MLPIO_ISSUE_OPEN
                                                                              : -1);
            cJSON_DeleteItemFromObject(mlpio_json_get_path(run, "config.kvcache"), "io_model");
            assert_int_equal(level_of(mlpio_rules_check_kvcache, run, "kvcache.io_model"),
                             strcmp(at(k, "io_model")->valuestring, "blocks") ? MLPIO_ISSUE_OPEN
                                                                              : -1);
            set_string(run, "config.kvcache.io_model", at(k, "io_model")->valuestring);
            /* One step off each figure is judged. */
            set_number(run, "options.seed", at(k, "seed")->valuedouble + 1);
            assert_int_equal(level_of(mlpio_rules_check_kvcache, run, "options.seed"),
                             MLPIO_ISSUE_OPEN);
            set_number(run, "config.kvcache.trials", at(k, "trials")->valuedouble + 1);
            assert_int_equal(level_of(mlpio_rules_check_kvcache, run, "kvcache.trials"),
                             MLPIO_ISSUE_OPEN);
            set_number(run, "config.kvcache.num_users", at(o, "num_users")->valuedouble + 1);
            assert_int_not_equal(level_of(mlpio_rules_check_kvcache, run, "kvcache.num_users"), -1);
            cJSON_Delete(run);
        }
    }
}

static int scratch_setup_editions(void **state)
{
    return scratch_setup(state, "mlpio-editions");
}

/* The kvcache workload's --option presets run what the newest edition's options are. */
static void test_kvcache_presets_agree(void **state)
{
    (void)state;
    use_shipped();
    const cJSON *k = section(mlpio_rules_edition_newest(), "kvcache");
    const struct mlpio_workload *w = mlpio_workload_find("kvcache");
    assert_non_null(w);
    const struct mlpio_preset *presets = NULL;
    for (const struct mlpio_cli_option *o = w->options; o->name; o++)
        if (o->presets)
            presets = o->presets;
    assert_non_null(presets);
    int n = 0;
    for (const struct mlpio_preset *p = presets; p->value; p++, n++) {
        const cJSON *o = cJSON_GetObjectItem(at(k, "options"), p->value);
        if (!o)
            fail_msg("--option %s is not an option of the edition", p->value);
        assert_string_equal(p->model, at(o, "model")->valuestring);
        char want[512];
        snprintf(want, sizeof(want),
                 "kvcache.num_users=%g kvcache.duration=%g cache.gpu_mem_gb=%g "
                 "cache.cpu_mem_gb=%g kvcache.max_concurrent_allocs=%g kvcache.trials=%g "
                 "kvcache.generation_mode=%s kvcache.io_model=%s",
                 at(o, "num_users")->valuedouble, at(o, "duration")->valuedouble,
                 at(o, "gpu_mem_gb")->valuedouble, at(o, "cpu_mem_gb")->valuedouble,
                 at(o, "max_concurrent_allocs")->valuedouble, at(k, "trials")->valuedouble,
                 at(k, "generation_mode")->valuestring, at(k, "io_model")->valuestring);
        assert_string_equal(p->overrides, want);
    }
    assert_int_equal(n, cJSON_GetArraySize(at(k, "options")));
}

/* ---- data and results on different file systems ----------------------------------------- */

/* Each edition's fs_separation_rule reaches each checker: a run that found one file system is
 * OPEN on its data folder where the edition has the rule, and not judged by it elsewhere. */
static void test_fs_separation(void **state)
{
    (void)state;
    use_shipped();
    static const struct {
        const char *benchmark, *fixture, *parameter;
        mlpio_rules_checker_fn check;
    } cases[] = {
        {"training", "closed_unet3d.json", "dataset.data_folder", mlpio_rules_check_training},
        {"checkpointing", "closed_8b.json", "checkpoint.checkpoint_folder",
         mlpio_rules_check_checkpointing},
        {"kvcache", "closed_option2.json", "cache.cache_dir", mlpio_rules_check_kvcache},
    };
    int with_rule = 0;
    const char *ed;
    for (int e = 0; (ed = mlpio_rules_edition_name_at(e)) != NULL; e++) {
        for (size_t c = 0; c < sizeof(cases) / sizeof(*cases); c++) {
            const cJSON *rule =
                cJSON_GetObjectItem(section(ed, cases[c].benchmark), "fs_separation_rule");
            cJSON *run = fixture(cases[c].benchmark, cases[c].fixture);
            set_string(run, "rules_edition", ed);
            int before = level_of(cases[c].check, run, cases[c].parameter);
            set_path(run, "facts.fs_separation",
                     "{\"version\": 1, \"method\": \"link_exdev\", \"data_path\": \"/d\", "
                     "\"results_path\": \"/r\", \"data_realpath\": \"/d\", "
                     "\"results_realpath\": \"/r\", \"same_filesystem\": false}");
            assert_int_equal(level_of(cases[c].check, run, cases[c].parameter), before);
            set_path(run, "facts.fs_separation.same_filesystem", "true");
            struct mlpio_verdict_report *v = mlpio_verdict_create();
            struct mlpio_error err = {0};
            assert_int_equal(cases[c].check(run, v, &err), 0);
            int found = 0;
            for (int i = 0; i < v->count; i++) {
                if (strcmp(v->issues[i].parameter, cases[c].parameter) != 0 ||
                    !strstr(v->issues[i].message, "one file system"))
                    continue;
                found = 1;
                assert_int_equal(v->issues[i].level, MLPIO_ISSUE_OPEN);
                char want[64];
                snprintf(want, sizeof(want), "Rules.md %s wants them apart",
                         cJSON_IsString(rule) ? rule->valuestring : "?");
                if (!strstr(v->issues[i].message, want))
                    fail_msg("%s %s: \"%s\" lacks \"%s\"", ed, cases[c].benchmark,
                             v->issues[i].message, want);
            }
            assert_int_equal(found, cJSON_IsString(rule));
            with_rule += found;
            mlpio_verdict_destroy(&v);
            cJSON_Delete(run);
        }
    }
    assert_true(with_rule >= 3); /* v3.0 has it for every benchmark */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_editions),
        cmocka_unit_test_setup_teardown(test_damaged_editions, scratch_setup_editions,
                                        scratch_teardown),
        cmocka_unit_test(test_checkpoint_models_agree),
        cmocka_unit_test(test_training_sets),
        cmocka_unit_test(test_training_au_floors),
        cmocka_unit_test(test_training_prefetch),
        cmocka_unit_test(test_training_datasize),
        cmocka_unit_test(test_ckpt_accelerators_and_memory),
        cmocka_unit_test(test_ckpt_counts),
        cmocka_unit_test(test_ckpt_ranks),
        cmocka_unit_test(test_kvcache_options),
        cmocka_unit_test(test_kvcache_presets_agree),
        cmocka_unit_test(test_fs_separation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
