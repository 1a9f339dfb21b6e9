/* Unit tests of the KV-cache tier manager: first-writer-wins puts (also from several threads),
 * gets that wait for a put in progress, victim order (LRU, access counts, prefix-aware),
 * demotion GPU -> CPU -> storage and promotion on get with their counters, storage capacity
 * eviction, prefix and existence queries, append-only conversations, both storage layouts with
 * and without O_DIRECT (round trips, corruption, ENOSPC), cleanup, the null backend, and a
 * multi-threaded stress run whose counters must add up.
 *
 * Link seams: pwrite fails with ENOSPC or holds until released; pwrite and pread count their
 * calls and may raise a scratch's cancel flag (a caller cutting a call off mid-block);
 * pthread_cond_wait counts the threads that wait, so that a test knows a get is waiting without
 * sleeping. */
/* mlpio-test-wrap: pwrite pread pthread_cond_wait */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/workloads/kvcache/tier.h"
#include "support/files.h"

#define PAGE 4096
#define SMALL (PAGE - 96) /* one page, partly used */

static struct {
    atomic_int fail_after;    /* pwrite calls that still succeed before ENOSPC; -1: never fail */
    atomic_int hold;          /* pwrite waits while set */
    atomic_int held;          /* a pwrite is waiting */
    atomic_int cond_waits;    /* calls of pthread_cond_wait */
    atomic_int writes, reads; /* calls of pwrite and pread */
    bool *cancel;             /* raised by the next pwrite or pread when set */
} seam;

ssize_t __real_pwrite(int fd, const void *buf, size_t n, off_t off);
ssize_t __real_pread(int fd, void *buf, size_t n, off_t off);

static void seam_cancel(void)
{
    if (seam.cancel)
        __atomic_store_n(seam.cancel, true, __ATOMIC_RELAXED);
}

ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off)
{
    atomic_fetch_add(&seam.reads, 1);
    seam_cancel();
    return __real_pread(fd, buf, n, off);
}
int __real_pthread_cond_wait(pthread_cond_t *cond, pthread_mutex_t *mutex);

ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    int left = atomic_load(&seam.fail_after);
    if (left == 0) {
        errno = ENOSPC;
        return -1;
    }
    if (left > 0)
        atomic_fetch_sub(&seam.fail_after, 1);
    atomic_fetch_add(&seam.writes, 1);
    seam_cancel();
    if (atomic_load(&seam.hold)) {
        atomic_store(&seam.held, 1);
        while (atomic_load(&seam.hold))
            sched_yield();
    }
    return __real_pwrite(fd, buf, n, off);
}

int __wrap_pthread_cond_wait(pthread_cond_t *cond, pthread_mutex_t *mutex)
{
    atomic_fetch_add(&seam.cond_waits, 1);
    return __real_pthread_cond_wait(cond, mutex);
}

static void seam_reset(void)
{
    atomic_store(&seam.fail_after, -1);
    atomic_store(&seam.hold, 0);
    atomic_store(&seam.held, 0);
    atomic_store(&seam.cond_waits, 0);
    atomic_store(&seam.writes, 0);
    atomic_store(&seam.reads, 0);
    seam.cancel = NULL;
}

/* ---- fixture -------------------------------------------------------------------------- */

struct fx {
    char dir[256];
    char kvdir[300]; /* made by the cache, inside dir */
    struct mlpio_kv_config cfg;
    struct mlpio_kv_cache *c;
    struct mlpio_kv_scratch s;
};

static int setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));
    if (!fx || scratch_make(fx->dir, sizeof(fx->dir), "/tmp", "mlpio-kv") != 0)
        return -1;
    snprintf(fx->kvdir, sizeof(fx->kvdir), "%s/kv", fx->dir);
    struct mlpio_kv_config *cfg = &fx->cfg;
    cfg->capacity[MLPIO_KV_STORAGE] = 64 << 20;
    cfg->page_bytes = PAGE;
    cfg->high_water = 0.5;
    cfg->eviction = MLPIO_KV_EVICT_LRU;
    cfg->layout = MLPIO_KV_LAYOUT_OBJECTS;
    cfg->backend = &mlpio_io_posix;
    cfg->dir = fx->kvdir;
    cfg->transfer_bytes = 2 * PAGE;
    cfg->verify = true;
    struct mlpio_data_salt salt;
    mlpio_data_salt_from_seed(7, &salt);
    mlpio_data_rank_key(&salt, 0, &cfg->key);
    seam_reset();
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    seam_reset();
    mlpio_kv_scratch_fini(&fx->s);
    int rc = mlpio_kv_cache_destroy(&fx->c, true, NULL);
    return scratch_free(fx, fx->dir) || rc;
}

static void open_cache(struct fx *fx)
{
    struct mlpio_error err = {0};
    if (mlpio_kv_cache_create(&fx->cfg, &fx->c, &err) != 0)
        fail_msg("create: %s", err.message);
    assert_int_equal(mlpio_kv_scratch_init(&fx->s, fx->c, &err), 0);
}

static void tiers(struct fx *fx, uint64_t gpu_pages, uint64_t cpu_pages, uint64_t storage)
{
    fx->cfg.capacity[MLPIO_KV_GPU] = gpu_pages * PAGE;
    fx->cfg.capacity[MLPIO_KV_CPU] = cpu_pages * PAGE;
    fx->cfg.capacity[MLPIO_KV_STORAGE] = storage;
}

static struct mlpio_kv_block blk(unsigned n, uint32_t depth, uint64_t bytes)
{
    /* The top byte varies, so that objects spread over several folders. */
    struct mlpio_kv_id id = {((uint64_t)(n * 37 % 256) << 56) | 0x5eedull,
                             0x9e3779b97f4a7c15ull * (n + 1)};
    return (struct mlpio_kv_block){id, depth, bytes};
}

static struct mlpio_kv_result put_ok(struct fx *fx, struct mlpio_kv_block b)
{
    struct mlpio_kv_result r;
    struct mlpio_error err = {0};
    if (mlpio_kv_put(fx->c, &fx->s, &b, &r, &err) != 0)
        fail_msg("put: %s", err.message);
    return r;
}

static struct mlpio_kv_result get_ok(struct fx *fx, struct mlpio_kv_block b)
{
    struct mlpio_kv_result r;
    struct mlpio_error err = {0};
    if (mlpio_kv_get(fx->c, &fx->s, &b, &r, &err) != 0)
        fail_msg("get: %s", err.message);
    return r;
}

static int where(struct fx *fx, struct mlpio_kv_block b)
{
    return mlpio_kv_where(fx->c, b.id);
}

