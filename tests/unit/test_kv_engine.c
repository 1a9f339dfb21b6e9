/* KV-cache engine: requests flow from arrivals through prefill and decode to completion, with
 * figures that agree with the tier manager's, a stop that ends a trial early, storage errors
 * that stop it with the failing object named, and a drain deadline that bounds a trial on
 * slow storage (a backend whose every transfer takes 40 ms). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app/workloads/kvcache/engine.h"
#include "support/files.h"

struct fixture {
    char dir[256];
    struct mlpio_kv_config cache;
    struct mlpio_kv_engine_config engine;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/mlpio-kvengine.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->cache.capacity[MLPIO_KV_GPU] = 0;
    f->cache.capacity[MLPIO_KV_CPU] = 256 * 1024;
    f->cache.capacity[MLPIO_KV_STORAGE] = 64 << 20;
    f->cache.page_bytes = 4096;
    f->cache.high_water = 0.8;
    f->cache.backend = &mlpio_io_posix;
    f->cache.dir = f->dir;
    f->cache.transfer_bytes = 65536;
    f->cache.verify = true;
    struct mlpio_kv_traffic_config *t = &f->engine.traffic;
    t->seed = 5;
    t->block_tokens = 256;
    t->block_bytes = 256 * 64; /* 64 bytes per token: small blocks, fast trials */
    t->multi_turn = true;
    t->prefix_caching = true;
    t->continue_probability = 0.8;
    t->max_turns = 50;
    t->prefix_probability = 1.0; /* every conversation starts with the one shared prompt */
    t->system_prompts = 1;
    t->system_prompt_tokens = 600;
    t->max_context_tokens = 1 << 20;
    t->decode_tokens_per_read = 32;
    f->engine.users = 6;
    f->engine.duration = 1.0;
    f->engine.drain_seconds = 30; /* ample: started requests finish */
    f->engine.concurrency = 3;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    scratch_remove(f->dir);
    free(f);
    return 0;
}

static void test_trial_figures_agree(void **state)
{
    struct fixture *f = *state;
    struct mlpio_kv_cache *c = NULL;
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_kv_cache_create(&f->cache, &c, &err), 0);
    /* One worker: each request's prefill ends before the next begins, so with the seeded
     * arrivals (several before the end) the shared prompt is found by every later request. */
    f->engine.concurrency = 1;
    struct mlpio_kv_trial t;
    assert_int_equal(mlpio_kv_engine_run(c, &f->engine, &t, &err), 0);
    assert_false(t.stopped_early);
    assert_true(t.turns >= 2);
    assert_true(t.requests_completed > 0);
    assert_int_equal(t.e2e.count, t.requests_completed);
    uint64_t by_class = 0;
    for (int q = 0; q < MLPIO_KV_NQOS; q++)
        by_class += t.qos[q].count;
    assert_int_equal(by_class, t.requests_completed);
    /* Every arrival before the end became a turn; each completed, failed, never started, or
     * (none here) was cut off. */
    assert_int_equal(t.turns, t.requests_completed + t.requests_unstarted + t.requests_failed +
                                  t.requests_abandoned + t.requests_unfinished);
    assert_int_equal(t.requests_abandoned + t.requests_failed + t.requests_unfinished, 0);
    assert_true(t.drain_seconds < 30);
    assert_int_equal(t.lag.count, t.turns);
    assert_true(t.wall_seconds >= f->engine.duration);
    assert_true(t.blocks_reused <= t.blocks_needed);
    assert_true(t.decode_tokens > 0 && t.prefill_tokens > 0);
    /* Multi-turn conversations and shared prompts find blocks already cached. */
    assert_true(t.blocks_reused > 0);
    /* Data went through the CPU tier and was demoted to storage. */
    assert_true(t.cache.tier[MLPIO_KV_CPU].bytes_written > 0);
    assert_true(t.cache.tier[MLPIO_KV_STORAGE].demotions > 0);
    assert_true(t.cache.gets > 0 && t.cache.puts > 0);
    assert_int_equal(mlpio_kv_cache_destroy(&c, true, &err), 0);
}

static int stop_calls;
static bool stop_after_a_few(void)
{
    return ++stop_calls > 3;
}

static void test_stop_ends_early(void **state)
{
    struct fixture *f = *state;
    struct mlpio_kv_cache *c = NULL;
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_kv_cache_create(&f->cache, &c, &err), 0);
    f->engine.duration = 30;
    f->engine.stop = stop_after_a_few;
    stop_calls = 0;
    struct mlpio_kv_trial t;
    assert_int_equal(mlpio_kv_engine_run(c, &f->engine, &t, &err), 0);
    assert_true(t.stopped_early);
    assert_true(t.wall_seconds < 5);
    assert_int_equal(mlpio_kv_cache_destroy(&c, true, &err), 0);
}

