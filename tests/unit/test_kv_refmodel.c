/* KV-cache reference model (app/workloads/kvcache/refmodel.h): per request the objects the
 * reference (mlcommons/storage kv_cache_benchmark) writes and reads, checked against its
 * formulas: one object of 128 + tokens x bytes per token per turn, every earlier turn read
 * whole, 1 + ceil(generated / 32) decode reads under 10000 tokens of context and none above;
 * the objects on storage are exactly those; and users send open loop, a request before the
 * previous one of the same user has finished. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/workloads/kvcache/refmodel.h"
#include "support/files.h"

#define BYTES_PER_TOKEN 16 /* small objects, fast trials */
#define MAX_IO 4096

struct fixture {
    char dir[256];
    struct mlpio_kv_config cache;
    struct mlpio_kv_ref_config ref;
    pthread_mutex_t lock;
    struct mlpio_kv_ref_io io[MAX_IO];
    int n;
};

static void record(void *arg, const struct mlpio_kv_ref_io *io)
{
    struct fixture *f = arg;
    pthread_mutex_lock(&f->lock);
    if (f->n < MAX_IO)
        f->io[f->n++] = *io;
    pthread_mutex_unlock(&f->lock);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/mlpio-kvref.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    pthread_mutex_init(&f->lock, NULL);
    f->cache.capacity[MLPIO_KV_STORAGE] = 1ull << 30;
    f->cache.page_bytes = 4096;
    f->cache.high_water = 0.8;
    f->cache.backend = &mlpio_io_posix;
    f->cache.dir = f->dir;
    f->cache.transfer_bytes = 65536;
    f->cache.verify = true;
    f->ref = (struct mlpio_kv_ref_config){.seed = 42,
                                          .users = 8,
                                          .duration = 1.5,
                                          .drain_seconds = 60,
                                          .max_concurrent_allocs = 4,
                                          .bytes_per_token = BYTES_PER_TOKEN,
                                          .scale = 1,
                                          .multi_turn = true,
                                          .prefix_caching = true,
                                          .continue_probability = 0.8,
                                          .max_turns = 50,
                                          .decode_tokens_per_read = 32,
                                          .on_request = record,
                                          .on_request_arg = f};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    scratch_remove(f->dir);
    pthread_mutex_destroy(&f->lock);
    free(f);
    return 0;
}

/* Files and bytes below dir. */
static void walk(const char *dir, uint64_t *files, uint64_t *bytes)
{
    DIR *d = opendir(dir);
    const struct dirent *e;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        char path[PATH_MAX];
        struct stat st;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        assert_int_equal(stat(path, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            walk(path, files, bytes);
        } else {
            (*files)++;
            *bytes += (uint64_t)st.st_size;
        }
    }
    closedir(d);
}

static struct mlpio_kv_trial run(struct fixture *f)
{
    struct mlpio_kv_cache *c = NULL;
    struct mlpio_error err = {0};
    struct mlpio_kv_trial t;
    assert_int_equal(mlpio_kv_cache_create(&f->cache, &c, &err), 0);
    if (mlpio_kv_ref_run(c, &f->ref, &t, &err) != 0)
        fail_msg("trial failed: %s", err.message);
    assert_int_equal(mlpio_kv_cache_destroy(&c, false, &err), 0); /* the objects stay */
    return t;
}

static void test_objects_per_request(void **state)
{
    struct fixture *f = *state;
    struct mlpio_kv_trial t = run(f);
    assert_false(t.stopped_early);
    assert_int_equal(t.requests_unfinished, 0);
    assert_int_equal((int)t.requests_completed, f->n);
    assert_true(f->n >= 8);
    uint64_t bytes = 0, trimmed = 0, long_context = 0, later_turns = 0, generated = 0;
    for (int i = 0; i < f->n; i++) {
        const struct mlpio_kv_ref_io *io = &f->io[i];
        uint32_t trim = io->context_tokens - io->written_tokens;
        assert_true(trim == 0 || trim == 5 || trim == 6 || trim == 9);
        trimmed += trim > 0;
        assert_true(io->context_tokens >= 512 / 4 && io->context_tokens <= 25000);
        assert_int_equal(io->object_bytes, 128 + (uint64_t)io->written_tokens * BYTES_PER_TOKEN);
        assert_int_equal(io->writes, 1);
        /* Every earlier turn is read whole: on fast storage none is missing. */
        assert_true(io->earlier_reads + io->earlier_misses >= io->turn - 1);
        assert_int_equal(io->earlier_reads, io->turn - 1);
        later_turns += io->turn > 1;
        uint32_t want = io->context_tokens < 10000 ? 1 + (io->generated_tokens + 31) / 32 : 0;
        assert_int_equal(io->decode_reads, want);
        long_context += io->context_tokens >= 10000;
        bytes += io->object_bytes;
        generated += io->generated_tokens;
    }
    print_message("%d requests, %llu trimmed, %llu later turns, %llu of 10000 tokens or more\n",
                  f->n, (unsigned long long)trimmed, (unsigned long long)later_turns,
                  (unsigned long long)long_context);
    assert_true(later_turns > 0); /* multi-turn conversations happened */
    assert_true(long_context > 0 && long_context < (uint64_t)f->n); /* both decode cases */
    assert_true(trimmed > 0 && trimmed < (uint64_t)f->n);
    assert_int_equal(t.decode_tokens, generated);
    /* The storage holds exactly the objects written: one per request. */
    uint64_t files = 0, stored = 0;
    walk(f->dir, &files, &stored);
    assert_int_equal(files, (uint64_t)f->n);
    assert_int_equal(stored, bytes);
    assert_int_equal(t.cache.tier[MLPIO_KV_STORAGE].objects_written, (uint64_t)f->n);
    assert_true(t.storage_io_seconds > 0);
    assert_int_equal(t.storage_request.count, (uint64_t)f->n);
}

/* Open loop: with generation slower than thinking, a user's next request is sent before its
 * previous one has finished. */
static void test_open_loop(void **state)
{
    struct fixture *f = *state;
    f->ref.users = 3;
    f->ref.duration = 2.5;
    f->ref.generation_seconds_per_token = 0.02; /* 12..200 tokens: 0.24..4 s a request */
    run(f);
    int overlaps = 0;
    for (int i = 0; i < f->n; i++)
        for (int j = 0; j < f->n; j++)
            overlaps +=
                f->io[i].user == f->io[j].user &&
                f->io[j].arrival_seconds > f->io[i].arrival_seconds &&
                f->io[j].arrival_seconds < f->io[i].arrival_seconds + f->io[i].latency_seconds;
    if (overlaps == 0)
        fail_msg("no user sent a request while its previous one was still running (%d requests)",
                 f->n);
}

static void test_refuses_bad_config(void **state)
{
    struct fixture *f = *state;
    struct mlpio_kv_cache *c = NULL;
    struct mlpio_error err = {0};
    struct mlpio_kv_trial t;
    assert_int_equal(mlpio_kv_cache_create(&f->cache, &c, &err), 0);
    f->ref.bytes_per_token = 0;
    assert_int_equal(mlpio_kv_ref_run(c, &f->ref, &t, &err), -1);
    assert_non_null(strstr(err.message, "bytes per token >= 1"));
    assert_int_equal(mlpio_kv_cache_destroy(&c, true, &err), 0);
    assert_int_equal(mlpio_kv_ref_object_bytes(1000, 131072, 1), 128 + 1000 * 131072ull);
    assert_int_equal(mlpio_kv_ref_object_bytes(1000, 131072, 0.5), (128 + 1000 * 131072ull) / 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_objects_per_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_bad_config, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