static struct mlpio_kv_stats stats(struct fx *fx)
{
    struct mlpio_kv_stats st;
    mlpio_kv_cache_stats(fx->c, &st);
    return st;
}

static const char *path_of(struct fx *fx, struct mlpio_kv_block b, char *buf)
{
    assert_int_equal(mlpio_kv_object_path(fx->c, b.id, buf, PATH_MAX), 0);
    return buf;
}

static int count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char sub[PATH_MAX];
        snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
            n += count_files(sub, suffix);
        else if (strlen(de->d_name) > strlen(suffix) &&
                 strcmp(de->d_name + strlen(de->d_name) - strlen(suffix), suffix) == 0)
            n++;
    }
    closedir(d);
    return n;
}

/* ---- configuration -------------------------------------------------------------------- */

struct bad_case {
    const char *name;
    void (*spoil)(struct mlpio_kv_config *);
    const char *says;
};

static void no_storage(struct mlpio_kv_config *c)
{
    c->capacity[MLPIO_KV_STORAGE] = 0;
}
static void high_water_big(struct mlpio_kv_config *c)
{
    c->high_water = 1.5;
}
static void transfer_odd(struct mlpio_kv_config *c)
{
    c->transfer_bytes = 1000;
}
static void page_zero(struct mlpio_kv_config *c)
{
    c->capacity[MLPIO_KV_CPU] = 1 << 20;
    c->page_bytes = 0;
}
static void collective(struct mlpio_kv_config *c)
{
    c->io_options.collective = true;
}
static void no_threads(struct mlpio_kv_config *c)
{
    c->backend = &mlpio_io_mpiio;
}

static void test_config_errors(void **state)
{
    static const struct bad_case cases[] = {
        {"storage 0", no_storage, "storage capacity"},
        {"high water 1.5", high_water_big, "high-water mark must be in (0, 1], got 1.5"},
        {"transfer 1000", transfer_odd, "multiple of 4096 bytes, got 1000"},
        {"page 0", page_zero, "DRAM page size"},
        {"collective", collective, "collective"},
        {"mpiio", no_threads, "several threads"},
    };
    struct fx *fx = *state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mlpio_kv_config cfg = fx->cfg;
        cases[i].spoil(&cfg);
        struct mlpio_error err = {0};
        struct mlpio_kv_cache *c = (struct mlpio_kv_cache *)&cfg;
        assert_int_equal(mlpio_kv_cache_create(&cfg, &c, &err), -1);
        assert_null(c);
        assert_int_equal(err.category, MLPIO_ERR_CONFIG);
        if (!strstr(err.message, cases[i].says))
            fail_msg("%s: '%s' does not say '%s'", cases[i].name, err.message, cases[i].says);
        assert_true(err.hint[0] != '\0');
    }
    assert_false(path_exists(fx->kvdir));
    assert_int_equal(mlpio_kv_cache_destroy(NULL, true, NULL), 0);
}

/* ---- first writer wins ---------------------------------------------------------------- */

static void test_first_writer_wins(void **state)
{
    struct fx *fx = *state;
    tiers(fx, 16, 0, 64 << 20);
    open_cache(fx);
    struct mlpio_kv_block a = blk(1, 0, 3 * PAGE), b = blk(2, 0, 14 * PAGE);
    struct mlpio_kv_result r = put_ok(fx, a);
    assert_int_equal(r.tier, MLPIO_KV_GPU);
    assert_false(r.already_exists);
    assert_int_equal(r.bytes_moved, 3 * PAGE);
    r = put_ok(fx, a);
    assert_int_equal(r.tier, MLPIO_KV_GPU);
    assert_true(r.already_exists);
    assert_int_equal(r.bytes_moved, 0);
    /* Too big for what is left of the GPU tier: storage takes it, once. */
    r = put_ok(fx, b);
    assert_int_equal(r.tier, MLPIO_KV_STORAGE);
    assert_int_equal(r.storage_bytes_written, 14 * PAGE);
    r = put_ok(fx, b);
    assert_true(r.already_exists);
    assert_int_equal(r.storage_bytes_written, 0);
    struct mlpio_kv_stats st = stats(fx);
    assert_int_equal(st.puts, 4);
    assert_int_equal(st.tier[MLPIO_KV_GPU].already_exists, 1);
    assert_int_equal(st.tier[MLPIO_KV_GPU].objects_written, 1);
    assert_int_equal(st.tier[MLPIO_KV_GPU].bytes_written, 3 * PAGE);
    assert_int_equal(st.tier[MLPIO_KV_STORAGE].already_exists, 1);
    assert_int_equal(st.tier[MLPIO_KV_STORAGE].objects_written, 1);
    assert_int_equal(st.tier[MLPIO_KV_STORAGE].write_latency.count, 1);
}

/* After a reset the counters start again; what the cache holds stays. */
static void test_stats_reset(void **state)
{
    struct fx *fx = *state;
    tiers(fx, 16, 0, 64 << 20);
    open_cache(fx);
    put_ok(fx, blk(1, 0, 3 * PAGE));
    put_ok(fx, blk(2, 0, 20 * PAGE)); /* storage */
    get_ok(fx, blk(2, 0, 20 * PAGE));
    mlpio_kv_cache_stats_reset(fx->c);
    struct mlpio_kv_stats st = stats(fx);
    assert_int_equal(st.puts + st.gets + st.misses, 0);
    for (int t = 0; t < MLPIO_KV_NTIERS; t++) {
        assert_int_equal(st.tier[t].bytes_written + st.tier[t].bytes_read, 0);
        assert_int_equal(st.tier[t].read_latency.count + st.tier[t].write_latency.count, 0);
    }
    assert_int_equal(st.tier[MLPIO_KV_GPU].used_bytes, 3 * PAGE);
    assert_int_equal(st.tier[MLPIO_KV_GPU].blocks + st.tier[MLPIO_KV_STORAGE].blocks, 2);
    assert_int_equal(st.tier[MLPIO_KV_GPU].capacity_bytes, 16 * PAGE);
    put_ok(fx, blk(3, 0, PAGE));
    st = stats(fx);
    assert_int_equal(st.puts, 1);
    assert_int_equal(st.tier[MLPIO_KV_GPU].bytes_written, PAGE);
}

struct racer {
    struct fx *fx;
    struct mlpio_kv_block b;
    pthread_barrier_t *start;
    struct mlpio_kv_result res;
    int rc;
    atomic_int done;
    char message[MLPIO_ERROR_MSG_MAX];
};

