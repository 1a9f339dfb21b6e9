/* Checkpoint plan: see plan.h. */
#include "app/workloads/checkpointing/plan.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t dtype_bytes(const char *name)
{
    if (strcmp(name, "fp32") == 0)
        return 4;
    return 2; /* fp16, bf16: the parameter table admits nothing else */
}

int mlpio_ckpt_model_check(struct mlpio_ckpt_model *m, const char *model_datatype,
                           const char *optimizer_datatype, struct mlpio_error *err)
{
    m->model_dtype_bytes = dtype_bytes(model_datatype);
    m->optim_dtype_bytes = dtype_bytes(optimizer_datatype);
    if (m->layers < 1 || m->hidden < 1 || m->ffn < 1 || m->heads < 1 || m->kv_heads < 1 ||
        m->vocab < 1 || m->tp < 1 || m->pp < 1 || m->dp < 1 || m->zero < 0)
        return mlpio_error_set(err, MLPIO_ERR_CONFIG,
                               "model or parallelism parameters missing or not positive");
    if (m->pp > m->layers) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "parallelism.pipeline: expected at most model.num_layers (%lld) stages, "
                        "got %lld",
                        (long long)m->layers, (long long)m->pp);
        return mlpio_error_hint(err, "every pipeline stage needs at least one layer");
    }
    if (m->hidden < m->heads)
        return mlpio_error_set(err, MLPIO_ERR_CONFIG,
                               "model.hidden_size (%lld) is smaller than "
                               "model.num_attention_heads (%lld)",
                               (long long)m->hidden, (long long)m->heads);
    return 0;
}

int64_t mlpio_ckpt_job_ranks(const struct mlpio_ckpt_model *m)
{
    return m->tp * m->pp * m->dp;
}

/* One transformer layer's parameters on one tensor-parallel rank. */
static uint64_t layer_params(const struct mlpio_ckpt_model *m, int64_t tp)
{
    int64_t h = m->hidden;
    int64_t head = h / m->heads; /* integer division, as the reference */
    int64_t dkv = head * m->kv_heads;
    return (uint64_t)(h + h * (h + 2 * dkv) / tp + h * h / tp + h + 2 * h * m->ffn / tp +
                      h * m->ffn / tp);
}

static uint64_t embedding_params(const struct mlpio_ckpt_model *m, int64_t tp)
{
    return (uint64_t)(m->hidden * m->vocab / tp);
}

uint64_t mlpio_ckpt_total_params(const struct mlpio_ckpt_model *m)
{
    return 2 * embedding_params(m, 1) + (uint64_t)m->hidden +
           (uint64_t)m->layers * layer_params(m, 1);
}

static void stage_layers(const struct mlpio_ckpt_model *m, int64_t p, int64_t *first,
                         int64_t *count)
{
    int64_t base = m->layers / m->pp, rem = m->layers % m->pp;
    *count = base + (p < rem ? 1 : 0);
    *first = p * base + (p < rem ? p : rem);
}

static uint64_t scaled(double bytes, double scale)
{
    double v = floor(bytes * scale + 0.5);
    return v < 1 ? 1 : (uint64_t)v;
}

static int add_file(struct mlpio_ckpt_plan *p, int cap, const char *name, uint64_t bytes)
{
    if (p->nfiles >= cap)
        return -1;
    struct mlpio_ckpt_file *f = &p->files[p->nfiles++];
    snprintf(f->name, sizeof(f->name), "%s", name);
    f->bytes = bytes;
    p->bytes += bytes;
    return 0;
}

int mlpio_ckpt_plan_rank(const struct mlpio_ckpt_model *m, int rank, double scale,
                         struct mlpio_ckpt_plan *out, struct mlpio_error *err)
{
    memset(out, 0, sizeof(*out));
    int64_t ranks = mlpio_ckpt_job_ranks(m);
    if (rank < 0 || rank >= ranks) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "rank %d is beyond the model's job of %lld ranks (TP %lld x PP %lld x DP "
                        "%lld)",
                        rank, (long long)ranks, (long long)m->tp, (long long)m->pp,
                        (long long)m->dp);
        return mlpio_error_hint(err, "run with at most %lld ranks", (long long)ranks);
    }
    out->rank = rank;
    out->tp = (int)(rank % m->tp);
    out->pp = (int)((rank / m->tp) % m->pp);
    out->dp = (int)(rank / (m->tp * m->pp));
    out->mp = (int)(out->pp * m->tp + out->tp);
    int64_t first, count;
    stage_layers(m, out->pp, &first, &count);
    bool last = out->pp == m->pp - 1;
    int cap = (int)count + 4;
    out->files = calloc((size_t)cap, sizeof(*out->files));
    if (!out->files)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory planning rank %d", rank);

    char name[96];
    uint64_t lp = layer_params(m, m->tp), ep = embedding_params(m, m->tp);
    if (m->zero >= 3) {
        uint64_t stage =
            lp * (uint64_t)count + (out->pp == 0 ? ep : 0) + (last ? ep + (uint64_t)m->hidden : 0);
        snprintf(name, sizeof(name), "zero_pp_rank_%d_mp_rank_%02d_model_states.pt", out->dp,
                 out->mp);
        add_file(out, cap, name,
                 scaled((double)(stage / (uint64_t)m->dp) * (double)m->model_dtype_bytes, scale));
    } else if (out->dp == 0) {
        if (out->pp == 0) {
            snprintf(name, sizeof(name), "layer_00-model_%02d_model_states.pt", out->mp);
            add_file(out, cap, name, scaled((double)ep * (double)m->model_dtype_bytes, scale));
        }
        for (int64_t l = first; l < first + count; l++) {
            snprintf(name, sizeof(name), "layer_%02lld-model_%02d_model_states.pt",
                     (long long)(l + 1), out->mp);
            add_file(out, cap, name, scaled((double)lp * (double)m->model_dtype_bytes, scale));
        }
        if (last) {
            snprintf(name, sizeof(name), "layer_%02lld-model_%02d_model_states.pt",
                     (long long)(m->layers + 1), out->mp);
            add_file(out, cap, name,
                     scaled((double)m->hidden * (double)m->model_dtype_bytes, scale));
            snprintf(name, sizeof(name), "layer_%02lld-model_%02d_model_states.pt",
                     (long long)(m->layers + 2), out->mp);
            add_file(out, cap, name, scaled((double)ep * (double)m->model_dtype_bytes, scale));
        }
    }
    out->model_bytes = out->bytes;
    double n = (double)mlpio_ckpt_total_params(m) / (double)ranks;
    double optim = floor((3.0 * n + 15.0 * (double)m->hidden) * (double)m->optim_dtype_bytes);
    snprintf(name, sizeof(name), "zero_pp_rank_%d_mp_rank_%02d_optim_states.pt", out->dp, out->mp);
    add_file(out, cap, name, scaled(optim, scale));
    return 0;
}

void mlpio_ckpt_plan_free(struct mlpio_ckpt_plan *p)
{
    if (!p)
        return;
    free(p->files);
    p->files = NULL;
    p->nfiles = 0;
}

uint64_t mlpio_ckpt_bytes(const struct mlpio_ckpt_model *m, int ranks, double scale)
{
    uint64_t total = 0;
    for (int r = 0; r < ranks && r < mlpio_ckpt_job_ranks(m); r++) {
        struct mlpio_ckpt_plan p;
        if (mlpio_ckpt_plan_rank(m, r, scale, &p, NULL) == 0)
            total += p.bytes;
        mlpio_ckpt_plan_free(&p);
    }
    return total;
}
