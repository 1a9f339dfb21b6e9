/* mlpio KV-cache engine: scheduler, workers and per-request state machines (see engine.h). */
#include "app/workloads/kvcache/engine.h"

#include "app/workloads/kvcache/trial.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum stage { IDLE = 0, QUEUED, PREFILL_DONE, FINISHED, ABANDONED };
enum event_kind { EV_ARRIVAL = 0, EV_RESUME = 1 };

struct event {
    double t;
    uint32_t user;
    uint32_t kind;
};

struct slot {
    struct mlpio_kv_user user;
    struct mlpio_kv_request req;
    double arrival;
    uint32_t reads_done;
    bool started;
    enum stage stage;
};

struct worker {
    struct mlpio_kv_worker b; /* first: the thread, scratch, latencies (trial.h) */
    struct engine *e;
    uint64_t prefill_tokens, decode_tokens;
    uint64_t needed, reused, recomputed;
};

struct engine {
    const struct mlpio_kv_engine_config *cfg;
    struct mlpio_kv_cache *cache;
    pthread_mutex_t lock;
    pthread_cond_t sched_cv, work_cv;
    struct slot *slots;
    struct event *heap;
    size_t nheap;
    uint32_t *fifo; /* ring of user indexes */
    size_t head, count;
    uint32_t active; /* started, not finished */
    bool shutdown, failed;
    bool halt; /* read by workers without the lock (atomically): stop what you are doing */
    bool cut;  /* the drain deadline passed: requests stopped now are unfinished */
    struct mlpio_error first_err;
    struct mlpio_kv_ending c; /* what the scheduler counts (trial.h) */
    double deadline;
    uint64_t completed;
};

/* Binary min-heap on t (ties by user, so runs with one seed replay in one order). */
static bool ev_less(const struct event *a, const struct event *b)
{
    return a->t < b->t || (a->t == b->t && a->user < b->user);
}

static void heap_push(struct engine *e, struct event ev)
{
    size_t i = e->nheap++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!ev_less(&ev, &e->heap[p]))
            break;
        e->heap[i] = e->heap[p];
        i = p;
    }
    e->heap[i] = ev;
}

static struct event heap_pop(struct engine *e)
{
    struct event top = e->heap[0], last = e->heap[--e->nheap];
    size_t i = 0, n = e->nheap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && ev_less(&e->heap[c + 1], &e->heap[c]))
            c++;
        if (!ev_less(&e->heap[c], &last))
            break;
        e->heap[i] = e->heap[c];
        i = c;
    }
    if (n)
        e->heap[i] = last;
    return top;
}

static void fifo_push(struct engine *e, uint32_t user)
{
    size_t n = e->cfg->users;
    e->fifo[(e->head + e->count) % n] = user;
    e->count++;
}

static uint32_t fifo_pop(struct engine *e)
{
    uint32_t u = e->fifo[e->head];
    e->head = (e->head + 1) % e->cfg->users;
    e->count--;
    return u;
}

/* Prefill: earlier blocks evicted from every tier are put again (recomputed), then the turn's
 * new blocks are appended. Blocks found in the cache are the request's cache hits. */
static int prefill(struct worker *w, struct slot *s, struct mlpio_error *err)
{
    struct mlpio_kv_cache *c = w->e->cache;
    struct mlpio_kv_conv *conv = &s->user.conv;
    uint64_t reused = 0, recomputed = 0;
    for (size_t i = 0; i < conv->n; i++) {
        if (mlpio_kv_exists(c, conv->blocks[i].id)) {
            reused++;
            continue;
        }
        if (mlpio_kv_put(c, &w->b.scratch, &conv->blocks[i], NULL, err) < 0)
            return -1;
        recomputed++;
    }
    for (size_t i = 0; i < s->req.nblocks; i++)
        reused += mlpio_kv_exists(c, s->req.blocks[i].id);
    if (mlpio_kv_conv_append(c, &w->b.scratch, conv, s->req.blocks, s->req.nblocks, NULL, err) < 0)
        return -1;
    w->needed += conv->n;
    w->reused += reused;
    w->recomputed += recomputed;
    return 0;
}

static bool halted(const struct engine *e)
{
    return __atomic_load_n(&e->halt, __ATOMIC_RELAXED);
}