static void *race_put(void *arg)
{
    struct racer *r = arg;
    struct mlpio_kv_scratch s;
    struct mlpio_error err = {0};
    r->rc = mlpio_kv_scratch_init(&s, r->fx->c, &err);
    pthread_barrier_wait(r->start);
    if (r->rc == 0)
        r->rc = mlpio_kv_put(r->fx->c, &s, &r->b, &r->res, &err);
    snprintf(r->message, sizeof(r->message), "%s", err.message);
    mlpio_kv_scratch_fini(&s);
    return NULL;
}

static void test_concurrent_puts_store_once(void **state)
{
    struct fx *fx = *state;
    open_cache(fx);
    enum { N = 4 };
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, N);
    struct racer r[N];
    pthread_t th[N];
    struct mlpio_kv_block b = blk(9, 0, 1 << 20);
    for (int i = 0; i < N; i++) {
        r[i] = (struct racer){.fx = fx, .b = b, .start = &start};
        assert_int_equal(pthread_create(&th[i], NULL, race_put, &r[i]), 0);
    }
    int writers = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        if (r[i].rc != 0)
            fail_msg("put: %s", r[i].message);
        assert_int_equal(r[i].res.tier, MLPIO_KV_STORAGE);
        writers += !r[i].res.already_exists;
        assert_int_equal(r[i].res.bytes_moved, r[i].res.already_exists ? 0 : 1 << 20);
    }
    pthread_barrier_destroy(&start);
    assert_int_equal(writers, 1);
    struct mlpio_kv_stats st = stats(fx);
    assert_int_equal(st.puts, N);
    assert_int_equal(st.tier[MLPIO_KV_STORAGE].objects_written, 1);
    assert_int_equal(st.tier[MLPIO_KV_STORAGE].bytes_written, 1 << 20);
    assert_int_equal(st.tier[MLPIO_KV_STORAGE].already_exists, N - 1);
    assert_int_equal(get_ok(fx, b).storage_bytes_read, 1 << 20);
}

static void *held_put(void *arg)
{
    struct racer *r = arg;
    struct mlpio_error err = {0};
    r->rc = mlpio_kv_put(r->fx->c, &r->fx->s, &r->b, &r->res, &err);
    snprintf(r->message, sizeof(r->message), "%s", err.message);
    return NULL;
}

static void *waiting_get(void *arg)
{
    struct racer *r = arg;
    struct mlpio_kv_scratch s;
    struct mlpio_error err = {0};
    r->rc = mlpio_kv_scratch_init(&s, r->fx->c, &err);
    if (r->rc == 0)
        r->rc = mlpio_kv_get(r->fx->c, &s, &r->b, &r->res, &err);
    snprintf(r->message, sizeof(r->message), "%s", err.message);
    mlpio_kv_scratch_fini(&s);
    atomic_store(&r->done, 1);
    return NULL;
}

static void test_get_waits_for_put(void **state)
{
    struct fx *fx = *state;
    open_cache(fx);
    struct mlpio_kv_block b = blk(3, 0, 6 * PAGE);
    struct racer writer = {.fx = fx, .b = b}, reader = {.fx = fx, .b = b};
    pthread_t tw, tr;
    atomic_store(&seam.hold, 1);
    assert_int_equal(pthread_create(&tw, NULL, held_put, &writer), 0);
    while (!atomic_load(&seam.held))
        sched_yield();
    /* The block is indexed but not written: a get must wait for it, not miss it. */
    assert_true(mlpio_kv_exists(fx->c, b.id));
    assert_int_equal(pthread_create(&tr, NULL, waiting_get, &reader), 0);
    while (atomic_load(&seam.cond_waits) == 0 && !atomic_load(&reader.done))
        sched_yield();
    bool answered_early = atomic_load(&reader.done);
    atomic_store(&seam.hold, 0);
    pthread_join(tw, NULL);
    pthread_join(tr, NULL);
    if (writer.rc || reader.rc)
        fail_msg("put: %s / get: %s", writer.message, reader.message);
    assert_false(answered_early);
    assert_int_equal(reader.res.tier, MLPIO_KV_STORAGE);
    assert_int_equal(reader.res.storage_bytes_read, 6 * PAGE);
    struct mlpio_kv_stats st = stats(fx);
    assert_int_equal(st.gets, 1);
    assert_int_equal(st.misses, 0);
    assert_int_equal(st.tier[MLPIO_KV_STORAGE].hits, 1);
}

/* ---- victims -------------------------------------------------------------------------- */

static void test_eviction_order(void **state)
{
    static const struct {
        enum mlpio_kv_eviction policy;
        unsigned victim; /* of x0 (depth 0), x1 (1), x2 (2), y (0), oldest first */
    } cases[] = {{MLPIO_KV_EVICT_LRU, 0}, {MLPIO_KV_EVICT_PREFIX, 2}};
    struct fx *fx = *state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mlpio_kv_scratch_fini(&fx->s);
        assert_int_equal(mlpio_kv_cache_destroy(&fx->c, true, NULL), 0);
        tiers(fx, 8, 0, 64 << 20); /* demotion above 4 pages */
        fx->cfg.eviction = cases[i].policy;
        open_cache(fx);
        struct mlpio_kv_block x[4] = {blk(10, 0, SMALL), blk(11, 1, SMALL), blk(12, 2, SMALL),
                                      blk(13, 0, SMALL)};
        for (int k = 0; k < 4; k++)
            put_ok(fx, x[k]);
        assert_int_equal(stats(fx).tier[MLPIO_KV_GPU].evictions, 0);
        struct mlpio_kv_result r = put_ok(fx, blk(14, 0, SMALL));
        assert_int_equal(r.tier, MLPIO_KV_GPU);
        assert_int_equal(r.bytes_moved, 2 * SMALL); /* its own and the victim's demotion */
        for (unsigned k = 0; k < 4; k++)
            assert_int_equal(where(fx, x[k]),
                             k == cases[i].victim ? MLPIO_KV_STORAGE : MLPIO_KV_GPU);
        struct mlpio_kv_stats st = stats(fx);
        assert_int_equal(st.tier[MLPIO_KV_GPU].evictions, 1);
        assert_int_equal(st.tier[MLPIO_KV_STORAGE].demotions, 1);
    }
}

