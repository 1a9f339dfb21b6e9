/* mlpio prefill: see prefill.h.
 *
 * A ring of `depth` buffers. The generator fills slot (filled % depth) once the writer has
 * given it back; the writer takes slot (taken % depth). A slot handed out by next() counts
 * as in use until the following next(), so the generator never overwrites what is being
 * written. stop() bumps the stream's generation; a chunk generated for an older stream is
 * discarded. */
#include "app/prefill.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "io/io.h"

struct mlpio_prefill {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    pthread_t thread;
    bool thread_started;
    bool shutdown;
    size_t chunk;
    int depth;
    void **buf;
    /* the stream */
    struct mlpio_data_object obj;
    uint64_t bytes;
    uint64_t generation;
    uint64_t filled; /* chunks generated so far */
    uint64_t taken;  /* chunks handed to the writer so far */
    bool busy;       /* the generator is filling a slot outside the lock */
};

static uint64_t chunks_of(const struct mlpio_prefill *p)
{
    return (p->bytes + p->chunk - 1) / p->chunk;
}

static void *generator(void *arg)
{
    struct mlpio_prefill *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        /* A slot is free once the writer has moved past it: at most depth-1 chunks ahead
         * of the one being written. */
        while (!p->shutdown &&
               (p->filled >= chunks_of(p) || p->filled >= p->taken + (uint64_t)p->depth - 1))
            pthread_cond_wait(&p->changed, &p->lock);
        if (p->shutdown)
            break;
        uint64_t k = p->filled, gen = p->generation;
        uint64_t off = k * p->chunk;
        size_t n = (size_t)(p->bytes - off < p->chunk ? p->bytes - off : p->chunk);
        struct mlpio_data_object obj = p->obj;
        void *slot = p->buf[k % (uint64_t)p->depth];
        p->busy = true;
        pthread_mutex_unlock(&p->lock);
        mlpio_data_fill(&obj, off, slot, n);
        pthread_mutex_lock(&p->lock);
        p->busy = false;
        if (gen == p->generation)
            p->filled = k + 1;
        pthread_cond_broadcast(&p->changed);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

struct mlpio_prefill *mlpio_prefill_create(size_t chunk, int depth, struct mlpio_error *err)
{
    struct mlpio_prefill *p = calloc(1, sizeof(*p));
    if (!p) {
        mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    p->chunk = chunk;
    p->depth = depth < 2 ? 2 : depth;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->changed, NULL);
    p->buf = calloc((size_t)p->depth, sizeof(void *));
    for (int i = 0; p->buf && i < p->depth; i++)
        if (!(p->buf[i] = mlpio_io_buffer_alloc(chunk)))
            goto fail;
    if (!p->buf)
        goto fail;
    if (pthread_create(&p->thread, NULL, generator, p) != 0)
        goto fail;
    p->thread_started = true;
    return p;
fail:
    mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                    "cannot set up data generation (%d buffers of %zu bytes and a thread)",
                    p->depth, chunk);
    mlpio_prefill_destroy(&p);
    return NULL;
}

void mlpio_prefill_destroy(struct mlpio_prefill **pp)
{
    struct mlpio_prefill *p = pp ? *pp : NULL;
    if (!p)
        return;
    if (p->thread_started) {
        pthread_mutex_lock(&p->lock);
        p->shutdown = true;
        pthread_cond_broadcast(&p->changed);
        pthread_mutex_unlock(&p->lock);
        pthread_join(p->thread, NULL);
    }
    for (int i = 0; p->buf && i < p->depth; i++)
        mlpio_io_buffer_free(p->buf[i]);
    free(p->buf);
    pthread_cond_destroy(&p->changed);
    pthread_mutex_destroy(&p->lock);
    free(p);
    *pp = NULL;
}

void mlpio_prefill_start(struct mlpio_prefill *p, const struct mlpio_data_object *obj,
                         uint64_t bytes)
{
    pthread_mutex_lock(&p->lock);
    p->obj = *obj;
    p->bytes = bytes;
    p->filled = 0;
    p->taken = 0;
    p->generation++;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
}

const void *mlpio_prefill_next(struct mlpio_prefill *p, uint64_t *offset, size_t *len)
{
    pthread_mutex_lock(&p->lock);
    uint64_t total = chunks_of(p);
    if (p->taken >= total) {
        pthread_mutex_unlock(&p->lock);
        return NULL;
    }
    /* Taking chunk k releases chunk k-1's slot to the generator. */
    uint64_t k = p->taken;
    while (p->filled <= k)
        pthread_cond_wait(&p->changed, &p->lock);
    p->taken = k + 1;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
    *offset = k * p->chunk;
    *len = (size_t)(p->bytes - *offset < p->chunk ? p->bytes - *offset : p->chunk);
    return p->buf[k % (uint64_t)p->depth];
}

void mlpio_prefill_stop(struct mlpio_prefill *p)
{
    pthread_mutex_lock(&p->lock);
    p->generation++;
    p->bytes = 0;
    p->filled = 0;
    p->taken = 0;
    while (p->busy)
        pthread_cond_wait(&p->changed, &p->lock);
    pthread_mutex_unlock(&p->lock);
}