/* A storage call cut off by the halt (the scratch's cancel flag) is no failure: the request
 * stops where it is. */
static int stopped(struct slot *s, const struct engine *e, int rc, const struct mlpio_error *err)
{
    if (rc < 0 && err->category == MLPIO_ERR_INTERRUPTED && halted(e)) {
        s->stage = ABANDONED;
        return 1;
    }
    return 0;
}

/* Run the request until it finishes or must sleep; *sleep_s is the generation time to wait.
 * A halt stops it between storage calls and inside them (stage ABANDONED, return 0). */
static int step(struct worker *w, struct slot *s, double *sleep_s, struct mlpio_error *err)
{
    const struct mlpio_kv_engine_config *cfg = w->e->cfg;
    uint32_t per_read =
        cfg->traffic.decode_tokens_per_read ? cfg->traffic.decode_tokens_per_read : 32;
    *sleep_s = 0;
    if (halted(w->e)) {
        s->stage = ABANDONED;
        return 0;
    }
    if (s->stage == QUEUED) {
        int rc = prefill(w, s, err);
        if (stopped(s, w->e, rc, err))
            return 0;
        if (rc < 0)
            return -1;
        s->stage = PREFILL_DONE;
    }
    while (s->reads_done < s->req.decode_reads) {
        int rc = mlpio_kv_conv_read(w->e->cache, &w->b.scratch, &s->user.conv, NULL, err);
        if (stopped(s, w->e, rc, err))
            return 0;
        if (rc < 0)
            return -1;
        s->reads_done++;
        if (s->reads_done == s->req.decode_reads)
            break;
        uint64_t generated = (uint64_t)(s->reads_done - 1) * per_read;
        uint64_t left =
            s->req.generated_tokens > generated ? s->req.generated_tokens - generated : 0;
        uint64_t tokens = left < per_read ? left : per_read;
        *sleep_s = (double)tokens * cfg->generation_seconds_per_token;
        if (*sleep_s > 0)
            return 0;
    }
    s->stage = FINISHED;
    return 0;
}

static void complete(struct worker *w, struct slot *s, double t)
{
    double latency = t - s->arrival;
    mlpio_hist_add(&w->b.e2e, latency);
    mlpio_hist_add(&w->b.qos[s->user.qos], latency);
    w->b.completed++;
    w->decode_tokens += s->req.generated_tokens;
    uint64_t prompt = s->req.system_prompt >= 0 ? w->e->cfg->traffic.system_prompt_tokens : 0;
    w->prefill_tokens += s->req.context_tokens + prompt;
}

/* Under the lock: a request stopped at the deadline is unfinished; its age then, a lower
 * bound of its latency, goes into its class's latency figures. */
static void unfinished(struct engine *e, const struct slot *s, double t)
{
    e->c.unfinished++;
    mlpio_hist_add(&e->c.cut_qos[s->user.qos], t - s->arrival);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct engine *e = w->e;
    pthread_mutex_lock(&e->lock);
    for (;;) {
        while (!e->count && !e->shutdown)
            pthread_cond_wait(&e->work_cv, &e->lock);
        if (e->shutdown)
            break;
        uint32_t u = fifo_pop(e);
        struct slot *s = &e->slots[u];
        if (!s->started) {
            s->started = true;
            e->active++;
        }
        bool skip = e->failed;
        pthread_mutex_unlock(&e->lock);

        struct mlpio_error err = {0};
        double sleep_s = 0;
        int rc = skip ? 0 : step(w, s, &sleep_s, &err);
        double t = mlpio_kv_now();
        if (rc == 0 && s->stage == FINISHED)
            complete(w, s, t);

        pthread_mutex_lock(&e->lock);
        if (rc < 0 || skip) {
            if (rc < 0 && !e->failed) {
                e->first_err = err;
                e->failed = true;
                __atomic_store_n(&e->halt, true, __ATOMIC_RELAXED);
            }
            if (rc < 0)
                e->c.failed++;
            s->stage = IDLE;
            e->active--;
        } else if (s->stage == ABANDONED) {
            s->stage = IDLE;
            e->active--;
            if (e->cut)
                unfinished(e, s, t);
            else
                e->c.abandoned++;
        } else if (s->stage == FINISHED) {
            s->stage = IDLE;
            e->active--;
            e->completed++;
            heap_push(e, (struct event){t + mlpio_kv_user_think(&s->user), u, EV_ARRIVAL});
        } else {
            heap_push(e, (struct event){t + sleep_s, u, EV_RESUME});
        }
        pthread_cond_signal(&e->sched_cv);
    }
    pthread_mutex_unlock(&e->lock);
    return NULL;
}