static void test_access_count_breaks_ties(void **state)
{
    struct fx *fx = *state;
    tiers(fx, 8, 0, 64 << 20);
    open_cache(fx);
    struct mlpio_kv_block abc[3] = {blk(20, 0, SMALL), blk(21, 0, SMALL), blk(22, 0, SMALL)};
    struct mlpio_kv_block bbc[3] = {abc[1], abc[1], abc[2]};
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_kv_put_batch(fx->c, &fx->s, abc, 3, NULL, &err), 0);
    /* One call, one access time: b (used three times) and c (twice) differ by count only. */
    struct mlpio_kv_result r;
    assert_int_equal(mlpio_kv_get_batch(fx->c, &fx->s, bbc, 3, &r, &err), 0);
    assert_int_equal(r.tier, MLPIO_KV_GPU);
    assert_int_equal(r.bytes_moved, 0);
    put_ok(fx, blk(23, 0, SMALL));
    put_ok(fx, blk(24, 0, SMALL)); /* a, the least recently used, goes */
    assert_int_equal(where(fx, abc[0]), MLPIO_KV_STORAGE);
    put_ok(fx, blk(25, 0, SMALL)); /* then c, as recent as b but used less */
    assert_int_equal(where(fx, abc[2]), MLPIO_KV_STORAGE);
    assert_int_equal(where(fx, abc[1]), MLPIO_KV_GPU);
    assert_int_equal(stats(fx).tier[MLPIO_KV_GPU].hits, 3);
}

/* ---- demotion and promotion ----------------------------------------------------------- */

/* GPU and CPU of 4 pages each, demoting above 2; after six puts of one page: GPU {5, 6},
 * CPU {3, 4}, storage {1, 2}. */
static void fill_three_tiers(struct fx *fx, struct mlpio_kv_block *b)
{
    tiers(fx, 4, 4, 1 << 20);
    open_cache(fx);
    for (unsigned i = 1; i <= 6; i++) {
        b[i] = blk(30 + i, 0, SMALL);
        struct mlpio_kv_result r = put_ok(fx, b[i]);
        assert_int_equal(r.tier, MLPIO_KV_GPU);
        if (i == 6) {
            assert_int_equal(r.bytes_moved, 3 * SMALL);
            assert_int_equal(r.storage_bytes_written, SMALL);
        }
    }
}

static void test_demotion_chain(void **state)
{
    struct fx *fx = *state;
    struct mlpio_kv_block b[7];
    fill_three_tiers(fx, b);
    static const int expect[7] = {
        0,           MLPIO_KV_STORAGE, MLPIO_KV_STORAGE, MLPIO_KV_CPU, MLPIO_KV_CPU, MLPIO_KV_GPU,
        MLPIO_KV_GPU};
    for (int i = 1; i <= 6; i++)
        assert_int_equal(where(fx, b[i]), expect[i]);
    struct mlpio_kv_stats st = stats(fx);
    const struct mlpio_kv_tier_stats *g = &st.tier[MLPIO_KV_GPU], *c = &st.tier[MLPIO_KV_CPU],
                                     *s = &st.tier[MLPIO_KV_STORAGE];
    assert_int_equal(g->objects_written, 6);
    assert_int_equal(g->evictions, 4);
    assert_int_equal(g->bytes_read, 0);
    assert_int_equal(c->demotions, 4);
    assert_int_equal(c->objects_written, 4);
    assert_int_equal(c->evictions, 2);
    assert_int_equal(s->demotions, 2);
    assert_int_equal(s->bytes_written, 2 * SMALL);
    for (int t = 0; t < MLPIO_KV_NTIERS; t++) {
        assert_int_equal(st.tier[t].blocks, 2);
        assert_int_equal(st.tier[t].used_bytes, 2 * SMALL);
    }
    assert_int_equal(g->capacity_bytes, 4 * PAGE);
    assert_int_equal(g->peak_used_bytes, 3 * SMALL);
    char path[PATH_MAX];
    assert_true(path_exists(path_of(fx, b[1], path)));
}

static void test_promotion_on_get(void **state)
{
    struct fx *fx = *state;
    struct mlpio_kv_block b[7];
    fill_three_tiers(fx, b);
    char path[PATH_MAX];
    path_of(fx, b[1], path);
    /* From storage: read, promoted to the GPU, whose overflow cascades down. */
    struct mlpio_kv_result r = get_ok(fx, b[1]);
    assert_int_equal(r.tier, MLPIO_KV_STORAGE);
    assert_int_equal(r.storage_bytes_read, SMALL);
    assert_int_equal(r.bytes_moved, 3 * SMALL); /* the read, 5 to the CPU, 3 to storage */
    assert_int_equal(where(fx, b[1]), MLPIO_KV_GPU);
    assert_int_equal(where(fx, b[5]), MLPIO_KV_CPU);
    assert_int_equal(where(fx, b[3]), MLPIO_KV_STORAGE);
    assert_false(path_exists(path));
    struct mlpio_kv_stats st = stats(fx);
    assert_int_equal(st.tier[MLPIO_KV_STORAGE].hits, 1);
    assert_int_equal(st.tier[MLPIO_KV_STORAGE].objects_read, 1);
    assert_int_equal(st.tier[MLPIO_KV_STORAGE].read_latency.count, 1);
    assert_int_equal(st.tier[MLPIO_KV_GPU].misses, 1);
    assert_int_equal(st.tier[MLPIO_KV_CPU].misses, 1);
    assert_int_equal(st.tier[MLPIO_KV_GPU].promotions, 1);
    /* Now in the fastest tier: nothing moves. */
    r = get_ok(fx, b[1]);
    assert_int_equal(r.tier, MLPIO_KV_GPU);
    assert_int_equal(r.bytes_moved, 0);
    /* From the CPU tier: copied up. */
    r = get_ok(fx, b[4]);
    assert_int_equal(r.tier, MLPIO_KV_CPU);
    assert_int_equal(r.storage_bytes_read, 0);
    assert_true(r.bytes_moved >= SMALL);
    assert_int_equal(where(fx, b[4]), MLPIO_KV_GPU);
    st = stats(fx);
    assert_int_equal(st.gets, 3);
    assert_int_equal(st.tier[MLPIO_KV_GPU].hits, 1);
    assert_int_equal(st.tier[MLPIO_KV_GPU].misses, 2);
    assert_int_equal(st.tier[MLPIO_KV_GPU].promotions, 2);
    assert_int_equal(st.tier[MLPIO_KV_CPU].hits, 1);
    assert_int_equal(st.tier[MLPIO_KV_CPU].bytes_read, SMALL);
    /* Nothing was lost on the way. */
    for (int i = 1; i <= 6; i++)
        assert_int_not_equal(where(fx, b[i]), MLPIO_KV_NONE);
}