/* Slow storage: the posix backend with 40 ms added to every transfer. */
#define SLOW_TRANSFER_NS 40000000L
static struct mlpio_io_backend slow;

static int slow_open(const char *path, enum mlpio_io_mode mode, const struct mlpio_io_options *o,
                     struct mlpio_io_file **out, struct mlpio_error *err)
{
    int rc = mlpio_io_posix.open(path, mode, o, out, err);
    if (rc == 0)
        (*out)->backend = &slow;
    return rc;
}

static int slow_write(struct mlpio_io_file *f, const void *buf, size_t len, uint64_t off,
                      struct mlpio_error *err)
{
    nanosleep(&(struct timespec){0, SLOW_TRANSFER_NS}, NULL);
    return mlpio_io_posix.write_at(f, buf, len, off, err);
}

static int slow_read(struct mlpio_io_file *f, void *buf, size_t len, uint64_t off,
                     struct mlpio_error *err)
{
    nanosleep(&(struct timespec){0, SLOW_TRANSFER_NS}, NULL);
    return mlpio_io_posix.read_at(f, buf, len, off, err);
}

/* Every request needs seconds here (>= 4 blocks of 4 transfers, written once and read at least
 * 3 times): none finishes, and without the deadline the trial would last as long as the last
 * one. With it, the trial ends within a transfer or two of duration + drain, and the requests
 * cut off count as unfinished, not as completed, failed or abandoned. */
static void test_drain_deadline(void **state)
{
    struct fixture *f = *state;
    slow = mlpio_io_posix;
    slow.open = slow_open;
    slow.write_at = slow_write;
    slow.read_at = slow_read;
    f->cache.backend = &slow;
    f->cache.capacity[MLPIO_KV_CPU] = 0; /* every block in storage */
    f->cache.transfer_bytes = 4096;      /* 4 transfers per block */
    struct mlpio_kv_cache *c = NULL;
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_kv_cache_create(&f->cache, &c, &err), 0);
    f->engine.duration = 0.5;
    f->engine.drain_seconds = 0.3;
    struct mlpio_kv_trial t;
    if (mlpio_kv_engine_run(c, &f->engine, &t, &err) != 0)
        fail_msg("engine: %s", err.message);
    assert_false(t.stopped_early);
    assert_true(t.requests_unfinished > 0);
    assert_int_equal(t.requests_failed, 0);
    assert_int_equal(t.requests_abandoned, 0);
    assert_int_equal(t.e2e.count, t.requests_completed);
    if (!(t.drain_seconds >= 0.3 && t.drain_seconds < 0.3 + 0.4))
        fail_msg("drain %.3f s, expected 0.3 s and at most a few transfers more", t.drain_seconds);
    if (!(t.wall_seconds < 0.5 + 0.3 + 0.4))
        fail_msg("trial lasted %.3f s, past duration 0.5 s + drain 0.3 s", t.wall_seconds);
    assert_int_equal(mlpio_kv_cache_destroy(&c, true, &err), 0);
}

static void test_bad_config(void **state)
{
    struct fixture *f = *state;
    struct mlpio_kv_cache *c = NULL;
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_kv_cache_create(&f->cache, &c, &err), 0);
    f->engine.users = 0;
    struct mlpio_kv_trial t;
    assert_int_equal(mlpio_kv_engine_run(c, &f->engine, &t, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_CONFIG);
    assert_non_null(strstr(err.message, "users"));
    assert_int_equal(mlpio_kv_cache_destroy(&c, true, &err), 0);
}

/* A storage that cannot take the blocks: the trial stops and the error names the object. */
static void test_storage_error_stops_trial(void **state)
{
    struct fixture *f = *state;
    struct mlpio_kv_cache *c = NULL;
    struct mlpio_error err = {0};
    f->cache.capacity[MLPIO_KV_CPU] = 0;
    assert_int_equal(mlpio_kv_cache_create(&f->cache, &c, &err), 0);
    /* Replace the storage directory by a file once the cache is set up. */
    char victim[300];
    scratch_remove(f->dir);
    snprintf(victim, sizeof(victim), "%s", f->dir);
    FILE *fp = fopen(victim, "w");
    assert_non_null(fp);
    fclose(fp);
    f->engine.duration = 5;
    struct mlpio_kv_trial t;
    assert_int_equal(mlpio_kv_engine_run(c, &f->engine, &t, &err), -1);
    assert_true(t.stopped_early);
    assert_true(t.requests_failed >= 1);
    assert_non_null(strstr(err.message, f->dir));
    assert_true(t.wall_seconds < 4);
    struct mlpio_error ignore = {0};
    mlpio_kv_cache_destroy(&c, true, &ignore);
    unlink(victim);
    assert_int_equal(mkdir(f->dir, 0700), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_trial_figures_agree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_ends_early, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drain_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_storage_error_stops_trial, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
