/* Training data loader: see loader.h. */
#include "app/workloads/training/loader.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct mlpio_loader {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    pthread_t *thread;
    int threads, started;
    int prefetch;
    uint64_t batch;
    mlpio_loader_read_fn read;
    void *arg;
    bool shutdown;
    /* the epoch */
    bool active;
    uint32_t nfiles;
    uint64_t *first;    /* first sample of each file in the stream (nfiles + 1 entries) */
    bool *done;         /* file read */
    uint32_t next_file; /* next file to hand out */
    uint32_t prefix;    /* files 0..prefix-1 are all read */
    uint64_t consuming; /* the batch the main thread waits for or computes on */
    int in_flight;
    bool failed;
    struct mlpio_error error;
};

struct worker {
    struct mlpio_loader *l;
    int id;
};

/* May a thread start file i now? Not beyond the prefetch window. */
static bool may_start(const struct mlpio_loader *l, uint32_t i)
{
    uint64_t limit = (l->consuming + 1 + (uint64_t)l->prefetch) * l->batch;
    return l->first[i] < limit;
}

static void *reader(void *p)
{
    struct worker *w = p;
    struct mlpio_loader *l = w->l;
    pthread_mutex_lock(&l->lock);
    for (;;) {
        while (!l->shutdown &&
               !(l->active && !l->failed && l->next_file < l->nfiles && may_start(l, l->next_file)))
            pthread_cond_wait(&l->changed, &l->lock);
        if (l->shutdown)
            break;
        uint32_t i = l->next_file++;
        l->in_flight++;
        pthread_mutex_unlock(&l->lock);
        struct mlpio_error err = {0};
        int rc = l->read(l->arg, w->id, i, &err);
        pthread_mutex_lock(&l->lock);
        l->in_flight--;
        if (rc < 0 && !l->failed) {
            l->failed = true;
            l->error = err;
        }
        l->done[i] = true;
        while (l->prefix < l->nfiles && l->done[l->prefix])
            l->prefix++;
        pthread_cond_broadcast(&l->changed);
    }
    pthread_mutex_unlock(&l->lock);
    free(w);
    return NULL;
}

struct mlpio_loader *mlpio_loader_create(int threads, int prefetch, uint64_t batch_samples,
                                         mlpio_loader_read_fn read, void *arg,
                                         struct mlpio_error *err)
{
    struct mlpio_loader *l = calloc(1, sizeof(*l));
    if (!l || threads < 1 || batch_samples < 1) {
        free(l);
        mlpio_error_set(err, MLPIO_ERR_INTERNAL, "loader: bad arguments or out of memory");
        return NULL;
    }
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->changed, NULL);
    l->threads = threads;
    l->prefetch = prefetch < 0 ? 0 : prefetch;
    l->batch = batch_samples;
    l->read = read;
    l->arg = arg;
    l->thread = calloc((size_t)threads, sizeof(pthread_t));
    for (int i = 0; l->thread && i < threads; i++) {
        struct worker *w = malloc(sizeof(*w));
        if (!w)
            break;
        w->l = l;
        w->id = i;
        if (pthread_create(&l->thread[i], NULL, reader, w) != 0) {
            free(w);
            break;
        }
        l->started++;
    }
    if (l->started < threads) {
        mlpio_error_set(err, MLPIO_ERR_INTERNAL, "loader: cannot start %d read threads", threads);
        mlpio_loader_destroy(&l);
        return NULL;
    }
    return l;
}

static void free_epoch(struct mlpio_loader *l)
{
    free(l->first);
    free(l->done);
    l->first = NULL;
    l->done = NULL;
    l->nfiles = 0;
}

void mlpio_loader_end(struct mlpio_loader *l)
{
    pthread_mutex_lock(&l->lock);
    l->active = false;
    while (l->in_flight > 0)
        pthread_cond_wait(&l->changed, &l->lock);
    free_epoch(l);
    pthread_mutex_unlock(&l->lock);
}

void mlpio_loader_destroy(struct mlpio_loader **lp)
{
    struct mlpio_loader *l = lp ? *lp : NULL;
    if (!l)
        return;
    mlpio_loader_end(l);
    pthread_mutex_lock(&l->lock);
    l->shutdown = true;
    pthread_cond_broadcast(&l->changed);
    pthread_mutex_unlock(&l->lock);
    for (int i = 0; i < l->started; i++)
        pthread_join(l->thread[i], NULL);
    free(l->thread);
    pthread_cond_destroy(&l->changed);
    pthread_mutex_destroy(&l->lock);
    free(l);
    *lp = NULL;
}

int mlpio_loader_start(struct mlpio_loader *l, uint32_t nfiles, const uint64_t *samples,
                       struct mlpio_error *err)
{
    uint64_t *first = malloc(sizeof(uint64_t) * ((size_t)nfiles + 1));
    bool *done = calloc((size_t)nfiles + 1, sizeof(bool));
    if (!first || !done) {
        free(first);
        free(done);
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "loader: out of memory for %u files",
                               nfiles);
    }
    first[0] = 0;
    for (uint32_t i = 0; i < nfiles; i++)
        first[i + 1] = first[i] + samples[i];
    pthread_mutex_lock(&l->lock);
    free_epoch(l);
    l->first = first;
    l->done = done;
    l->nfiles = nfiles;
    l->next_file = 0;
    l->prefix = 0;
    l->consuming = 0;
    l->failed = false;
    l->active = true;
    pthread_cond_broadcast(&l->changed);
    pthread_mutex_unlock(&l->lock);
    return 0;
}

int mlpio_loader_wait(struct mlpio_loader *l, uint64_t b, struct mlpio_error *err)
{
    pthread_mutex_lock(&l->lock);
    l->consuming = b;
    pthread_cond_broadcast(&l->changed); /* the prefetch window moved */
    uint64_t need = (b + 1) * l->batch;
    if (need > l->first[l->nfiles])
        need = l->first[l->nfiles];
    while (!l->failed && l->first[l->prefix] < need)
        pthread_cond_wait(&l->changed, &l->lock);
    int rc = 0;
    if (l->failed) {
        if (err)
            *err = l->error;
        rc = -1;
    }
    pthread_mutex_unlock(&l->lock);
    return rc;
}