static void test_absent_gpu_tier(void **state)
{
    struct fx *fx = *state;
    tiers(fx, 0, 4, 1 << 20);
    fx->cfg.capacity[MLPIO_KV_GPU] = PAGE - 1; /* less than a page: absent too */
    open_cache(fx);
    struct mlpio_kv_block a = blk(35, 0, SMALL), b = blk(36, 0, SMALL), c = blk(37, 0, SMALL);
    assert_int_equal(put_ok(fx, a).tier, MLPIO_KV_CPU);
    put_ok(fx, b);
    /* The CPU tier is now the fastest: its hits move nothing. */
    struct mlpio_kv_result r = get_ok(fx, a);
    assert_int_equal(r.tier, MLPIO_KV_CPU);
    assert_int_equal(r.bytes_moved, 0);
    put_ok(fx, c); /* b, not a (read since), goes to storage */
    assert_int_equal(where(fx, b), MLPIO_KV_STORAGE);
    r = get_ok(fx, b); /* read, promoted to the CPU tier, and a demoted in turn */
    assert_int_equal(r.tier, MLPIO_KV_STORAGE);
    assert_int_equal(r.bytes_moved, 2 * SMALL);
    assert_int_equal(where(fx, b), MLPIO_KV_CPU);
    assert_int_equal(where(fx, a), MLPIO_KV_STORAGE);
    struct mlpio_kv_stats st = stats(fx);
    assert_int_equal(st.tier[MLPIO_KV_GPU].capacity_bytes, 0);
    assert_int_equal(st.tier[MLPIO_KV_GPU].misses, 0);
    assert_int_equal(st.tier[MLPIO_KV_GPU].objects_written, 0);
    assert_int_equal(st.tier[MLPIO_KV_CPU].hits, 1);
    assert_int_equal(st.tier[MLPIO_KV_CPU].misses, 1);
    assert_int_equal(st.tier[MLPIO_KV_CPU].promotions, 1);
    assert_int_equal(st.tier[MLPIO_KV_STORAGE].hits, 1);
    assert_int_equal(st.tier[MLPIO_KV_STORAGE].demotions, 2);
}

static void test_storage_capacity_eviction(void **state)
{
    struct fx *fx = *state;
    for (int layout = 0; layout < 2; layout++) {
        mlpio_kv_scratch_fini(&fx->s);
        assert_int_equal(mlpio_kv_cache_destroy(&fx->c, true, NULL), 0);
        fx->cfg.layout = layout;
        /* Room for three blocks of 5000 bytes (objects), or three records (segments). */
        tiers(fx, 0, 0, layout == MLPIO_KV_LAYOUT_OBJECTS ? 3 * 5000 : 3 * (PAGE + 2 * PAGE));
        open_cache(fx);
        struct mlpio_kv_block b[6];
        char path[6][PATH_MAX];
        for (unsigned i = 1; i <= 3; i++) {
            b[i] = blk(40 + i, 0, 5000);
            put_ok(fx, b[i]);
            path_of(fx, b[i], path[i]);
        }
        get_ok(fx, b[2]);
        b[4] = blk(44, 0, 5000);
        b[5] = blk(45, 0, 5000);
        put_ok(fx, b[4]); /* 1 goes: the least recently used */
        assert_int_equal(where(fx, b[1]), MLPIO_KV_NONE);
        assert_false(path_exists(path[1]));
        put_ok(fx, b[5]); /* then 3: 2 was read after it */
        assert_int_equal(where(fx, b[3]), MLPIO_KV_NONE);
        assert_false(path_exists(path[3]));
        assert_int_equal(where(fx, b[2]), MLPIO_KV_STORAGE);
        assert_true(path_exists(path[2]));
        struct mlpio_kv_stats st = stats(fx);
        assert_int_equal(st.tier[MLPIO_KV_STORAGE].evictions, 2);
        assert_int_equal(st.tier[MLPIO_KV_STORAGE].blocks, 3);
        assert_int_equal(st.tier[MLPIO_KV_STORAGE].used_bytes, 3 * 5000);
        struct mlpio_kv_result r = get_ok(fx, b[1]);
        assert_int_equal(r.tier, MLPIO_KV_NONE);
        assert_int_equal(stats(fx).misses, 1);
        /* The evicted block can be stored again. */
        assert_false(put_ok(fx, b[1]).already_exists);
    }
}

/* ---- queries and conversations -------------------------------------------------------- */

static void test_prefix_and_exists(void **state)
{
    struct fx *fx = *state;
    tiers(fx, 64, 0, 64 << 20);
    open_cache(fx);
    struct mlpio_kv_block chain[5];
    struct mlpio_kv_id ids[5];
    for (unsigned i = 0; i < 5; i++) {
        chain[i] = blk(50 + i, i, SMALL);
        ids[i] = chain[i].id;
        if (i != 3)
            put_ok(fx, chain[i]);
    }
    struct mlpio_kv_stats before = stats(fx);
    assert_int_equal(mlpio_kv_prefix_length(fx->c, ids, 5), 3);
    assert_int_equal(mlpio_kv_prefix_length(fx->c, ids, 2), 2);
    assert_int_equal(mlpio_kv_prefix_length(fx->c, ids + 3, 2), 0);
    bool out[5];
    mlpio_kv_exists_batch(fx->c, ids, 5, out);
    for (int i = 0; i < 5; i++)
        assert_int_equal(out[i], i != 3);
    assert_false(mlpio_kv_exists(fx->c, ids[3]));
    assert_true(mlpio_kv_exists(fx->c, ids[4]));
    assert_int_equal(mlpio_kv_where(fx->c, ids[3]), MLPIO_KV_NONE);
    struct mlpio_kv_stats after = stats(fx);
    assert_int_equal(after.gets, before.gets);
    assert_int_equal(after.puts, before.puts);
    assert_int_equal(after.misses, before.misses);
    assert_int_equal(after.tier[MLPIO_KV_GPU].hits, before.tier[MLPIO_KV_GPU].hits);
}

