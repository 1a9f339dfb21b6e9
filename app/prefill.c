/* mlpio prefill: see prefill.h.
 *
 * A ring of `depth` buffers, used in piece order: piece k lives in buf[k % depth]. The
 * generator composes piece `published` once its slot is free: the pieces published but not
 * taken, the one the writer holds (handed out by next() and in use until the writer asks again)
 * and the one being composed must fit the ring. Pieces carry no stream number: streams are
 * produced one after the other, so the pieces of the current stream are those published before
 * its producer returned (`end`), or all of them while it runs.
 *
 * stop() bumps the generation: a producer waiting in put() gets NULL, and whatever a producer
 * of an older generation returns is discarded. */
#include "app/prefill.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "io/io.h"

struct stream {
    mlpio_prefill_fn fn;
    void *arg;
    /* start(): the object whose bytes are streamed */
    struct mlpio_data_object obj;
    uint64_t bytes;
    size_t chunk;
    /* set when the producer returns */
    bool produced;
    uint64_t end; /* pieces published by then */
    int rc;
    struct mlpio_error err;
};

struct mlpio_prefill {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    pthread_t thread;
    bool thread_started;
    bool shutdown;
    size_t chunk;
    int depth;
    void **buf;
    size_t *len;   /* per slot: the piece's length */
    uint64_t *off; /* per slot: its file offset */
    struct stream s[MLPIO_PREFILL_STREAMS];
    uint64_t head;      /* streams finished by the writer: s[head % N] is the current one */
    uint64_t producing; /* streams whose producer has returned */
    uint64_t tail;      /* streams queued */
    uint64_t published; /* pieces handed over by producers */
    uint64_t taken;     /* pieces handed to the writer */
    bool held;          /* the writer still uses piece taken-1 */
    uint64_t generation;
    bool busy; /* a producer runs outside the lock */
};

struct put_ctx {
    struct mlpio_prefill *p;
    uint64_t generation;
};

static bool slot_free(const struct mlpio_prefill *p)
{
    return p->published - p->taken + (p->held ? 1 : 0) + 1 <= (uint64_t)p->depth;
}

/* Wait for the slot of piece `published`; false when the stream is abandoned meanwhile. */
static bool wait_slot(struct mlpio_prefill *p, uint64_t generation)
{
    while (!p->shutdown && generation == p->generation && !slot_free(p))
        pthread_cond_wait(&p->changed, &p->lock);
    return !p->shutdown && generation == p->generation;
}

static void *put(void *arg, void *buf, size_t len, uint64_t off, struct mlpio_error *err)
{
    struct put_ctx *c = arg;
    struct mlpio_prefill *p = c->p;
    void *next = NULL;
    pthread_mutex_lock(&p->lock);
    if (!p->shutdown && c->generation == p->generation) {
        uint64_t k = p->published % (uint64_t)p->depth;
        p->len[k] = len;
        p->off[k] = off;
        p->published++;
        pthread_cond_broadcast(&p->changed);
        if (wait_slot(p, c->generation))
            next = p->buf[p->published % (uint64_t)p->depth];
    }
    pthread_mutex_unlock(&p->lock);
    (void)buf;
    if (!next)
        mlpio_error_set(err, MLPIO_ERR_INTERRUPTED, "data generation abandoned");
    return next;
}

/* The producer of start(): the object's bytes in chunks. */
static int fill_object(void *arg, void *buf, size_t buflen, const struct mlpio_format_sink *sink,
                       struct mlpio_error *err)
{
    const struct stream *s = arg;
    for (uint64_t off = 0; off < s->bytes;) {
        size_t n = (size_t)(s->bytes - off < s->chunk ? s->bytes - off : s->chunk);
        mlpio_data_fill(&s->obj, off, buf, n);
        if (!(buf = sink->put(sink->arg, buf, n, off, err)))
            return -1;
        off += n;
    }
    (void)buflen;
    return 0;
}

