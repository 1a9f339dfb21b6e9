/* Tests of the checkpoint plan against the published MLPerf Storage figures for the four
 * Llama 3 models in share/checkpointing/: totals, per-rank file sizes and names against DLIO's
 * integer formula (written out again here), ZeRO-1 layer files on DP-rank-0 ranks only, unique
 * names across the whole job, scaling and errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/config.h"
#include "app/workloads/checkpointing/checkpointing.h"
#include "app/workloads/checkpointing/plan.h"
#include "report/json_file.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define GIB (1024.0 * 1024.0 * 1024.0)

static cJSON *load(const char *model)
{
    struct mlpio_error err = {0};
    cJSON *c = mlpio_config_reference("checkpointing", model, &err);
    if (!c)
        fail_msg("%s: %s", model, err.message);
    return c;
}

/* The model of a config as the workload's settings hold it. */
static int model_of(const cJSON *c, struct mlpio_ckpt_model *m, struct mlpio_error *err)
{
    struct mlpio_ckpt_settings s;
    if (mlpio_ckpt_settings_parse(c, &s, err) < 0)
        return -1;
    *m = s.model;
    return 0;
}

static void load_model(const char *name, struct mlpio_ckpt_model *m)
{
    struct mlpio_error err = {0};
    cJSON *c = load(name);
    if (model_of(c, m, &err) != 0)
        fail_msg("%s: %s", name, err.message);
    cJSON_Delete(c);
}