static void test_conversation(void **state)
{
    struct fx *fx = *state;
    tiers(fx, 4, 0, 64 << 20);
    fx->cfg.high_water = 1.0; /* the GPU tier fills up and new blocks go to storage */
    open_cache(fx);
    struct mlpio_kv_block b[7];
    for (unsigned i = 0; i < 7; i++)
        b[i] = blk(60 + i, i, SMALL);
    struct mlpio_kv_conv v;
    mlpio_kv_conv_init(&v);
    struct mlpio_kv_result r;
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_kv_conv_append(fx->c, &fx->s, &v, b, 3, &r, &err), 0);
    assert_int_equal(r.tier, MLPIO_KV_GPU);
    assert_int_equal(r.bytes_moved, 3 * SMALL);
    /* The second turn writes its three blocks only. */
    assert_int_equal(mlpio_kv_conv_append(fx->c, &fx->s, &v, b + 3, 3, &r, &err), 0);
    assert_int_equal(v.n, 6);
    assert_int_equal(r.tier, MLPIO_KV_STORAGE);
    assert_int_equal(r.bytes_moved, 3 * SMALL);
    assert_int_equal(r.storage_bytes_written, 2 * SMALL);
    struct mlpio_kv_stats st = stats(fx);
    assert_int_equal(st.puts, 6);
    assert_int_equal(st.tier[MLPIO_KV_GPU].objects_written, 4);
    assert_int_equal(st.tier[MLPIO_KV_STORAGE].objects_written, 2);
    /* Reading it back moves only what is not in the GPU tier. */
    assert_int_equal(mlpio_kv_conv_read(fx->c, &fx->s, &v, &r, &err), 0);
    assert_int_equal(r.bytes_moved, 2 * SMALL);
    assert_int_equal(r.storage_bytes_read, 2 * SMALL);
    assert_int_equal(r.tier, MLPIO_KV_STORAGE);
    st = stats(fx);
    assert_int_equal(st.gets, 6);
    assert_int_equal(st.tier[MLPIO_KV_GPU].hits, 4);
    assert_int_equal(st.tier[MLPIO_KV_STORAGE].hits, 2);
    assert_int_equal(st.tier[MLPIO_KV_GPU].misses, 2);
    /* A second conversation sharing the first two blocks writes only its own. */
    struct mlpio_kv_conv w;
    mlpio_kv_conv_init(&w);
    struct mlpio_kv_block turn[3] = {b[0], b[1], b[6]};
    assert_int_equal(mlpio_kv_conv_append(fx->c, &fx->s, &w, turn, 3, &r, &err), 0);
    assert_int_equal(r.bytes_moved, SMALL);
    assert_false(r.already_exists);
    assert_int_equal(stats(fx).tier[MLPIO_KV_GPU].already_exists, 2);
    assert_int_equal(w.n, 3);
    mlpio_kv_conv_fini(&w);
    mlpio_kv_conv_fini(&v);
    mlpio_kv_conv_fini(NULL);
}

/* ---- storage layouts ------------------------------------------------------------------ */

struct layout_case {
    enum mlpio_kv_layout layout;
    bool odirect;
    uint64_t gpu_pages;
    size_t page_bytes;
};

static const struct layout_case layouts[] = {
    {MLPIO_KV_LAYOUT_OBJECTS, false, 0, PAGE},   {MLPIO_KV_LAYOUT_SEGMENTS, false, 0, PAGE},
    {MLPIO_KV_LAYOUT_OBJECTS, true, 0, PAGE},    {MLPIO_KV_LAYOUT_SEGMENTS, true, 0, PAGE},
    {MLPIO_KV_LAYOUT_OBJECTS, true, 12, PAGE},   {MLPIO_KV_LAYOUT_SEGMENTS, true, 12, PAGE},
    {MLPIO_KV_LAYOUT_SEGMENTS, false, 12, 3000}, {MLPIO_KV_LAYOUT_OBJECTS, true, 16, 3000},
};

static void reopen(struct fx *fx, const struct layout_case *lc)
{
    mlpio_kv_scratch_fini(&fx->s);
    assert_int_equal(mlpio_kv_cache_destroy(&fx->c, true, NULL), 0);
    assert_false(path_exists(fx->kvdir));
    fx->cfg.layout = lc->layout;
    fx->cfg.io_options.odirect = lc->odirect;
    fx->cfg.page_bytes = lc->page_bytes;
    fx->cfg.capacity[MLPIO_KV_GPU] = lc->gpu_pages * lc->page_bytes;
    open_cache(fx);
}

static void test_layouts_round_trip(void **state)
{
    struct fx *fx = *state;
    static const uint64_t sizes[] = {1, PAGE - 1, PAGE, 3 * 2 * PAGE + 17, 20000, 2 * PAGE};
    enum { NS = sizeof(sizes) / sizeof(sizes[0]) };
    for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
        const struct layout_case *lc = &layouts[i];
        reopen(fx, lc);
        assert_string_equal(mlpio_kv_cache_policy(fx->c), lc->odirect ? "odirect" : "fadvise");
        struct mlpio_kv_block b[NS];
        for (size_t k = 0; k < NS; k++) {
            b[k] = blk(70 + (unsigned)k, (uint32_t)k, sizes[k]);
            put_ok(fx, b[k]);
        }
        /* Twice: the first pass promotes what it can, the second reads what that demoted. */
        for (int pass = 0; pass < 2; pass++)
            for (size_t k = 0; k < NS; k++)
                assert_int_not_equal(get_ok(fx, b[k]).tier, MLPIO_KV_NONE);
        struct mlpio_kv_stats st = stats(fx);
        assert_true(st.tier[MLPIO_KV_STORAGE].objects_read > 0);
        assert_int_equal(st.misses, 0);
        if (lc->gpu_pages)
            assert_true(st.tier[MLPIO_KV_GPU].promotions > 0 &&
                        st.tier[MLPIO_KV_STORAGE].demotions > 0);
        int files =
            count_files(fx->kvdir, lc->layout == MLPIO_KV_LAYOUT_OBJECTS ? ".kv" : ".kvlog");
        if (lc->layout == MLPIO_KV_LAYOUT_OBJECTS)
            assert_int_equal(files, st.tier[MLPIO_KV_STORAGE].blocks);
        else
            assert_true(files >= 1);
    }
}

static void flip_byte(const char *path, off_t off)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t byte;
    assert_int_equal(pread(fd, &byte, 1, off), 1);
    byte ^= 0x5a;
    assert_int_equal(pwrite(fd, &byte, 1, off), 1);
    close(fd);
}

static void test_corruption_is_reported(void **state)
{
    static const struct {
        enum mlpio_kv_layout layout;
        bool verify;
        const char *says; /* NULL: no check can see it */
    } cases[] = {
        {MLPIO_KV_LAYOUT_OBJECTS, true, "offset 5000 of the block"},
        {MLPIO_KV_LAYOUT_SEGMENTS, true, "offset 5000 of the block"},
        {MLPIO_KV_LAYOUT_SEGMENTS, false, "bad CRC-32C of the data"},
        {MLPIO_KV_LAYOUT_OBJECTS, false, NULL},
    };
    struct fx *fx = *state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct layout_case lc = {cases[i].layout, false, 0, PAGE};
        fx->cfg.verify = cases[i].verify;
        reopen(fx, &lc);
        struct mlpio_kv_block x = blk(80, 0, 20000), y = blk(81, 0, 20000);
        put_ok(fx, x);
        put_ok(fx, y);
        char path[PATH_MAX];
        path_of(fx, x, path);
        /* x is the first record of its segment: its data follows one 4 KiB header. */
        flip_byte(path, cases[i].layout == MLPIO_KV_LAYOUT_OBJECTS ? 5000 : PAGE + 5000);
        struct mlpio_kv_result r;
        struct mlpio_error err = {0};
        int rc = mlpio_kv_get(fx->c, &fx->s, &x, &r, &err);
        if (!cases[i].says) {
            assert_int_equal(rc, 0);
        } else {
            assert_int_equal(rc, -1);
            assert_int_equal(err.category, MLPIO_ERR_VERIFY);
            if (!strstr(err.message, path) || !strstr(err.message, cases[i].says))
                fail_msg("case %zu: '%s'", i, err.message);
        }
        /* The cache goes on working. */
        assert_int_equal(get_ok(fx, y).storage_bytes_read, 20000);
    }
}