static void *generator(void *arg)
{
    struct mlpio_prefill *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->shutdown && p->producing == p->tail)
            pthread_cond_wait(&p->changed, &p->lock);
        if (p->shutdown)
            break;
        struct put_ctx c = {p, p->generation};
        struct stream *s = &p->s[p->producing % MLPIO_PREFILL_STREAMS];
        if (!wait_slot(p, c.generation))
            continue; /* abandoned (or shutting down) before it began */
        mlpio_prefill_fn fn = s->fn;
        void *fn_arg = s->arg;
        void *first = p->buf[p->published % (uint64_t)p->depth];
        struct mlpio_format_sink sink = {put, &c};
        struct mlpio_error err = {0};
        p->busy = true;
        pthread_mutex_unlock(&p->lock);
        int rc = fn(fn_arg, first, p->chunk, &sink, &err);
        pthread_mutex_lock(&p->lock);
        p->busy = false;
        if (c.generation == p->generation) {
            s->produced = true;
            s->end = p->published;
            s->rc = rc;
            if (rc != 0)
                s->err = err;
            p->producing++;
        }
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
    p->len = calloc((size_t)p->depth, sizeof(size_t));
    p->off = calloc((size_t)p->depth, sizeof(uint64_t));
    if (!p->buf || !p->len || !p->off)
        goto fail;
    for (int i = 0; i < p->depth; i++)
        if (!(p->buf[i] = mlpio_io_buffer_alloc(chunk)))
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
    free(p->len);
    free(p->off);
    pthread_cond_destroy(&p->changed);
    pthread_mutex_destroy(&p->lock);
    free(p);
    *pp = NULL;
}

/* Under the lock: abandon every stream and wait until no producer runs. The queue is emptied
 * first, so that the generator, once its producer gives up, finds nothing to start. */
static void reset(struct mlpio_prefill *p)
{
    p->generation++;
    p->head = p->producing = p->tail = 0;
    p->published = p->taken = 0;
    p->held = false;
    pthread_cond_broadcast(&p->changed);
    while (p->busy)
        pthread_cond_wait(&p->changed, &p->lock);
}

/* Under the lock: the next free stream, queued (its fields may be set until the lock is let
 * go). */
static struct stream *push(struct mlpio_prefill *p, mlpio_prefill_fn fn, void *arg)
{
    struct stream *s = &p->s[p->tail % MLPIO_PREFILL_STREAMS];
    memset(s, 0, sizeof(*s));
    s->fn = fn;
    s->arg = arg;
    p->tail++;
    pthread_cond_broadcast(&p->changed);
    return s;
}

void mlpio_prefill_start(struct mlpio_prefill *p, const struct mlpio_data_object *obj,
                         uint64_t bytes)
{
    pthread_mutex_lock(&p->lock);
    reset(p);
    struct stream *s = push(p, fill_object, NULL);
    s->arg = s;
    s->obj = *obj;
    s->bytes = bytes;
    s->chunk = p->chunk;
    pthread_mutex_unlock(&p->lock);
}

int mlpio_prefill_queue(struct mlpio_prefill *p, mlpio_prefill_fn fn, void *arg,
                        struct mlpio_error *err)
{
    pthread_mutex_lock(&p->lock);
    bool full = p->tail - p->head >= MLPIO_PREFILL_STREAMS;
    if (!full)
        push(p, fn, arg);
    pthread_mutex_unlock(&p->lock);
    if (full)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                               "data generation queue full (%d streams): finish one first",
                               MLPIO_PREFILL_STREAMS);
    return 0;
}

const void *mlpio_prefill_next(struct mlpio_prefill *p, uint64_t *offset, size_t *len)
{
    const void *piece = NULL;
    pthread_mutex_lock(&p->lock);
    p->held = false; /* the writer is done with the piece it had */
    pthread_cond_broadcast(&p->changed);
    const struct stream *s = &p->s[p->head % MLPIO_PREFILL_STREAMS];
    while (p->head < p->tail) {
        bool mine = !s->produced || p->taken < s->end;
        if (p->taken < p->published && mine) {
            uint64_t k = p->taken % (uint64_t)p->depth;
            piece = p->buf[k];
            *offset = p->off[k];
            *len = p->len[k];
            p->taken++;
            p->held = true;
            break;
        }
        if (s->produced)
            break;
        pthread_cond_wait(&p->changed, &p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return piece;
}

int mlpio_prefill_finish(struct mlpio_prefill *p, struct mlpio_error *err)
{
    int rc = 0;
    pthread_mutex_lock(&p->lock);
    p->held = false;
    const struct stream *s = &p->s[p->head % MLPIO_PREFILL_STREAMS];
    if (p->head < p->tail) {
        /* Drop what the writer did not take, so that a producer waiting for a slot goes on. */
        while (!s->produced) {
            p->taken = p->published;
            pthread_cond_broadcast(&p->changed);
            pthread_cond_wait(&p->changed, &p->lock);
        }
        if (p->taken < s->end)
            p->taken = s->end;
        rc = s->rc;
        if (rc != 0 && err)
            *err = s->err;
        p->head++;
        pthread_cond_broadcast(&p->changed);
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void mlpio_prefill_stop(struct mlpio_prefill *p)
{
    pthread_mutex_lock(&p->lock);
    reset(p);
    pthread_mutex_unlock(&p->lock);
}
