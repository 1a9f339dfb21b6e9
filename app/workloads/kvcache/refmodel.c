/* mlpio KV-cache reference model: open-loop users, one object per turn (see refmodel.h).
 *
 * The calling thread schedules arrivals (a heap of each user's next send time) and queues
 * requests; workers take them interactive-first. A conversation's turns are registered when a
 * request is queued, as the reference registers them, so a worker reads the turns listed then
 * (a later turn not stored yet is a miss). One lock guards the queue, the conversations and
 * the counters; I/O runs outside it.
 */
#include "app/workloads/kvcache/refmodel.h"

#include "app/workloads/kvcache/trial.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* System prompts of the reference (prefix_cache.py): their tokens are the turn's trim. */
static const uint32_t prompt_tokens[] = {5, 9, 6};

struct conv {
    struct conv *next; /* every conversation of the trial, for freeing */
    uint32_t user, serial;
    struct mlpio_kv_block *turns;
    uint32_t n, cap;
};

struct user {
    struct mlpio_kv_user u; /* the generator, template and QoS class */
    uint32_t context, generated;
    double think;
    struct conv *conv; /* the open conversation, or NULL */
    uint32_t conversations;
};

struct req {
    struct user *user;
    struct conv *conv;
    uint32_t turn, context, written, generated;
    bool decode;
    double arrival;
    uint64_t seq;
};

struct arrival {
    double t;
    uint32_t user;
};

struct worker {
    struct mlpio_kv_worker b; /* first: the thread, scratch, latencies (trial.h) */
    struct ref *e;
    struct mlpio_hist storage;
    uint64_t written_tokens, generated_tokens, tried, found;
    double storage_seconds;
};

struct ref {
    const struct mlpio_kv_ref_config *cfg;
    struct mlpio_kv_cache *cache;
    pthread_mutex_t lock;
    pthread_cond_t sched_cv, work_cv, alloc_cv;
    struct user *users;
    struct arrival *arrivals; /* heap, one per user */
    size_t narrivals;
    struct req **queue; /* heap */
    size_t nqueue, cap;
    struct conv *convs;
    uint64_t seq;
    uint32_t active, allocating;
    bool shutdown, failed, cut;
    bool halt; /* read by workers without the lock (atomically) */
    struct mlpio_error first_err;
    struct mlpio_kv_ending c; /* what the scheduler counts (trial.h) */
    double deadline;
    uint64_t completed;
};

static bool halted(const struct ref *e)
{
    return __atomic_load_n(&e->halt, __ATOMIC_RELAXED);
}

uint64_t mlpio_kv_ref_object_bytes(uint64_t tokens, uint64_t bytes_per_token, double scale)
{
    double b = ceil((double)(MLPIO_KV_REF_HEADER_BYTES + tokens * bytes_per_token) * scale);
    return b < 1 ? 1 : (uint64_t)b;
}

/* ---- heaps ------------------------------------------------------------------------------ */

static bool arrival_less(const struct arrival *a, const struct arrival *b)
{
    return a->t < b->t || (a->t == b->t && a->user < b->user);
}