/* An arrival becomes a request in the FIFO (or, after the end, retires its user). */
static int arrive(struct engine *e, struct event ev, double t)
{
    struct slot *s = &e->slots[ev.user];
    if (ev.t >= e->c.end)
        return 0;
    mlpio_hist_add(&e->c.lag, t - ev.t);
    if (mlpio_kv_traffic_next(&e->cfg->traffic, &s->user, &s->req) < 0)
        return -1;
    e->c.turns++;
    e->c.conversations += s->req.new_conversation;
    s->arrival = ev.t;
    s->reads_done = 0;
    s->started = false;
    s->stage = QUEUED;
    fifo_push(e, ev.user);
    pthread_cond_signal(&e->work_cv);
    return 0;
}

/* After the end, requests still waiting in the FIFO that never started are dropped. */
static void drop_unstarted(struct engine *e)
{
    size_t n = e->count;
    for (size_t i = 0; i < n; i++) {
        uint32_t u = fifo_pop(e);
        if (e->slots[u].started) {
            fifo_push(e, u);
        } else {
            e->slots[u].stage = IDLE;
            e->c.unstarted++;
        }
    }
}

/* The drain deadline: requests between steps (sleeping through generation, or queued to
 * resume) stop here; those in a worker stop at their next block or transfer (the halt). */
static void cut_off(struct engine *e, double t)
{
    e->cut = true;
    __atomic_store_n(&e->halt, true, __ATOMIC_RELAXED);
    for (size_t i = 0; i < e->nheap; i++) {
        if (e->heap[i].kind != EV_RESUME)
            continue;
        e->slots[e->heap[i].user].stage = IDLE;
        e->active--;
        unfinished(e, &e->slots[e->heap[i].user], t);
    }
    e->nheap = 0; /* the other events are arrivals after the end */
    while (e->count) {
        struct slot *s = &e->slots[fifo_pop(e)];
        s->stage = IDLE;
        if (s->started) {
            e->active--;
            unfinished(e, s, t);
        } else {
            e->c.unstarted++;
        }
    }
}

static void schedule(struct engine *e)
{
    const struct mlpio_kv_engine_config *cfg = e->cfg;
    pthread_mutex_lock(&e->lock);
    bool ended = false;
    for (;;) {
        double t = mlpio_kv_now();
        if (e->failed || (cfg->stop && cfg->stop()))
            break;
        while (e->nheap && e->heap[0].t <= t) {
            struct event ev = heap_pop(e);
            if (ev.kind == EV_RESUME) {
                fifo_push(e, ev.user);
                pthread_cond_signal(&e->work_cv);
            } else if (arrive(e, ev, t) < 0) {
                e->failed = true;
                mlpio_error_set(&e->first_err, MLPIO_ERR_INTERNAL, "out of memory for requests");
            }
        }
        if (t >= e->c.end) {
            if (!ended) {
                drop_unstarted(e);
                ended = true;
            }
            if (!e->cut && t >= e->deadline)
                cut_off(e, t);
        }
        if (cfg->progress)
            cfg->progress(cfg->progress_arg, t - e->c.start, e->completed, e->active);
        if (ended && e->active == 0)
            break;
        /* Sleep until the next event, the end, the deadline, or at most 100 ms (to poll
         * stop()); a finishing request wakes it too. */
        double wake = t + 0.1;
        if (e->nheap && e->heap[0].t < wake)
            wake = e->heap[0].t;
        if (!ended && e->c.end < wake)
            wake = e->c.end;
        if (!e->cut && e->deadline < wake)
            wake = e->deadline;
        struct timespec ts = mlpio_kv_abs_time(wake);
        pthread_cond_timedwait(&e->sched_cv, &e->lock, &ts);
    }
    e->shutdown = true;
    __atomic_store_n(&e->halt, true, __ATOMIC_RELAXED);
    pthread_cond_broadcast(&e->work_cv);
    pthread_mutex_unlock(&e->lock);
}

