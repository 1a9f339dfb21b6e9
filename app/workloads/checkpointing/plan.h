/* Checkpoint plan: which files each rank of an LLM training job writes, and their sizes.
 *
 * DLIO's formula (dlio_benchmark/checkpointing/base_checkpointing.py; WORKLOADS.md section 2),
 * in DLIO's integer arithmetic: rank r of a TP x PP x DP job has tp = r % TP,
 * pp = (r / TP) % PP, dp = r / (TP * PP) and model-parallel rank mp = pp*TP + tp. Layers are
 * numbered 0 embedding, 1..L transformer layers, L+1 lm_head, L+2 final norm; pipeline stage p
 * owns a contiguous range of transformer layers (remainder layers go to the first stages),
 * stage 0 also the embedding, the last stage lm_head and the final norm. Every term of a layer
 * is floored on its own (divided by TP, and by DP under ZeRO-3).
 * ZeRO-3: every rank writes its stage's layers as one zero_pp_rank_<dp>_mp_rank_<mp> file.
 * ZeRO-1/2: DP-rank-0 ranks write one layer_<i>-model_<mp> file per owned layer (PP > 1) or
 * one model_<mp> file (PP = 1). Every rank writes optimizer states of (3n + 15*hidden) * 4
 * bytes, n = all parameters // (DP*TP*PP). Names carry no zero padding, as DLIO's.
 */
#ifndef MLPIO_CKPT_PLAN_H
#define MLPIO_CKPT_PLAN_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "io/error.h"

struct mlpio_ckpt_model {
    int64_t layers, hidden, ffn, heads, kv_heads, vocab;
    int64_t tp, pp, dp, zero;
    int64_t model_dtype_bytes; /* 2 for fp16/bf16 */
    int64_t optim_dtype_bytes; /* 4 for fp32 */
};

struct mlpio_ckpt_file {
    char name[96]; /* relative to the checkpoint's step directory */
    uint64_t bytes;
};

struct mlpio_ckpt_plan {
    int rank, tp, pp, dp, mp;
    int nfiles;
    struct mlpio_ckpt_file *files;
    uint64_t bytes;       /* sum over files */
    uint64_t model_bytes; /* of which model states */
};

/* Complete a model read from the settings (the sizes of its datatypes, "fp16", "bf16" or
 * "fp32") and check it as a whole: every figure positive, no more pipeline stages than layers,
 * no fewer hidden units than heads. 0, or -1 with a MLPIO_ERR_CONFIG error. */
int mlpio_ckpt_model_check(struct mlpio_ckpt_model *m, const char *model_datatype,
                           const char *optimizer_datatype, struct mlpio_error *err);

int64_t mlpio_ckpt_job_ranks(const struct mlpio_ckpt_model *m);
/* Parameters of the whole (unsharded) model. */
uint64_t mlpio_ckpt_total_params(const struct mlpio_ckpt_model *m);

/* Plan for one rank of the full job; every file size multiplied by scale (each at least one
 * byte). Free with mlpio_ckpt_plan_free. */
int mlpio_ckpt_plan_rank(const struct mlpio_ckpt_model *m, int rank, double scale,
                         struct mlpio_ckpt_plan *out, struct mlpio_error *err);
void mlpio_ckpt_plan_free(struct mlpio_ckpt_plan *p);

/* Bytes of one checkpoint written by ranks 0..ranks-1 (all of them for the full job). */
uint64_t mlpio_ckpt_bytes(const struct mlpio_ckpt_model *m, int ranks, double scale);

#endif