static void test_enospc_leaves_block_out(void **state)
{
    struct fx *fx = *state;
    for (int layout = 0; layout < 2; layout++) {
        struct layout_case lc = {layout, false, 0, PAGE};
        reopen(fx, &lc);
        struct mlpio_kv_block x = blk(90, 0, 3 * 2 * PAGE), y = blk(91, 0, 3 * 2 * PAGE);
        char path[PATH_MAX];
        if (layout == MLPIO_KV_LAYOUT_OBJECTS)
            path_of(fx, x, path);
        else
            snprintf(path, sizeof(path), "%s/segment_000000.kvlog", fx->kvdir);
        atomic_store(&seam.fail_after, 1); /* the first chunk lands, the second does not */
        struct mlpio_kv_result r;
        struct mlpio_error err = {0};
        assert_int_equal(mlpio_kv_put(fx->c, &fx->s, &x, &r, &err), -1);
        seam_reset();
        assert_int_equal(err.category, MLPIO_ERR_IO);
        assert_int_equal(err.cause, ENOSPC);
        if (!strstr(err.message, path))
            fail_msg("'%s' does not name %s", err.message, path);
        assert_int_equal(r.tier, MLPIO_KV_NONE);
        assert_false(mlpio_kv_exists(fx->c, x.id));
        assert_false(path_exists(path)); /* the partial object, or the dead segment */
        struct mlpio_kv_stats st = stats(fx);
        assert_int_equal(st.tier[MLPIO_KV_STORAGE].blocks, 0);
        assert_int_equal(st.tier[MLPIO_KV_STORAGE].used_bytes, 0);
        /* Still usable: the same block stores now, and so does another. */
        assert_false(put_ok(fx, x).already_exists);
        put_ok(fx, y);
        assert_int_equal(get_ok(fx, x).storage_bytes_read, x.bytes);
        assert_int_equal(get_ok(fx, y).storage_bytes_read, y.bytes);
        assert_int_equal(stats(fx).tier[MLPIO_KV_STORAGE].blocks, 2);
    }
}

/* A caller's cancel flag cuts a call off between two transfers of one block: the put stores
 * nothing (no object left), the get leaves the block where it was; both say INTERRUPTED, and
 * the cache serves the block afterwards. A raised flag stops a call before its first block. */