static void arrival_push(struct ref *e, struct arrival a)
{
    size_t i = e->narrivals++;
    while (i > 0 && arrival_less(&a, &e->arrivals[(i - 1) / 2])) {
        e->arrivals[i] = e->arrivals[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    e->arrivals[i] = a;
}

static struct arrival arrival_pop(struct ref *e)
{
    struct arrival top = e->arrivals[0], last = e->arrivals[--e->narrivals];
    size_t i = 0, n = e->narrivals;
    for (size_t c; (c = 2 * i + 1) < n; i = c) {
        if (c + 1 < n && arrival_less(&e->arrivals[c + 1], &e->arrivals[c]))
            c++;
        if (!arrival_less(&e->arrivals[c], &last))
            break;
        e->arrivals[i] = e->arrivals[c];
    }
    if (n)
        e->arrivals[i] = last;
    return top;
}

/* Interactive first (the reference's priority), then by arrival. */
static bool req_less(const struct req *a, const struct req *b)
{
    if (a->user->u.qos != b->user->u.qos)
        return a->user->u.qos < b->user->u.qos;
    return a->arrival < b->arrival || (a->arrival == b->arrival && a->seq < b->seq);
}

static int queue_push(struct ref *e, struct req *r)
{
    if (e->nqueue == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 256;
        struct req **grown = realloc(e->queue, cap * sizeof(*grown));
        if (!grown)
            return -1;
        e->queue = grown;
        e->cap = cap;
    }
    size_t i = e->nqueue++;
    while (i > 0 && req_less(r, e->queue[(i - 1) / 2])) {
        e->queue[i] = e->queue[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    e->queue[i] = r;
    return 0;
}

static struct req *queue_pop(struct ref *e)
{
    struct req *top = e->queue[0], *last = e->queue[--e->nqueue];
    size_t i = 0, n = e->nqueue;
    for (size_t c; (c = 2 * i + 1) < n; i = c) {
        if (c + 1 < n && req_less(e->queue[c + 1], e->queue[c]))
            c++;
        if (!req_less(e->queue[c], last))
            break;
        e->queue[i] = e->queue[c];
    }
    if (n)
        e->queue[i] = last;
    return top;
}

/* ---- requests --------------------------------------------------------------------------- */

static double think(struct user *u)
{
    return u->think * mlpio_kv_rng_uniform(&u->u.rng, 0.8, 1.2);
}

static uint32_t quarter_to_full(struct mlpio_kv_rng *rng, uint32_t n)
{
    return mlpio_kv_rng_range(rng, n / 4 > 0 ? n / 4 : 1, n);
}

/* Under the lock: the user's next request, its turn registered in its conversation. */
static struct req *make_request(struct ref *e, struct user *u, double t)
{
    const struct mlpio_kv_ref_config *cfg = e->cfg;
    struct mlpio_kv_rng *rng = &u->u.rng;
    if (u->conv && (!cfg->multi_turn || u->conv->n >= cfg->max_turns ||
                    mlpio_kv_rng_uniform(rng, 0, 1) >= cfg->continue_probability))
        u->conv = NULL;
    struct req *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    if (!u->conv) {
        struct conv *c = calloc(1, sizeof(*c));
        if (!c) {
            free(r);
            return NULL;
        }
        c->user = u->u.id;
        c->serial = u->conversations++;
        c->next = e->convs;
        e->convs = c;
        u->conv = c;
        e->c.conversations++;
    }
    struct conv *c = u->conv;
    if (c->n == c->cap) {
        uint32_t cap = c->cap ? 2 * c->cap : 8;
        struct mlpio_kv_block *grown = realloc(c->turns, cap * sizeof(*grown));
        if (!grown) {
            free(r);
            return NULL;
        }
        c->turns = grown;
        c->cap = cap;
    }
    r->user = u;
    r->conv = c;
    r->turn = c->n + 1;
    r->context = quarter_to_full(rng, u->context);
    r->generated = quarter_to_full(rng, u->generated);
    r->decode = r->context < MLPIO_KV_REF_DECODE_MAX_CONTEXT;
    r->written = r->context;
    if (cfg->prefix_caching && mlpio_kv_rng_uniform(rng, 0, 1) < MLPIO_KV_REF_PREFIX_PROBABILITY) {
        uint32_t trim = prompt_tokens[mlpio_kv_rng_range(rng, 0, 2)];
        r->written = r->context > trim ? r->context - trim : 1;
    }
    r->arrival = t;
    r->seq = e->seq++;
    c->turns[c->n++] = (struct mlpio_kv_block){
        .id = mlpio_kv_chain(NULL, ((uint64_t)c->user << 32) | c->serial, r->turn),
        .depth = r->turn - 1,
        .bytes = mlpio_kv_ref_object_bytes(r->written, cfg->bytes_per_token, cfg->scale)};
    e->c.turns++;
    return r;
}

/* A storage call, timed into *seconds. */
static int get(struct worker *w, const struct mlpio_kv_block *b, bool *hit, double *seconds,
               struct mlpio_error *err)
{
    struct mlpio_kv_result res;
    double t0 = mlpio_kv_now();
    int rc = mlpio_kv_get(w->e->cache, &w->b.scratch, b, &res, err);
    *seconds += mlpio_kv_now() - t0;
    *hit = rc == 0 && res.tier != MLPIO_KV_NONE;
    return rc;
}

/* A write, at most max_concurrent_allocs at once; waiting for a turn is not storage time. */
static int put(struct worker *w, const struct mlpio_kv_block *b, double *seconds,
               struct mlpio_error *err)
{
    struct ref *e = w->e;
    uint32_t max = e->cfg->max_concurrent_allocs;
    pthread_mutex_lock(&e->lock);
    while (max && e->allocating >= max && !halted(e))
        pthread_cond_wait(&e->alloc_cv, &e->lock);
    e->allocating++;
    pthread_mutex_unlock(&e->lock);
    double t0 = mlpio_kv_now();
    int rc = halted(e) ? mlpio_error_set(err, MLPIO_ERR_INTERRUPTED, "trial ended")
                       : mlpio_kv_put(e->cache, &w->b.scratch, b, NULL, err);
    *seconds += mlpio_kv_now() - t0;
    pthread_mutex_lock(&e->lock);
    e->allocating--;
    pthread_cond_signal(&e->alloc_cv);
    pthread_mutex_unlock(&e->lock);
    return rc;
}

/* Sleep through generation in slices, so that a halt is seen within 100 ms. */
static void generate(struct worker *w, double seconds)
{
    double until = mlpio_kv_now() + seconds;
    for (double left = seconds; left > 0 && !halted(w->e); left = until - mlpio_kv_now()) {
        double s = left < 0.1 ? left : 0.1;
        struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

/* The reference's request: earlier turns, the write, the decode reads. */
static int process(struct worker *w, struct req *r, struct mlpio_kv_ref_io *io,
                   struct mlpio_error *err)
{
    struct ref *e = w->e;
    const struct mlpio_kv_ref_config *cfg = e->cfg;
    pthread_mutex_lock(&e->lock);
    uint32_t n = r->conv->n;
    struct mlpio_kv_block *earlier = malloc((n ? n : 1) * sizeof(*earlier)), own;
    own = r->conv->turns[r->turn - 1];
    uint32_t k = 0;
    for (uint32_t i = 0; earlier && i < n; i++)
        if (i != r->turn - 1)
            earlier[k++] = r->conv->turns[i];
    pthread_mutex_unlock(&e->lock);
    if (!earlier)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
    *io = (struct mlpio_kv_ref_io){.user = r->user->u.id,
                                   .conversation = r->conv->serial,
                                   .turn = r->turn,
                                   .context_tokens = r->context,
                                   .written_tokens = r->written,
                                   .generated_tokens = r->generated,
                                   .object_bytes = own.bytes};
    int rc = 0;
    bool hit;
    for (uint32_t i = 0; i < k && rc == 0; i++) {
        rc = get(w, &earlier[i], &hit, &io->storage_seconds, err);
        io->earlier_reads += rc == 0 && hit;
        io->earlier_misses += rc == 0 && !hit;
    }
    free(earlier);
    if (rc == 0 && (rc = put(w, &own, &io->storage_seconds, err)) == 0)
        io->writes++;
    uint32_t per_read = cfg->decode_tokens_per_read ? cfg->decode_tokens_per_read : 32;
    uint32_t reads = r->decode ? 1 + (r->generated + per_read - 1) / per_read : 0;
    for (uint32_t i = 0; i < reads && rc == 0; i++) {
        rc = get(w, &own, &hit, &io->storage_seconds, err);
        if (rc == 0 && !hit) { /* evicted already: written again, and no more reads */
            rc = put(w, &own, &io->storage_seconds, err);
            io->writes += rc == 0;
            break;
        }
        io->decode_reads += rc == 0;
    }
    if (rc == 0)
        generate(w, (double)r->generated * cfg->generation_seconds_per_token);
    if (rc == 0 && halted(e))
        rc = mlpio_error_set(err, MLPIO_ERR_INTERRUPTED, "trial ended");
    return rc;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct ref *e = w->e;
    pthread_mutex_lock(&e->lock);
    for (;;) {
        while (!e->nqueue && !e->shutdown)
            pthread_cond_wait(&e->work_cv, &e->lock);
        if (e->shutdown)
            break;
        struct req *r = queue_pop(e);
        e->active++;
        bool skip = e->failed;
        pthread_mutex_unlock(&e->lock);

        struct mlpio_error err = {0};
        struct mlpio_kv_ref_io io;
        int rc = skip ? 0 : process(w, r, &io, &err);
        double t = mlpio_kv_now();
        bool cut_off = rc < 0 && err.category == MLPIO_ERR_INTERRUPTED && halted(e);
        if (rc == 0 && !skip) {
            io.latency_seconds = t - r->arrival;
            io.arrival_seconds = r->arrival - e->c.start;
            mlpio_hist_add(&w->b.e2e, io.latency_seconds);
            mlpio_hist_add(&w->b.qos[r->user->u.qos], io.latency_seconds);
            mlpio_hist_add(&w->storage, io.storage_seconds);
            w->b.completed++;
            w->written_tokens += r->written;
            w->generated_tokens += r->generated;
            w->tried += io.earlier_reads + io.earlier_misses;
            w->found += io.earlier_reads;
            w->storage_seconds += io.storage_seconds;
            if (e->cfg->on_request)
                e->cfg->on_request(e->cfg->on_request_arg, &io);
        }

        pthread_mutex_lock(&e->lock);
        e->active--;
        if (cut_off && e->cut) {
            e->c.unfinished++;
            mlpio_hist_add(&e->c.cut_qos[r->user->u.qos], t - r->arrival);
        } else if (cut_off) {
            e->c.abandoned++;
        } else if (rc < 0) {
            e->c.failed++;
            if (!e->failed) {
                e->first_err = err;
                e->failed = true;
                __atomic_store_n(&e->halt, true, __ATOMIC_RELAXED);
                pthread_cond_broadcast(&e->alloc_cv);
            }
        } else if (!skip) {
            e->completed++;
        }
        free(r);
        pthread_cond_signal(&e->sched_cv);
    }
    pthread_mutex_unlock(&e->lock);
    return NULL;
}

/* ---- the trial -------------------------------------------------------------------------- */

/* Under the lock, at the end of the duration: what never started is dropped. */
static void drop_queue(struct ref *e)
{
    while (e->nqueue) {
        free(queue_pop(e));
        e->c.unstarted++;
    }
}

static void schedule(struct ref *e)
{
    const struct mlpio_kv_ref_config *cfg = e->cfg;
    pthread_mutex_lock(&e->lock);
    bool ended = false;
    for (;;) {
        double t = mlpio_kv_now();
        if (e->failed || (cfg->stop && cfg->stop()))
            break;
        while (!ended && e->narrivals && e->arrivals[0].t <= t && e->arrivals[0].t < e->c.end) {
            struct arrival a = arrival_pop(e);
            struct user *u = &e->users[a.user];
            mlpio_hist_add(&e->c.lag, t - a.t);
            struct req *r = make_request(e, u, a.t);
            if (!r || queue_push(e, r) < 0) {
                free(r);
                e->failed = true;
                mlpio_error_set(&e->first_err, MLPIO_ERR_INTERNAL, "out of memory for requests");
                break;
            }
            pthread_cond_signal(&e->work_cv);
            /* Open loop: the next request a think time after this one was sent. */
            arrival_push(e, (struct arrival){a.t + think(u), a.user});
        }
        if (t >= e->c.end && !ended) {
            drop_queue(e);
            ended = true;
        }
        if (ended && !e->cut && t >= e->deadline) {
            e->cut = true;
            __atomic_store_n(&e->halt, true, __ATOMIC_RELAXED);
            pthread_cond_broadcast(&e->alloc_cv);
        }
        if (cfg->progress)
            cfg->progress(cfg->progress_arg, t - e->c.start, e->completed, e->active + e->nqueue);
        if (ended && e->active == 0)
            break;
        double wake = t + 0.1;
        if (!ended && e->narrivals && e->arrivals[0].t < wake)
            wake = e->arrivals[0].t;
        if (!ended && e->c.end < wake)
            wake = e->c.end;
        if (ended && !e->cut && e->deadline < wake)
            wake = e->deadline;
        struct timespec ts = mlpio_kv_abs_time(wake);
        pthread_cond_timedwait(&e->sched_cv, &e->lock, &ts);
    }
    drop_queue(e);
    e->shutdown = true;
    __atomic_store_n(&e->halt, true, __ATOMIC_RELAXED);
    pthread_cond_broadcast(&e->work_cv);
    pthread_cond_broadcast(&e->alloc_cv);
    pthread_mutex_unlock(&e->lock);
}

static void ref_free(struct ref *e)
{
    if (e->users)
        for (uint32_t i = 0; i < e->cfg->users; i++)
            mlpio_kv_user_fini(&e->users[i].u);
    for (struct conv *c = e->convs, *next; c; c = next) {
        next = c->next;
        free(c->turns);
        free(c);
    }
    free(e->users);
    free(e->arrivals);
    free(e->queue);
    pthread_cond_destroy(&e->sched_cv);
    pthread_cond_destroy(&e->work_cv);
    pthread_cond_destroy(&e->alloc_cv);
    pthread_mutex_destroy(&e->lock);
}

static int ref_init(struct ref *e, struct mlpio_kv_cache *cache,
                    const struct mlpio_kv_ref_config *cfg, struct mlpio_kv_trial *out,
                    struct mlpio_error *err)
{
    memset(e, 0, sizeof(*e));
    e->cfg = cfg;
    e->cache = cache;
    pthread_mutex_init(&e->lock, NULL);
    mlpio_kv_cond_init(&e->sched_cv);
    mlpio_kv_cond_init(&e->work_cv);
    mlpio_kv_cond_init(&e->alloc_cv);
    mlpio_kv_trial_begin(out, &e->c, cfg->duration);
    e->users = calloc(cfg->users, sizeof(*e->users));
    e->arrivals = calloc(cfg->users, sizeof(*e->arrivals));
    if (!e->users || !e->arrivals)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory for %u users", cfg->users);
    struct mlpio_kv_traffic_config t = {.seed = cfg->seed, .trial = cfg->trial, .rank = cfg->rank};
    e->deadline = e->c.end + cfg->drain_seconds;
    for (uint32_t i = 0; i < cfg->users; i++) {
        struct user *u = &e->users[i];
        mlpio_kv_user_init(&u->u, &t, i);
        const struct mlpio_kv_template *tp = &mlpio_kv_templates[u->u.template_index];
        u->context = mlpio_kv_rng_range(&u->u.rng, tp->ctx_min, tp->ctx_max);
        u->generated = mlpio_kv_rng_range(&u->u.rng, tp->gen_min, tp->gen_max);
        u->think = mlpio_kv_rng_uniform(&u->u.rng, tp->think_min, tp->think_max);
        /* The first request, too, one think time after the start. */
        arrival_push(e, (struct arrival){e->c.start + think(u), i});
    }
    return 0;
}

int mlpio_kv_ref_run(struct mlpio_kv_cache *cache, const struct mlpio_kv_ref_config *cfg,
                     struct mlpio_kv_trial *out, struct mlpio_error *err)
{
    mlpio_kv_trial_begin(out, NULL, 0);
    if (cfg->users < 1 || !(cfg->duration > 0) || !(cfg->drain_seconds >= 0) || !(cfg->scale > 0) ||
        cfg->bytes_per_token < 1)
        return mlpio_error_set(err, MLPIO_ERR_CONFIG,
                               "the reference model needs users >= 1, a duration > 0, a drain "
                               "bound >= 0, a scale > 0 and bytes per token >= 1 (got %u, %g, "
                               "%g, %g, %llu)",
                               cfg->users, cfg->duration, cfg->drain_seconds, cfg->scale,
                               (unsigned long long)cfg->bytes_per_token);
    uint32_t nworkers =
        cfg->users < MLPIO_KV_REF_MAX_WORKERS ? cfg->users : MLPIO_KV_REF_MAX_WORKERS;
    struct ref e;
    struct worker *w = calloc(nworkers, sizeof(*w));
    if (!w || ref_init(&e, cache, cfg, out, err) < 0) {
        if (w)
            ref_free(&e);
        free(w);
        return w ? -1 : mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory for workers");
    }
    uint32_t started = 0;
    for (uint32_t i = 0; i < nworkers; i++) {
        w[i].e = &e;
        mlpio_hist_init(&w[i].storage);
    }
    int rc =
        mlpio_kv_workers_start(w, sizeof(*w), nworkers, cache, &e.halt, worker_main, &started, err);
    if (rc == 0) {
        schedule(&e);
    } else {
        pthread_mutex_lock(&e.lock);
        e.shutdown = true;
        pthread_cond_broadcast(&e.work_cv);
        pthread_mutex_unlock(&e.lock);
    }
    mlpio_kv_workers_join(w, sizeof(*w), started, out);
    for (uint32_t i = 0; i < started; i++) {
        mlpio_hist_merge(&out->storage_request, &w[i].storage);
        out->prefill_tokens += w[i].written_tokens;
        out->decode_tokens += w[i].generated_tokens;
        out->blocks_needed += w[i].tried;
        out->blocks_reused += w[i].found;
        out->storage_io_seconds += w[i].storage_seconds;
    }
    mlpio_kv_trial_end(out, &e.c, cfg->duration, e.failed || (cfg->stop && cfg->stop()), cache);
    if (rc == 0 && e.failed) {
        *err = e.first_err;
        rc = -1;
    }
    ref_free(&e);
    free(w);
    return rc;
}
