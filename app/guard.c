/* mlpio interruption guard: see guard.h. */
#include "app/guard.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/cli.h"
#include "app/run.h"
#include "app/signals.h"
#include "report/json_file.h"

struct mlpio_guard {
    pthread_t thread;
    pthread_mutex_t lock; /* recursive: the record's writer appends events under it */
    pthread_cond_t changed;
    bool stopping, fired, closed;
    double grace;
    char *metadata_path, *summary_path;
    cJSON *metadata;
    struct mlpio_eventlog **events;
};

static void deadline_after(struct timespec *ts, double seconds)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    double ns = (double)ts->tv_nsec + seconds * 1e9;
    ts->tv_sec += (time_t)(ns / 1e9);
    ts->tv_nsec = (long)(ns - (double)(time_t)(ns / 1e9) * 1e9);
}

static void replace(cJSON *obj, const char *key, cJSON *value)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    cJSON_AddItemToObject(obj, key, value);
}

static const char *signal_name(int sig)
{
    return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
}

static void append(struct mlpio_guard *g, const char *name, cJSON *context)
{
    struct mlpio_error err = {0};
    if (*g->events)
        (void)mlpio_eventlog_append(*g->events, name, context, &err);
    cJSON_Delete(context);
}

/* Under the lock. A file it cannot write stays as it was (the exception event counts them):
 * no one is left to tell. */
static void write_record(struct mlpio_guard *g)
{
    char message[256];
    snprintf(message, sizeof(message),
             "interrupted by %s; the ranks had not stopped %.1f s later, so this record was "
             "written before the run ended",
             signal_name(mlpio_signals_received()), g->grace);
    const char *hint = "to let the ranks finish the record themselves, give them more time "
                       "between SIGTERM and SIGKILL (mpirun --mca odls_base_sigkill_timeout "
                       "10; Slurm's KillWait)";
    struct mlpio_error err = {0};
    cJSON *m = g->metadata;
    replace(m, "status", cJSON_CreateString("failed"));
    mlpio_json_set_time(m, "end_time", mlpio_json_now());
    cJSON *exit_status = cJSON_CreateObject();
    cJSON_AddNumberToObject(exit_status, "code", MLPIO_EXIT_INTERRUPTED);
    cJSON_AddStringToObject(exit_status, "name", mlpio_exit_name(MLPIO_EXIT_INTERRUPTED));
    cJSON_AddStringToObject(exit_status, "error", message);
    cJSON_AddStringToObject(exit_status, "category", "interrupted");
    cJSON_AddStringToObject(exit_status, "hint", hint);
    cJSON_AddStringToObject(exit_status, "record", "written on interruption");
    replace(m, "exit_status", exit_status);
    /* An interrupted run measured nothing to judge, as app/run.c records a failed run. */
    replace(m, "verdict", cJSON_CreateNull());
    int failed = mlpio_json_write_atomic(g->metadata_path, m, &err) < 0;

    cJSON *s = cJSON_CreateObject();
    static const char *const copied[] = {"benchmark", "model", "command", "run_id"};
    for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, copied[i]);
        cJSON_AddItemToObject(s, copied[i], v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
    }
    cJSON_AddNullToObject(s, "verdict");
    cJSON_AddNumberToObject(s, "exit_code", MLPIO_EXIT_INTERRUPTED);
    cJSON_AddStringToObject(s, "status", "interrupted");
    failed += mlpio_json_write_atomic(g->summary_path, s, &err) < 0;
    cJSON_Delete(s);

    cJSON *ex = cJSON_CreateObject();
    cJSON_AddStringToObject(ex, "category", "interrupted");
    cJSON_AddStringToObject(ex, "message", message);
    cJSON_AddStringToObject(ex, "hint", hint);
    cJSON_AddNumberToObject(ex, "files_not_written", failed);
    append(g, "exception", ex);
    cJSON *finish = cJSON_CreateObject();
    cJSON_AddNumberToObject(finish, "exit_code", MLPIO_EXIT_INTERRUPTED);
    cJSON_AddStringToObject(finish, "status", mlpio_exit_name(MLPIO_EXIT_INTERRUPTED));
    append(g, "finish", finish);
    g->fired = true;
    pthread_cond_broadcast(&g->changed);
}

static void *guard_main(void *arg)
{
    struct mlpio_guard *g = arg;
    for (;;) {
        mlpio_signals_wait();
        pthread_mutex_lock(&g->lock);
        bool stop = g->stopping, go = mlpio_signals_interrupted();
        pthread_mutex_unlock(&g->lock);
        if (stop)
            return NULL;
        if (go)
            break;
    }
    struct timespec deadline;
    deadline_after(&deadline, g->grace);
    pthread_mutex_lock(&g->lock);
    while (!g->stopping && !g->closed &&
           pthread_cond_timedwait(&g->changed, &g->lock, &deadline) != ETIMEDOUT)
        ;
    if (!g->stopping && !g->closed)
        write_record(g);
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

static void guard_free(struct mlpio_guard *g)
{
    pthread_cond_destroy(&g->changed);
    pthread_mutex_destroy(&g->lock);
    cJSON_Delete(g->metadata);
    free(g->metadata_path);
    free(g->summary_path);
    free(g);
}

struct mlpio_guard *mlpio_guard_start(const char *metadata_path, const char *summary_path,
                                      const cJSON *metadata, struct mlpio_eventlog **events,
                                      double grace, struct mlpio_error *err)
{
    struct mlpio_guard *g = calloc(1, sizeof(*g));
    if (!g) {
        mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "starting the interruption guard");
        return NULL;
    }
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&g->lock, &ma);
    pthread_mutexattr_destroy(&ma);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->changed, &ca);
    pthread_condattr_destroy(&ca);
    g->grace = grace;
    g->events = events;
    g->metadata_path = strdup(metadata_path);
    g->summary_path = strdup(summary_path);
    g->metadata = cJSON_Duplicate(metadata, 1);
    if (!g->metadata_path || !g->summary_path || !g->metadata) {
        guard_free(g);
        mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "starting the interruption guard");
        return NULL;
    }
    /* The guard takes no signal: they reach the thread that polls the flag. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&g->thread, NULL, guard_main, g);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        guard_free(g);
        mlpio_error_errno(err, MLPIO_ERR_INTERNAL, rc, "starting the interruption guard");
        return NULL;
    }
    return g;
}

void mlpio_guard_lock(struct mlpio_guard *g)
{
    if (g)
        pthread_mutex_lock(&g->lock);
}

void mlpio_guard_unlock(struct mlpio_guard *g)
{
    if (g)
        pthread_mutex_unlock(&g->lock);
}

bool mlpio_guard_fired(const struct mlpio_guard *g)
{
    return g && g->fired;
}

void mlpio_guard_closed(struct mlpio_guard *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    g->closed = true;
    pthread_cond_broadcast(&g->changed);
    pthread_mutex_unlock(&g->lock);
}

void mlpio_guard_stop(struct mlpio_guard **gp)
{
    if (!gp || !*gp)
        return;
    struct mlpio_guard *g = *gp;
    pthread_mutex_lock(&g->lock);
    g->stopping = true;
    pthread_cond_broadcast(&g->changed);
    pthread_mutex_unlock(&g->lock);
    mlpio_signals_wake();
    pthread_join(g->thread, NULL);
    guard_free(g);
    *gp = NULL;
}