static void plan(const struct mlpio_ckpt_model *m, int rank, double scale,
                 struct mlpio_ckpt_plan *p)
{
    struct mlpio_error err = {0};
    if (mlpio_ckpt_plan_rank(m, rank, scale, p, &err) != 0)
        fail_msg("rank %d: %s", rank, err.message);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static void test_totals_match_published(void **state)
{
    static const struct {
        const char *model;
        double published_GiB; /* MLPerf Storage v2.0 (1t: the formula's figure) */
        int64_t ranks;
    } cases[] = {
        {"llama3-8b", 104.70, 8},
        {"llama3-70b", 911.21, 64},
        {"llama3-405b", 5292.3, 512},
        {"llama3-1t", 15426.6, 1024},
    };
    for (size_t i = 0; i < N(cases); i++) {
        cJSON *c = load(cases[i].model);
        struct mlpio_ckpt_model m;
        struct mlpio_error err = {0};
        assert_int_equal(model_of(c, &m, &err), 0);
        /* The share file carries the same reference figure and job size. */
        assert_true(mlpio_json_number(c, "reference.published_total_GiB", 0) ==
                    cases[i].published_GiB);
        assert_int_equal(mlpio_ckpt_job_ranks(&m), cases[i].ranks);
        assert_int_equal((int64_t)mlpio_json_number(c, "reference.closed_ranks", 0),
                         cases[i].ranks);
        double got = (double)mlpio_ckpt_bytes(&m, (int)cases[i].ranks, 1.0) / GIB;
        double rel = fabs(got - cases[i].published_GiB) / cases[i].published_GiB;
        if (rel > 1e-4)
            fail_msg("%s: %.3f GiB, published %.2f (off by %.4f%%)", cases[i].model, got,
                     cases[i].published_GiB, rel * 100);
        /* Asking for more ranks than the job has counts the job only. */
        assert_int_equal(mlpio_ckpt_bytes(&m, (int)cases[i].ranks * 2, 1.0),
                         mlpio_ckpt_bytes(&m, (int)cases[i].ranks, 1.0));
        cJSON_Delete(c);
    }
}

static void test_llama3_8b_files(void **state)
{
    struct mlpio_ckpt_model m;
    load_model("llama3-8b", &m);
    assert_int_equal(mlpio_ckpt_total_params(&m), 8030261248ull);
    for (int r = 0; r < 8; r++) {
        struct mlpio_ckpt_plan p;
        char model[96], optim[96];
        plan(&m, r, 1.0, &p);
        assert_int_equal(p.rank, r);
        assert_int_equal(p.dp, r);
        assert_int_equal(p.tp, 0);
        assert_int_equal(p.pp, 0);
        assert_int_equal(p.mp, 0);
        assert_int_equal(p.nfiles, 2);
        snprintf(model, sizeof(model), "zero_pp_rank_%d_mp_rank_0_model_states.pt", r);
        snprintf(optim, sizeof(optim), "zero_pp_rank_%d_mp_rank_0_optim_states.pt", r);
        assert_string_equal(p.files[0].name, model);
        assert_int_equal(p.files[0].bytes, 2007565312ull);
        assert_string_equal(p.files[1].name, optim);
        assert_int_equal(p.files[1].bytes, 12045637632ull);
        assert_int_equal(p.model_bytes, 2007565312ull);
        assert_int_equal(p.bytes, 2007565312ull + 12045637632ull);
        mlpio_ckpt_plan_free(&p);
        assert_null(p.files);
        assert_int_equal(p.nfiles, 0);
    }
}

/* Figures over every rank of a job. */
struct job_stats {
    double model_min[2], model_max[2]; /* GiB, by DP rank 0 / others */
    double optim_min, optim_max;       /* GiB */
    int other_dp_files_max;            /* most files on a rank with dp > 0 */
    uint64_t model_bytes_other_dp;     /* model bytes on ranks with dp > 0 */
};

static void job_stats(const struct mlpio_ckpt_model *m, struct job_stats *s)
{
    int ranks = (int)mlpio_ckpt_job_ranks(m);
    memset(s, 0, sizeof(*s));
    s->model_min[0] = s->model_min[1] = s->optim_min = INFINITY;
    for (int r = 0; r < ranks; r++) {
        struct mlpio_ckpt_plan p;
        plan(m, r, 1.0, &p);
        /* DLIO's rank layout: tensor fastest, then pipeline, then data. */
        assert_int_equal(p.tp, r % m->tp);
        assert_int_equal(p.pp, (r / m->tp) % m->pp);
        assert_int_equal(p.dp, r / (m->tp * m->pp));
        assert_int_equal(p.mp, p.pp * m->tp + p.tp);
        uint64_t sum = 0, model = 0;
        for (int f = 0; f < p.nfiles; f++) {
            sum += p.files[f].bytes;
            if (ends_with(p.files[f].name, "_model_states.pt"))
                model += p.files[f].bytes;
        }
        assert_int_equal(sum, p.bytes);
        assert_int_equal(model, p.model_bytes);
        /* The optimizer file is the last one. */
        assert_true(ends_with(p.files[p.nfiles - 1].name, "_optim_states.pt"));
        double optim = (double)p.files[p.nfiles - 1].bytes / GIB;
        s->optim_min = fmin(s->optim_min, optim);
        s->optim_max = fmax(s->optim_max, optim);
        int k = p.dp == 0 ? 0 : 1;
        s->model_min[k] = fmin(s->model_min[k], (double)p.model_bytes / GIB);
        s->model_max[k] = fmax(s->model_max[k], (double)p.model_bytes / GIB);
        if (p.dp > 0) {
            s->model_bytes_other_dp += p.model_bytes;
            if (p.nfiles > s->other_dp_files_max)
                s->other_dp_files_max = p.nfiles;
        }
        mlpio_ckpt_plan_free(&p);
    }
}

static double round2(double x)
{
    return round(x * 100) / 100;
}

static void test_per_rank_figures(void **state)
{
    static const struct {
        const char *model;
        double optim;              /* GiB, every rank, +-0.001 */
        double model_lo, model_hi; /* GiB of DP-rank-0 ranks, to 2 decimals */
        bool zero1;                /* only DP-rank-0 ranks write model files */
    } cases[] = {
        {"llama3-70b", 12.204, 2.03, 2.03, false},
        {"llama3-405b", 8.860, 2.23, 3.46, true},
        {"llama3-1t", 12.913, 4.28, 5.05, true},
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct mlpio_ckpt_model m;
        struct job_stats s;
        load_model(cases[i].model, &m);
        job_stats(&m, &s);
        if (fabs(s.optim_min - cases[i].optim) > 0.001 ||
            fabs(s.optim_max - cases[i].optim) > 0.001)
            fail_msg("%s: optimizer %.4f..%.4f GiB, want %.3f", cases[i].model, s.optim_min,
                     s.optim_max, cases[i].optim);
        if (round2(s.model_min[0]) != cases[i].model_lo ||
            round2(s.model_max[0]) != cases[i].model_hi)
            fail_msg("%s: DP-rank-0 model %.4f..%.4f GiB, want %.2f..%.2f", cases[i].model,
                     s.model_min[0], s.model_max[0], cases[i].model_lo, cases[i].model_hi);
        if (cases[i].zero1) {
            assert_int_equal(s.model_bytes_other_dp, 0);
            assert_int_equal(s.other_dp_files_max, 1);
        } else {
            assert_true(round2(s.model_min[1]) == cases[i].model_lo);
        }
    }
}

/* Under ZeRO-1 the DP-rank-0 ranks of each tensor slice write every layer file exactly once:
 * 0 embedding, 1..L transformer layers, L+1 lm_head, L+2 final norm. */
static void test_zero1_layer_coverage(void **state)
{
    struct mlpio_ckpt_model m;
    load_model("llama3-405b", &m);
    int nlayers = (int)m.layers + 3;
    int *seen = calloc((size_t)(nlayers * m.tp), sizeof(int));
    assert_non_null(seen);
    for (int r = 0; r < m.tp * m.pp; r++) { /* the DP-rank-0 ranks */
        struct mlpio_ckpt_plan p;
        plan(&m, r, 1.0, &p);
        assert_int_equal(p.dp, 0);
        for (int f = 0; f < p.nfiles - 1; f++) {
            int layer, mp;
            if (sscanf(p.files[f].name, "layer_%d-model_%d_model_states.pt", &layer, &mp) != 2)
                fail_msg("rank %d: unexpected file %s", r, p.files[f].name);
            assert_int_equal(mp, p.mp);
            assert_in_range(layer, 0, nlayers - 1);
            seen[layer * m.tp + p.tp]++;
        }
        mlpio_ckpt_plan_free(&p);
    }
    for (int i = 0; i < nlayers * m.tp; i++)
        if (seen[i] != 1)
            fail_msg("layer %lld of tensor rank %lld written %d times", (long long)(i / m.tp),
                     (long long)(i % m.tp), seen[i]);
    free(seen);
}

/* DLIO's checkpoint sizes (dlio_benchmark/checkpointing/base_checkpointing.py), written out
 * again from its source, independently of plan.c: get_num_parameters, get_layer_parameters
 * (each term floored on its own, left to right), get_layer_index and get_optimization_groups
 * (n = parameters // ranks in integers), with the file names of save_checkpoint. */
struct dlio_file {
    char name[96];
    uint64_t bytes;
};

static uint64_t dlio_layer(const struct mlpio_ckpt_model *m, int64_t i)
{
    int64_t h = m->hidden, L = m->layers, v = m->vocab, ffn = m->ffn, tp = m->tp;
    int64_t sf = m->zero < 3 ? 1 : m->dp;
    int64_t dkv = (h / m->heads) * m->kv_heads;
    if (i == 0 || i == L + 1)
        return (uint64_t)(h * v / tp / sf);
    if (i == L + 2)
        return (uint64_t)(h / sf);
    return (uint64_t)(h / sf + h * (h + 2 * dkv) / tp / sf + h * h / tp / sf + h / sf +
                      h * 2 * ffn / tp / sf + h * ffn / tp / sf);
}

static int dlio_rank_files(const struct mlpio_ckpt_model *m, int rank, struct dlio_file *out)
{
    int64_t h = m->hidden, L = m->layers, v = m->vocab, ffn = m->ffn;
    int64_t dkv = (h / m->heads) * m->kv_heads;
    uint64_t total =
        (uint64_t)(v * h + (h + h * (h + 2 * dkv) + h * h + h + ffn * 2 * h + ffn * h) * L + h +
                   v * h);
    int64_t pp = (rank / m->tp) % m->pp, dp = rank / (m->tp * m->pp), mp = rank % (m->tp * m->pp);
    int64_t nl = L / m->pp, rem = L % m->pp, start, end;
    if (pp < rem) {
        start = pp * (nl + 1) + 1;
        end = start + nl;
    } else {
        start = rem * (nl + 1) + (pp - rem) * nl + 1;
        end = start + nl - 1;
    }
    if (pp == m->pp - 1)
        end = L + 2;
    if (pp == 0)
        start = 0;
    int n = 0;
    uint64_t stage = 0;
    for (int64_t i = start; i <= end; i++) {
        uint64_t bytes = dlio_layer(m, i) * 2; /* fp16 */
        stage += bytes;
        if (m->zero < 3 && dp == 0) {
            snprintf(out[n].name, sizeof(out[n].name), "layer_%lld-model_%lld_model_states.pt",
                     (long long)i, (long long)mp);
            out[n++].bytes = bytes;
        }
    }
    if (m->zero >= 3) {
        snprintf(out[n].name, sizeof(out[n].name), "zero_pp_rank_%lld_mp_rank_%lld_model_states.pt",
                 (long long)dp, (long long)mp);
        out[n++].bytes = stage;
    }
    uint64_t np = total / (uint64_t)(m->dp * m->tp * m->pp);
    snprintf(out[n].name, sizeof(out[n].name), "zero_pp_rank_%lld_mp_rank_%lld_optim_states.pt",
             (long long)dp, (long long)mp);
    out[n++].bytes = (3 * np + 15 * (uint64_t)h) * 4; /* fp32 */
    return n;
}

/* Every rank of every model at its CLOSED rank count: the same files, names and bytes as DLIO,
 * and the figures of a by-hand run of DLIO's formula. llama3-1t does not divide evenly: its
 * 1,183,035,102,480 parameters over 1024 ranks are 1,155,307,717.27, and DLIO keeps
 * 1,155,307,717, so the optimizer file is (3 x 1,155,307,717 + 15 x 25872) x 4 bytes. */
static void test_per_rank_bytes_match_dlio(void **state)
{
    static const struct {
        const char *model;
        int ranks;
        uint64_t params, optim, rank0_model, job;
    } cases[] = {
        {"llama3-8b", 8, 8030261248ull, 12045637632ull, 2007565312ull, 112425623552ull},
        {"llama3-70b", 64, 69882617856ull, 13103482368ull, 2184120320ull, 978406572032ull},
        {"llama3-405b", 512, 405853388800ull, 9513171840ull, 3713269760ull, 5682508791808ull},
        {"llama3-1t", 1024, 1183035102480ull, 13865244924ull, 5425047936ull, 16564174094592ull},
    };
    static struct dlio_file want[160];
    for (size_t i = 0; i < N(cases); i++) {
        struct mlpio_ckpt_model m;
        load_model(cases[i].model, &m);
        assert_int_equal(mlpio_ckpt_job_ranks(&m), cases[i].ranks);
        assert_int_equal(mlpio_ckpt_total_params(&m), cases[i].params);
        uint64_t job = 0;
        for (int r = 0; r < cases[i].ranks; r++) {
            int n = dlio_rank_files(&m, r, want);
            struct mlpio_ckpt_plan p;
            plan(&m, r, 1.0, &p);
            if (p.nfiles != n)
                fail_msg("%s rank %d: %d files, DLIO writes %d", cases[i].model, r, p.nfiles, n);
            for (int f = 0; f < n; f++) {
                if (strcmp(p.files[f].name, want[f].name) != 0 || p.files[f].bytes != want[f].bytes)
                    fail_msg("%s rank %d: file %d is %s of %llu bytes, DLIO writes %s of %llu",
                             cases[i].model, r, f, p.files[f].name,
                             (unsigned long long)p.files[f].bytes, want[f].name,
                             (unsigned long long)want[f].bytes);
            }
            if (p.files[n - 1].bytes != cases[i].optim)
                fail_msg("%s rank %d: optimizer %llu bytes, DLIO %llu", cases[i].model, r,
                         (unsigned long long)p.files[n - 1].bytes,
                         (unsigned long long)cases[i].optim);
            if (r == 0)
                assert_int_equal(p.model_bytes, cases[i].rank0_model);
            job += p.bytes;
            mlpio_ckpt_plan_free(&p);
        }
        assert_int_equal(job, cases[i].job);
        assert_int_equal(mlpio_ckpt_bytes(&m, cases[i].ranks, 1.0), cases[i].job);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void test_names_unique_in_job(void **state)
{
    static const char *const models[] = {"llama3-8b", "llama3-70b", "llama3-405b", "llama3-1t"};
    for (size_t i = 0; i < N(models); i++) {
        struct mlpio_ckpt_model m;
        load_model(models[i], &m);
        int ranks = (int)mlpio_ckpt_job_ranks(&m);
        size_t n = 0, cap = 1024;
        char **names = malloc(cap * sizeof(*names));
        assert_non_null(names);
        for (int r = 0; r < ranks; r++) {
            struct mlpio_ckpt_plan p;
            plan(&m, r, 1.0, &p);
            for (int f = 0; f < p.nfiles; f++) {
                if (n == cap) {
                    cap *= 2;
                    names = realloc(names, cap * sizeof(*names));
                    assert_non_null(names);
                }
                names[n++] = strdup(p.files[f].name);
            }
            mlpio_ckpt_plan_free(&p);
        }
        qsort(names, n, sizeof(*names), cmp_str);
        for (size_t k = 1; k < n; k++)
            if (strcmp(names[k - 1], names[k]) == 0)
                fail_msg("%s: %s is written by two ranks", models[i], names[k]);
        for (size_t k = 0; k < n; k++)
            free(names[k]);
        free(names);
    }
}

static void test_scale(void **state)
{
    struct mlpio_ckpt_model m;
    load_model("llama3-8b", &m);
    struct mlpio_ckpt_plan p;
    plan(&m, 3, 0.001, &p);
    assert_int_equal(p.files[0].bytes, 2007565ull);
    assert_int_equal(p.files[1].bytes, 12045638ull); /* 12045637.632 rounded */
    assert_string_equal(p.files[0].name, "zero_pp_rank_3_mp_rank_0_model_states.pt");
    mlpio_ckpt_plan_free(&p);

    /* A tiny scale never gives empty files. */
    struct mlpio_ckpt_model big;
    load_model("llama3-405b", &big);
    for (int r = 0; r < 16; r++) {
        plan(&big, r * 31, 1e-15, &p);
        for (int f = 0; f < p.nfiles; f++)
            assert_int_equal(p.files[f].bytes, 1);
        mlpio_ckpt_plan_free(&p);
    }
    /* The job's total scales with the sizes. */
    double full = (double)mlpio_ckpt_bytes(&m, 8, 1.0);
    double half = (double)mlpio_ckpt_bytes(&m, 8, 0.5);
    assert_true(fabs(half - full / 2) <= 16);
    /* Subset of ranks: the first R ranks' bytes. */
    assert_int_equal(mlpio_ckpt_bytes(&m, 3, 1.0), 3 * (2007565312ull + 12045637632ull));
    assert_int_equal(mlpio_ckpt_bytes(&m, 0, 1.0), 0);
}

static void test_rank_beyond_job(void **state)
{
    struct mlpio_ckpt_model m;
    load_model("llama3-8b", &m);
    static const int bad[] = {8, 9, 1000, -1};
    for (size_t i = 0; i < N(bad); i++) {
        struct mlpio_ckpt_plan p;
        struct mlpio_error err = {0};
        assert_int_equal(mlpio_ckpt_plan_rank(&m, bad[i], 1.0, &p, &err), -1);
        assert_int_equal(err.category, MLPIO_ERR_CONFIG);
        char want[64];
        snprintf(want, sizeof(want), "rank %d is beyond the model's job of 8 ranks", bad[i]);
        if (!strstr(err.message, want))
            fail_msg("message '%s' lacks '%s'", err.message, want);
        assert_non_null(strstr(err.hint, "at most 8 ranks"));
        assert_null(p.files);
        mlpio_ckpt_plan_free(&p);
    }
}

struct model_error {
    const char *key;
    double value;
    const char *message;
};

static void test_model_errors(void **state)
{
    static const struct model_error cases[] = {
        {"parallelism.pipeline", 33,
         "parallelism.pipeline: expected at most model.num_layers (32) stages, got 33"},
        {"model.num_layers", 0, "missing or not positive"},
        {"parallelism.data", 0, "missing or not positive"},
        {"model.num_attention_heads", 8192, "smaller than model.num_attention_heads"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        cJSON *c = load("llama3-8b");
        struct mlpio_ckpt_model m;
        struct mlpio_error err = {0};
        assert_int_equal(mlpio_json_set_path(c, cases[i].key, cJSON_CreateNumber(cases[i].value)),
                         0);
        assert_int_equal(model_of(c, &m, &err), -1);
        assert_int_equal(err.category, MLPIO_ERR_CONFIG);
        if (!strstr(err.message, cases[i].message))
            fail_msg("%s=%g: message '%s' lacks '%s'", cases[i].key, cases[i].value, err.message,
                     cases[i].message);
        cJSON_Delete(c);
    }
    /* As many stages as layers is still valid: one layer each. */
    cJSON *c = load("llama3-8b");
    struct mlpio_ckpt_model m;
    struct mlpio_error err = {0};
    mlpio_json_set_path(c, "parallelism.pipeline", cJSON_CreateNumber(32));
    mlpio_json_set_path(c, "parallelism.zero_stage", cJSON_CreateNumber(1));
    assert_int_equal(model_of(c, &m, &err), 0);
    struct mlpio_ckpt_plan p;
    plan(&m, 31, 1.0, &p);
    assert_int_equal(p.nfiles, 4); /* layer 32, lm_head, final norm, optimizer */
    assert_string_equal(p.files[0].name, "layer_32-model_31_model_states.pt");
    assert_string_equal(p.files[1].name, "layer_33-model_31_model_states.pt");
    assert_string_equal(p.files[2].name, "layer_34-model_31_model_states.pt");
    assert_int_equal(p.files[1].bytes, 4096ull * 128256 * 2); /* lm_head */
    assert_int_equal(p.files[2].bytes, 4096ull * 2);          /* final norm */
    mlpio_ckpt_plan_free(&p);
    cJSON_Delete(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_totals_match_published),
        cmocka_unit_test(test_llama3_8b_files),
        cmocka_unit_test(test_per_rank_figures),
        cmocka_unit_test(test_zero1_layer_coverage),
        cmocka_unit_test(test_per_rank_bytes_match_dlio),
        cmocka_unit_test(test_names_unique_in_job),
        cmocka_unit_test(test_scale),
        cmocka_unit_test(test_rank_beyond_job),
        cmocka_unit_test(test_model_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
