/* mlpio configuration: the model's definition from share/, merged with --config-file and the
 * command line's overrides, validated against the workload's parameter table, then broadcast
 * from rank 0 as JSON text so that every rank runs the same configuration.
 */
#ifndef MLPIO_CONFIG_H
#define MLPIO_CONFIG_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "app/context.h"
#include "app/workload.h"
#include "io/error.h"

struct mlpio_cli;

/* The largest --config-file read: a configuration is a few KiB; this refuses by mistake
 * a data file given in its place before it is read into memory. */
#define MLPIO_CONFIG_FILE_MAX ((size_t)4 << 20)

/* Directory holding the workload definitions: $MLPIO_SHARE_DIR, the install location, or the
 * source tree's share/ (whichever holds <benchmark>/ first). Writes into buf. */
const char *mlpio_config_share_dir(char *buf, size_t len);

/* The model's reference definition (share/<benchmark>/<model>.json). An unknown model is a
 * config error listing the models that exist. */
cJSON *mlpio_config_reference(const char *benchmark, const char *model, struct mlpio_error *err);
/* The same for definitions that come per variant: share/<benchmark>/<model>_<variant>.json
 * (variant NULL: as above). */
cJSON *mlpio_config_reference_variant(const char *benchmark, const char *model, const char *variant,
                                      struct mlpio_error *err);

/* The models defined for a benchmark (and variant, or NULL), naturally sorted: "a, b". */
void mlpio_config_models(const char *benchmark, const char *variant, char *out, size_t len);
/* The variants defined for a benchmark (for model, or any model when NULL): the distinct
 * <variant> of its <model>_<variant>.json, naturally sorted and joined by sep. */
void mlpio_config_variants(const char *benchmark, const char *model, const char *sep, char *out,
                           size_t len);

/* Rank 0: reference + config file + overrides, validated. On success *overrides is a new
 * array of {"key", "value", "reference", "source"} for every key that differs from the
 * reference. */
cJSON *mlpio_config_build(const struct mlpio_cli *cli, cJSON **overrides, struct mlpio_error *err);

/* Collective: rank 0's *config is sent to every rank (others get a new object). */
int mlpio_config_bcast(const struct mlpio_context *ctx, cJSON **config, struct mlpio_error *err);

/* Send an arbitrary byte buffer from rank 0 (helper for config and salt). */
int mlpio_config_bcast_bytes(const struct mlpio_context *ctx, void *buf, size_t len,
                             struct mlpio_error *err);

#endif