static void test_cancel_between_transfers(void **state)
{
    struct fx *fx = *state;
    tiers(fx, 0, 0, 64 << 20);
    open_cache(fx);
    struct mlpio_kv_block x = blk(80, 0, 4 * 2 * PAGE); /* four transfers */
    char path[PATH_MAX];
    path_of(fx, x, path);
    bool cancel = false;
    fx->s.cancel = &cancel;
    seam.cancel = &cancel; /* raised by the block's first transfer */
    struct mlpio_kv_result r;
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_kv_put(fx->c, &fx->s, &x, &r, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_INTERRUPTED);
    assert_int_equal(atomic_load(&seam.writes), 1);
    assert_int_equal(r.tier, MLPIO_KV_NONE);
    assert_false(mlpio_kv_exists(fx->c, x.id));
    assert_false(path_exists(path));
    assert_int_equal(stats(fx).tier[MLPIO_KV_STORAGE].used_bytes, 0);

    /* A raised flag: nothing is done at all. */
    int writes = atomic_load(&seam.writes);
    uint64_t puts = stats(fx).puts;
    assert_int_equal(mlpio_kv_put(fx->c, &fx->s, &x, &r, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_INTERRUPTED);
    assert_int_equal(atomic_load(&seam.writes), writes);
    assert_int_equal(stats(fx).puts, puts);

    seam.cancel = NULL;
    cancel = false;
    put_ok(fx, x);
    seam.cancel = &cancel;
    atomic_store(&seam.reads, 0);
    assert_int_equal(mlpio_kv_get(fx->c, &fx->s, &x, &r, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_INTERRUPTED);
    assert_int_equal(atomic_load(&seam.reads), 1);
    assert_int_equal(where(fx, x), MLPIO_KV_STORAGE);
    assert_int_equal(stats(fx).tier[MLPIO_KV_STORAGE].objects_read, 0);
    seam.cancel = NULL;
    cancel = false;
    assert_int_equal(get_ok(fx, x).storage_bytes_read, x.bytes); /* verified */
}

static void test_failed_demotion(void **state)
{
    struct fx *fx = *state;
    tiers(fx, 2, 0, 64 << 20); /* demotion above one page */
    open_cache(fx);
    struct mlpio_kv_block a = blk(95, 0, SMALL), b = blk(96, 0, SMALL), c = blk(97, 0, SMALL);
    char path[PATH_MAX];
    path_of(fx, a, path);
    put_ok(fx, a);
    atomic_store(&seam.fail_after, 0);
    struct mlpio_kv_result r;
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_kv_put(fx->c, &fx->s, &b, &r, &err), -1);
    seam_reset();
    /* b is stored; a, whose demotion failed, left the cache. */
    assert_int_equal(r.tier, MLPIO_KV_GPU);
    assert_int_equal(err.cause, ENOSPC);
    if (!strstr(err.message, path))
        fail_msg("'%s' does not name %s", err.message, path);
    assert_int_equal(where(fx, a), MLPIO_KV_NONE);
    assert_int_equal(where(fx, b), MLPIO_KV_GPU);
    assert_false(path_exists(path));
    put_ok(fx, c);
    assert_int_equal(where(fx, b), MLPIO_KV_STORAGE);
    struct mlpio_kv_stats st = stats(fx);
    assert_int_equal(st.tier[MLPIO_KV_GPU].blocks, 1);
    assert_int_equal(st.tier[MLPIO_KV_STORAGE].blocks, 1);
    assert_int_equal(st.tier[MLPIO_KV_STORAGE].used_bytes, SMALL);
}

static void test_destroy_cleans_up(void **state)
{
    struct fx *fx = *state;
    for (int i = 0; i < 4; i++) {
        struct layout_case lc = {i % 2, false, 0, PAGE};
        bool remove = i < 2;
        reopen(fx, &lc);
        for (unsigned k = 0; k < 5; k++)
            put_ok(fx, blk(100 + k, 0, 5000));
        mlpio_kv_scratch_fini(&fx->s);
        struct mlpio_error err = {0};
        assert_int_equal(mlpio_kv_cache_destroy(&fx->c, remove, &err), 0);
        assert_null(fx->c);
        if (remove) {
            assert_false(path_exists(fx->kvdir));
            continue;
        }
        if (lc.layout == MLPIO_KV_LAYOUT_OBJECTS)
            assert_int_equal(count_files(fx->kvdir, ".kv"), 5);
        else
            assert_true(count_files(fx->kvdir, ".kvlog") >= 1);
        assert_int_equal(scratch_remove(fx->kvdir), 0);
    }
}

static void test_null_backend_verifies(void **state)
{
    struct fx *fx = *state;
    for (int i = 0; i < 4; i++) {
        struct layout_case lc = {i % 2, false, i < 2 ? 0 : 4, PAGE};
        fx->cfg.backend = &mlpio_io_null;
        reopen(fx, &lc);
        struct mlpio_kv_block b[4];
        for (unsigned k = 0; k < 4; k++)
            put_ok(fx, b[k] = blk(110 + k, 0, 3 * PAGE + 11 * k));
        for (unsigned k = 0; k < 4; k++)
            assert_int_not_equal(get_ok(fx, b[k]).tier, MLPIO_KV_NONE);
        assert_true(stats(fx).tier[MLPIO_KV_STORAGE].bytes_read > 0);
        assert_false(path_exists(fx->kvdir));
        assert_string_equal(mlpio_kv_cache_policy(fx->c), "fadvise");
    }
}

/* ---- stress --------------------------------------------------------------------------- */

enum { POOL = 120, THREADS = 4, OPS = 300 };

struct worker {
    struct fx *fx;
    const struct mlpio_kv_block *pool;
    unsigned seed;
    uint64_t puts, gets;
    int rc;
    char message[MLPIO_ERROR_MSG_MAX];
};

static void *stress_worker(void *arg)
{
    struct worker *w = arg;
    struct mlpio_kv_scratch s;
    struct mlpio_error err = {0};
    w->rc = mlpio_kv_scratch_init(&s, w->fx->c, &err);
    for (int i = 0; i < OPS && w->rc == 0; i++) {
        unsigned r = (unsigned)rand_r(&w->seed);
        const struct mlpio_kv_block *b = &w->pool[r % POOL];
        struct mlpio_kv_result res;
        if ((r >> 8) % 2) {
            w->puts++;
            w->rc = mlpio_kv_put(w->fx->c, &s, b, &res, &err);
        } else if ((r >> 9) % 4) {
            w->gets++;
            w->rc = mlpio_kv_get(w->fx->c, &s, b, &res, &err);
        } else {
            /* A short chain: batch calls share one access time. */
            size_t n = POOL - r % POOL < 3 ? POOL - r % POOL : 3;
            w->gets += n;
            w->rc = mlpio_kv_get_batch(w->fx->c, &s, b, n, &res, &err);
        }
    }
    snprintf(w->message, sizeof(w->message), "%s", err.message);
    mlpio_kv_scratch_fini(&s);
    return NULL;
}

static void test_stress(void **state)
{
    struct fx *fx = *state;
    for (int i = 0; i < 2; i++) {
        struct layout_case lc = {i, false, 16, PAGE};
        fx->cfg.capacity[MLPIO_KV_CPU] = 16 * PAGE;
        fx->cfg.capacity[MLPIO_KV_STORAGE] = 40 * 3 * PAGE;
        fx->cfg.high_water = 0.8;
        fx->cfg.eviction = i ? MLPIO_KV_EVICT_PREFIX : MLPIO_KV_EVICT_LRU;
        reopen(fx, &lc);
        struct mlpio_kv_block pool[POOL];
        for (unsigned k = 0; k < POOL; k++)
            pool[k] = blk(200 + k, k % 5, (k % 3 + 1) * PAGE - (k * 13) % 1000);
        struct worker w[THREADS];
        pthread_t th[THREADS];
        for (int t = 0; t < THREADS; t++) {
            w[t] = (struct worker){.fx = fx, .pool = pool, .seed = 1234u + (unsigned)t};
            assert_int_equal(pthread_create(&th[t], NULL, stress_worker, &w[t]), 0);
        }
        uint64_t puts = 0, gets = 0;
        for (int t = 0; t < THREADS; t++) {
            pthread_join(th[t], NULL);
            if (w[t].rc != 0)
                fail_msg("worker %d: %s", t, w[t].message);
            puts += w[t].puts;
            gets += w[t].gets;
        }
        struct mlpio_kv_stats st = stats(fx);
        assert_int_equal(st.puts, puts);
        assert_int_equal(st.gets, gets);
        uint64_t used[MLPIO_KV_NTIERS] = {0}, blocks[MLPIO_KV_NTIERS] = {0};
        for (unsigned k = 0; k < POOL; k++) {
            int t = where(fx, pool[k]);
            if (t != MLPIO_KV_NONE) {
                used[t] += pool[k].bytes;
                blocks[t]++;
            }
        }
        uint64_t hits = 0, placed = 0;
        for (int t = 0; t < MLPIO_KV_NTIERS; t++) {
            const struct mlpio_kv_tier_stats *ts = &st.tier[t];
            assert_int_equal(ts->used_bytes, used[t]);
            assert_int_equal(ts->blocks, blocks[t]);
            assert_true(ts->used_bytes <= ts->capacity_bytes);
            hits += ts->hits;
            placed += ts->objects_written - ts->demotions - ts->promotions + ts->already_exists;
        }
        assert_int_equal(hits + st.misses, st.gets);
        assert_int_equal(placed, st.puts);
        assert_true(st.tier[MLPIO_KV_STORAGE].evictions > 0);
        assert_true(st.tier[MLPIO_KV_GPU].promotions > 0);
        assert_true(st.manager_cpu_seconds > 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_writer_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_puts_store_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_waits_for_put, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eviction_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_count_breaks_ties, setup, teardown),
        cmocka_unit_test_setup_teardown(test_demotion_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_promotion_on_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_absent_gpu_tier, setup, teardown),
        cmocka_unit_test_setup_teardown(test_storage_capacity_eviction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prefix_and_exists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conversation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layouts_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corruption_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enospc_leaves_block_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_demotion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_between_transfers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_cleans_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_backend_verifies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stress, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