static void engine_free(struct engine *e)
{
    if (e->slots)
        for (uint32_t i = 0; i < e->cfg->users; i++)
            mlpio_kv_user_fini(&e->slots[i].user);
    free(e->slots);
    free(e->heap);
    free(e->fifo);
    pthread_cond_destroy(&e->sched_cv);
    pthread_cond_destroy(&e->work_cv);
    pthread_mutex_destroy(&e->lock);
}

static int engine_init(struct engine *e, struct mlpio_kv_cache *cache,
                       const struct mlpio_kv_engine_config *cfg, struct mlpio_kv_trial *out,
                       struct mlpio_error *err)
{
    memset(e, 0, sizeof(*e));
    e->cfg = cfg;
    e->cache = cache;
    pthread_mutex_init(&e->lock, NULL);
    mlpio_kv_cond_init(&e->sched_cv);
    mlpio_kv_cond_init(&e->work_cv);
    mlpio_kv_trial_begin(out, &e->c, cfg->duration);
    /* Each user has at most one request and so at most one event or FIFO entry at a time. */
    e->slots = calloc(cfg->users, sizeof(*e->slots));
    e->heap = calloc(cfg->users, sizeof(*e->heap));
    e->fifo = calloc(cfg->users, sizeof(*e->fifo));
    if (!e->slots || !e->heap || !e->fifo)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory for %u users", cfg->users);
    e->deadline = e->c.end + cfg->drain_seconds;
    for (uint32_t i = 0; i < cfg->users; i++) {
        mlpio_kv_user_init(&e->slots[i].user, &cfg->traffic, i);
        /* First arrivals spread over one think time, as if the users had been talking. */
        heap_push(
            e, (struct event){e->c.start + mlpio_kv_user_think(&e->slots[i].user), i, EV_ARRIVAL});
    }
    return 0;
}

int mlpio_kv_engine_run(struct mlpio_kv_cache *cache, const struct mlpio_kv_engine_config *cfg,
                        struct mlpio_kv_trial *out, struct mlpio_error *err)
{
    mlpio_kv_trial_begin(out, NULL, 0);
    if (cfg->users < 1 || cfg->concurrency < 1 || !(cfg->duration > 0) ||
        !(cfg->drain_seconds >= 0))
        return mlpio_error_set(err, MLPIO_ERR_CONFIG,
                               "engine needs users >= 1, concurrency >= 1, a duration > 0 and a "
                               "drain bound >= 0 (got %u, %u, %g, %g)",
                               cfg->users, cfg->concurrency, cfg->duration, cfg->drain_seconds);
    struct engine e;
    struct worker *w = calloc(cfg->concurrency, sizeof(*w));
    if (!w || engine_init(&e, cache, cfg, out, err) < 0) {
        if (w)
            engine_free(&e);
        free(w);
        return w ? -1 : mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory for workers");
    }
    uint32_t started = 0;
    for (uint32_t i = 0; i < cfg->concurrency; i++)
        w[i].e = &e;
    int rc = mlpio_kv_workers_start(w, sizeof(*w), cfg->concurrency, cache, &e.halt, worker_main,
                                    &started, err);
    if (rc == 0)
        schedule(&e);
    else {
        pthread_mutex_lock(&e.lock);
        e.shutdown = true;
        pthread_cond_broadcast(&e.work_cv);
        pthread_mutex_unlock(&e.lock);
    }
    mlpio_kv_workers_join(w, sizeof(*w), started, out);
    for (uint32_t i = 0; i < started; i++) {
        out->prefill_tokens += w[i].prefill_tokens;
        out->decode_tokens += w[i].decode_tokens;
        out->blocks_needed += w[i].needed;
        out->blocks_reused += w[i].reused;
        out->blocks_recomputed += w[i].recomputed;
    }
    mlpio_kv_trial_end(out, &e.c, cfg->duration, e.failed || (cfg->stop && cfg->stop()), cache);
    if (rc == 0 && e.failed) {
        *err = e.first_err;
        rc = -1;
    }
    engine_free(&e);
    free(w);
    return rc;
}
