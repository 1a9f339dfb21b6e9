/* mlpio option sequences, see sequence.h. */
#include "app/sequence.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/run.h"
#include "app/signals.h"
#include "report/json_file.h"
#include "rules/edition.h"

/* The delay between two runs: --option-delay, else the edition's, else none. */
static int sequence_delay(const struct mlpio_cli *all, double *delay, struct mlpio_error *err)
{
    const cJSON *given = cJSON_GetObjectItemCaseSensitive(all->settings, "option-delay");
    if (cJSON_IsString(given)) {
        char *end = NULL;
        *delay = strtod(given->valuestring, &end);
        if (end == given->valuestring || *end || !(*delay >= 0) || *delay > 86400) {
            mlpio_error_set(err, MLPIO_ERR_USAGE,
                            "--option-delay: expected seconds from 0 to 86400, got '%s'",
                            given->valuestring);
            return mlpio_error_hint(err, "leave it out for the rules edition's delay");
        }
        return 0;
    }
    const char *name = all->rules_edition ? all->rules_edition : mlpio_rules_edition_newest();
    const cJSON *s =
        cJSON_GetObjectItemCaseSensitive(mlpio_rules_edition_find(name), all->workload->name);
    *delay = mlpio_json_number(s, "inter_option_delay_s", 0);
    return 0;
}

/* argv with the preset option's "all" replaced by value (the strings are borrowed). */
static char **argv_for(int argc, char **argv, const struct mlpio_cli *all, const char *value,
                       char *joined, size_t n)
{
    char **out = calloc((size_t)argc + 1, sizeof(*out));
    const struct mlpio_cli_option *o = all->preset_by;
    for (int i = 0; out && i < argc; i++) {
        out[i] = argv[i];
        const char *a = argv[i];
        bool named = a[0] == '-' && a[1] == '-' && !strncmp(a + 2, o->name, strlen(o->name));
        bool aliased = o->alias && a[0] == '-' && !strncmp(a + 1, o->alias, strlen(o->alias));
        size_t len = named ? 2 + strlen(o->name) : aliased ? 1 + strlen(o->alias) : 0;
        if (!len)
            continue;
        if (a[len] == '\0' && i + 1 < argc && !strcmp(argv[i + 1], "all")) {
            out[++i] = (char *)value;
        } else if (a[len] == '=' && !strcmp(a + len + 1, "all")) {
            snprintf(joined, n, "%.*s=%s", (int)len, a, value);
            out[i] = joined;
        }
    }
    return out;
}

/* Wait seconds (every rank), saying so on rank 0; an interrupt cuts it short. */
static void wait_between(struct mlpio_context *ctx, double seconds, const char *next,
                         const struct mlpio_cli *all)
{
    if (seconds <= 0)
        return;
    if (all->what_if) {
        mlpio_log(ctx, MLPIO_LOG_NORMAL, "what-if: would wait %g s before --%s %s\n", seconds,
                  all->preset_by->name, next);
        return;
    }
    mlpio_log(ctx, MLPIO_LOG_NORMAL,
              "waiting %g s before --%s %s (the rules' delay between options)\n", seconds,
              all->preset_by->name, next);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double left = seconds - ((double)(now.tv_sec - start.tv_sec) +
                                 (double)(now.tv_nsec - start.tv_nsec) * 1e-9);
        if (left <= 0 || mlpio_signals_interrupted())
            break;
        double s = left < 0.2 ? left : 0.2;
        struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
        nanosleep(&ts, NULL);
    }
    MPI_Barrier(ctx->comm);
}

int mlpio_run_sequence(struct mlpio_context *ctx, int argc, char **argv,
                       const struct mlpio_cli *all)
{
    struct mlpio_error err = {0};
    double delay = 0;
    if (!(all->command->flags & MLPIO_CMD_MEASURE)) {
        mlpio_error_set(&err, MLPIO_ERR_USAGE, "--%s all runs the options in turn: it is for %s",
                        all->preset_by->name, "a measuring command (run)");
        mlpio_error_hint(&err, "give one option (--%s N) to %s", all->preset_by->name,
                         all->command->name);
        mlpio_log_error(ctx, &err);
        return mlpio_exit_code(err.category);
    }
    if (sequence_delay(all, &delay, &err) < 0) {
        mlpio_log_error(ctx, &err);
        return mlpio_exit_code(err.category);
    }
    /* One id for the whole sequence, the same on every rank. */
    long long id = (long long)time(NULL);
    MPI_Bcast(&id, 1, MPI_LONG_LONG, 0, ctx->comm);
    time_t t = (time_t)id;
    struct tm tm;
    char sid[32];
    localtime_r(&t, &tm);
    strftime(sid, sizeof(sid), "%Y%m%d_%H%M%S", &tm);
    int count = 0, code = MLPIO_EXIT_OK;
    for (const struct mlpio_preset *p = all->preset_by->presets; p->value; p++)
        count++;
    int position = 0;
    for (const struct mlpio_preset *p = all->preset_by->presets; p->value && code == 0; p++) {
        char joined[256];
        char **args = argv_for(argc, argv, all, p->value, joined, sizeof(joined));
        struct mlpio_cli cli;
        if (!args) {
            mlpio_error_set(&err, MLPIO_ERR_INTERNAL, "out of memory");
            mlpio_log_error(ctx, &err);
            return MLPIO_EXIT_INTERNAL;
        }
        double waited = position ? delay : 0;
        if (position)
            wait_between(ctx, delay, p->value, all);
        if (mlpio_signals_interrupted()) {
            free(args);
            return MLPIO_EXIT_INTERRUPTED;
        }
        position++;
        mlpio_log(ctx, MLPIO_LOG_NORMAL, "--%s all: %s %d of %d (--%s %s)\n", all->preset_by->name,
                  "run", position, count, all->preset_by->name, p->value);
        if (mlpio_cli_parse(argc, args, &cli, &err) < 0) {
            mlpio_log_error(ctx, &err);
            code = mlpio_exit_code(err.category);
        } else {
            snprintf(cli.sequence_id, sizeof(cli.sequence_id), "%s", sid);
            cli.sequence_position = position;
            cli.sequence_count = count;
            cli.sequence_delay = delay;
            cli.sequence_waited = waited;
            code = mlpio_run_main(ctx, &cli);
        }
        mlpio_cli_free(&cli);
        free(args);
        if (code != 0 && p[1].value)
            mlpio_log(ctx, MLPIO_LOG_QUIET,
                      "--%s all: stopped after --%s %s (exit %d); the later options did not "
                      "run\n",
                      all->preset_by->name, all->preset_by->name, p->value, code);
    }
    return code;
}
