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

/* Elements of layer `index` on one rank, as DLIO's get_layer_parameters (base_checkpointing.py)
 * counts them: 0 the embedding and L+1 the lm_head (hidden*vocab/TP), L+2 the final norm (hidden,
 * not split over TP), 1..L a transformer layer. sf is the ZeRO-3 sharding factor (DP; 1 below
 * ZeRO-3). Each term is floored on its own, left to right, as Python's // does. */
static uint64_t layer_elements(const struct mlpio_ckpt_model *m, int64_t index, int64_t tp,
                               int64_t sf)
{
    int64_t h = m->hidden, ffn = m->ffn;
    if (index == 0 || index == m->layers + 1)
        return (uint64_t)(h * m->vocab / tp / sf);
    if (index == m->layers + 2)
        return (uint64_t)(h / sf);
    int64_t head = h / m->heads;
    int64_t dkv = head * m->kv_heads;
    return (uint64_t)(h / sf + h * (h + 2 * dkv) / tp / sf + h * h / tp / sf + h / sf +
                      h * 2 * ffn / tp / sf + h * ffn / tp / sf);
}

uint64_t mlpio_ckpt_total_params(const struct mlpio_ckpt_model *m)
{
    /* DLIO's get_num_parameters: embedding + L transformer layers + final norm + lm_head. */
    return 2 * layer_elements(m, 0, 1, 1) + layer_elements(m, m->layers + 2, 1, 1) +
           (uint64_t)m->layers * layer_elements(m, 1, 1, 1);
}

/* DLIO's get_layer_index: the first (L % PP) stages hold one layer more; stage 0 starts at the
 * embedding (0), the last stage ends at the final norm (L+2). Inclusive range. */
static void stage_layers(const struct mlpio_ckpt_model *m, int64_t p, int64_t *start, int64_t *end)
{
    int64_t base = m->layers / m->pp, rem = m->layers % m->pp;
    *start = p * base + (p < rem ? p : rem) + 1;
    *end = *start + base + (p < rem ? 1 : 0) - 1;
    if (p == m->pp - 1)
        *end = m->layers + 2;
    if (p == 0)
        *start = 0;
}

static uint64_t scaled(uint64_t bytes, double scale)
{
    if (scale == 1.0)
        return bytes;
    double v = floor((double)bytes * scale + 0.5);
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

/* The model-states files of one rank, as DLIO's save_checkpoint names them (no zero padding):
 * ZeRO 1-2 with PP > 1, one layer_<i>-model_<mp> file per owned layer on DP-rank-0 ranks; ZeRO
 * 1-2 with PP = 1, one model_<mp> file; ZeRO 0 and 3, one zero_pp_rank_<dp>_mp_rank_<mp> file
 * (under ZeRO 0 only the ranks of the first model-parallel group checkpoint). */
static void model_files(const struct mlpio_ckpt_model *m, struct mlpio_ckpt_plan *out, int cap,
                        double scale)
{
    int64_t start, end, sf = m->zero >= 3 ? m->dp : 1;
    stage_layers(m, out->pp, &start, &end);
    uint64_t dt = (uint64_t)m->model_dtype_bytes, all = 0;
    char name[96];
    bool layered = m->zero > 0 && m->zero < 3;
    if (layered && out->dp != 0)
        return;
    for (int64_t l = start; l <= end; l++) {
        uint64_t bytes = layer_elements(m, l, m->tp, sf) * dt;
        all += bytes;
        if (layered && m->pp > 1) {
            snprintf(name, sizeof(name), "layer_%lld-model_%d_model_states.pt", (long long)l,
                     out->mp);
            add_file(out, cap, name, scaled(bytes, scale));
        }
    }
    if (layered && m->pp > 1)
        return;
    if (layered)
        snprintf(name, sizeof(name), "model_%d_model_states.pt", out->mp);
    else
        snprintf(name, sizeof(name), "zero_pp_rank_%d_mp_rank_%d_model_states.pt", out->dp,
                 out->mp);
    add_file(out, cap, name, scaled(all, scale));
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
    int64_t start, end;
    stage_layers(m, out->pp, &start, &end);
    int cap = (int)(end - start + 1) + 2;
    out->files = calloc((size_t)cap, sizeof(*out->files));
    if (!out->files)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory planning rank %d", rank);
    /* ZeRO 0: only the first model-parallel group checkpoints (DLIO's rank_to_checkpoint). */
    if (m->zero == 0 && rank >= m->tp * m->pp)
        return 0;
    model_files(m, out, cap, scale);
    out->model_bytes = out->bytes;
    /* DLIO's get_optimization_groups: n = parameters // ranks (// the model-parallel group
     * under ZeRO 0) in integers, saved as [n, 5h, n, 5h, n, 5h] optimizer-type elements. */
    uint64_t group = (uint64_t)(m->zero > 0 ? ranks : m->tp * m->pp);
    uint64_t n = mlpio_ckpt_total_params(m) / group;
    uint64_t optim = (3 * n + 15 * (uint64_t)m->hidden) * (uint64_t)m->optim_dtype_bytes;
    char name[96];
    snprintf(name, sizeof(name), "zero_pp_rank_%d_mp_rank_%d_optim_states.pt", out->dp, out->mp);
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
