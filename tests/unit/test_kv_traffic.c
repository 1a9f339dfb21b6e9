/* KV-cache traffic: the figures of WORKLOADS.md section 3, reproducibility, and the block chains
 * that make shared prefixes and conversations what the tier manager sees. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "app/workloads/kvcache/traffic.h"

static struct mlpio_kv_traffic_config config(void)
{
    struct mlpio_kv_traffic_config c = {
        .seed = 42,
        .block_tokens = 128,
        .block_bytes = 128 * 1000,
        .multi_turn = true,
        .prefix_caching = true,
        .continue_probability = 0.8,
        .max_turns = 50,
        .prefix_probability = 0.5,
        .system_prompts = 4,
        .system_prompt_tokens = 300,
        .max_context_tokens = 131072,
        .decode_tokens_per_read = 32,
    };
    return c;
}

static uint64_t sum_bytes(const struct mlpio_kv_request *r)
{
    uint64_t s = 0;
    for (size_t i = 0; i < r->nblocks; i++)
        s += r->blocks[i].bytes;
    return s;
}

/* Append the request's blocks to the user's conversation, as the engine's conv_append does. */
static void accept(struct mlpio_kv_user *u, const struct mlpio_kv_request *r)
{
    for (size_t i = 0; i < r->nblocks; i++) {
        if (u->conv.n == u->conv.cap) {
            u->conv.cap = u->conv.cap ? 2 * u->conv.cap : 64;
            u->conv.blocks = realloc(u->conv.blocks, u->conv.cap * sizeof(*u->conv.blocks));
            assert_non_null(u->conv.blocks);
        }
        u->conv.blocks[u->conv.n++] = r->blocks[i];
    }
}

static void test_requests_follow_templates(void **state)
{
    (void)state;
    struct mlpio_kv_traffic_config c = config();
    for (uint32_t id = 0; id < 60; id++) {
        struct mlpio_kv_user u;
        mlpio_kv_user_init(&u, &c, id);
        const struct mlpio_kv_template *t = &mlpio_kv_templates[u.template_index];
        for (int k = 0; k < 20; k++) {
            struct mlpio_kv_request r;
            assert_int_equal(mlpio_kv_traffic_next(&c, &u, &r), 0);
            assert_true(r.context_tokens >= t->ctx_min / 4 && r.context_tokens <= t->ctx_max);
            assert_true(r.generated_tokens >= t->gen_min && r.generated_tokens <= t->gen_max);
            assert_int_equal(r.decode_reads, 1 + (r.generated_tokens + 31) / 32);
            double think = mlpio_kv_user_think(&u);
            assert_true(think >= t->think_min && think < t->think_max);
            /* Blocks hold exactly the request's tokens: full blocks, then one partial. */
            uint64_t tokens =
                r.context_tokens + (r.system_prompt >= 0 ? c.system_prompt_tokens : 0);
            assert_int_equal(sum_bytes(&r), tokens * 1000);
            /* Only the last block of the prompt and of the new context may be partial. */
            int partial = 0;
            for (size_t i = 0; i < r.nblocks; i++) {
                assert_true(r.blocks[i].bytes <= c.block_bytes);
                partial += r.blocks[i].bytes != c.block_bytes;
            }
            assert_true(partial <= (r.system_prompt >= 0 ? 2 : 1));
            assert_true(r.nblocks >= (r.context_tokens + 127) / 128);
            /* Depths continue the conversation. */
            for (size_t i = 0; i < r.nblocks; i++)
                assert_int_equal(r.blocks[i].depth, u.conv.n + i);
            accept(&u, &r);
        }
        mlpio_kv_user_fini(&u);
    }
}

static void test_qos_shares_and_templates(void **state)
{
    (void)state;
    struct mlpio_kv_traffic_config c = config();
    int qos[MLPIO_KV_NQOS] = {0}, tmpl[MLPIO_KV_NTEMPLATES] = {0};
    const int n = 20000;
    for (int id = 0; id < n; id++) {
        struct mlpio_kv_user u;
        mlpio_kv_user_init(&u, &c, (uint32_t)id);
        qos[u.qos]++;
        tmpl[u.template_index]++;
        mlpio_kv_user_fini(&u);
    }
    for (int q = 0; q < MLPIO_KV_NQOS; q++)
        assert_true(fabs((double)qos[q] / n - mlpio_kv_qos_classes[q].share) < 0.02);
    for (int t = 0; t < MLPIO_KV_NTEMPLATES; t++)
        assert_true(fabs((double)tmpl[t] / n - 1.0 / 3.0) < 0.02);
}

static void draw(const struct mlpio_kv_traffic_config *c, uint32_t id, int n, uint64_t *out)
{
    struct mlpio_kv_user u;
    mlpio_kv_user_init(&u, c, id);
    for (int k = 0; k < n; k++) {
        struct mlpio_kv_request r;
        assert_int_equal(mlpio_kv_traffic_next(c, &u, &r), 0);
        out[k] = r.context_tokens ^ ((uint64_t)r.generated_tokens << 32) ^ r.blocks[0].id.lo;
        accept(&u, &r);
    }
    mlpio_kv_user_fini(&u);
}

static void test_same_seed_same_traffic(void **state)
{
    (void)state;
    struct mlpio_kv_traffic_config c = config();
    uint64_t a[30], b[30];
    draw(&c, 3, 30, a);
    draw(&c, 3, 30, b);
    assert_memory_equal(a, b, sizeof(a));
    struct mlpio_kv_traffic_config other = c;
    other.seed = 43;
    draw(&other, 3, 30, b);
    assert_memory_not_equal(a, b, sizeof(a));
    other = c;
    other.rank = 1;
    draw(&other, 3, 30, b);
    assert_memory_not_equal(a, b, sizeof(a));
}

static void test_shared_prompt_is_the_same_blocks(void **state)
{
    (void)state;
    struct mlpio_kv_traffic_config c = config();
    c.system_prompts = 1;
    c.prefix_probability = 1.0;
    c.multi_turn = false;
    struct mlpio_kv_user a, b;
    mlpio_kv_user_init(&a, &c, 0);
    mlpio_kv_user_init(&b, &c, 1);
    struct mlpio_kv_request ra, rb;
    assert_int_equal(mlpio_kv_traffic_next(&c, &a, &ra), 0);
    assert_int_equal(mlpio_kv_traffic_next(&c, &b, &rb), 0);
    assert_int_equal(ra.system_prompt, 0);
    assert_int_equal(rb.system_prompt, 0);
    size_t prompt_blocks = (300 + 127) / 128;
    for (size_t i = 0; i < prompt_blocks; i++) {
        assert_memory_equal(&ra.blocks[i].id, &rb.blocks[i].id, sizeof(struct mlpio_kv_id));
        assert_int_equal(ra.blocks[i].depth, i);
    }
    /* After the prompt the users' own tokens differ. */
    assert_memory_not_equal(&ra.blocks[prompt_blocks].id, &rb.blocks[prompt_blocks].id,
                            sizeof(struct mlpio_kv_id));
    /* The partial last prompt block is followed by a full chain of the user's blocks. */
    assert_int_equal(ra.blocks[prompt_blocks - 1].bytes, (300 - 256) * 1000);
    mlpio_kv_user_fini(&a);
    mlpio_kv_user_fini(&b);
}

static void test_switches(void **state)
{
    (void)state;
    struct mlpio_kv_traffic_config c = config();
    c.multi_turn = false;
    c.prefix_caching = false;
    struct mlpio_kv_user u;
    mlpio_kv_user_init(&u, &c, 5);
    for (int k = 0; k < 50; k++) {
        struct mlpio_kv_request r;
        assert_int_equal(mlpio_kv_traffic_next(&c, &u, &r), 0);
        assert_true(r.new_conversation);
        assert_int_equal(r.system_prompt, -1);
        assert_int_equal(u.conv.n, 0);
        accept(&u, &r);
    }
    mlpio_kv_user_fini(&u);
}

static void test_conversations_continue_and_end(void **state)
{
    (void)state;
    struct mlpio_kv_traffic_config c = config();
    c.max_turns = 3;
    c.continue_probability = 1.0;
    c.prefix_caching = false;
    struct mlpio_kv_user u;
    mlpio_kv_user_init(&u, &c, 9);
    struct mlpio_kv_request r;
    for (int k = 0; k < 9; k++) {
        assert_int_equal(mlpio_kv_traffic_next(&c, &u, &r), 0);
        /* Always continue, but never past max_turns: turns 0, 3, 6 start over. */
        assert_int_equal(r.new_conversation, k % 3 == 0);
        if (!r.new_conversation) {
            /* The new blocks chain after the conversation's last one. */
            assert_int_equal(r.blocks[0].depth, u.conv.n);
        } else {
            assert_int_equal(u.conv.n, 0);
        }
        accept(&u, &r);
    }
    /* A conversation that would outgrow the context window starts over. */
    c.max_turns = 50;
    c.max_context_tokens = 5000;
    int restarts = 0;
    for (int k = 0; k < 40; k++) {
        assert_int_equal(mlpio_kv_traffic_next(&c, &u, &r), 0);
        restarts += r.new_conversation;
        assert_true(u.conv_tokens <= 5000 || r.new_conversation);
        accept(&u, &r);
    }
    assert_true(restarts > 1);
    mlpio_kv_user_fini(&u);
}

static void test_rng_ranges(void **state)
{
    (void)state;
    struct mlpio_kv_rng r;
    mlpio_kv_rng_seed(&r, 1, 2, 3, 4);
    int seen[5] = {0};
    for (int i = 0; i < 10000; i++) {
        uint32_t v = mlpio_kv_rng_range(&r, 10, 14);
        assert_true(v >= 10 && v <= 14);
        seen[v - 10]++;
        double d = mlpio_kv_rng_uniform(&r, -1.0, 1.0);
        assert_true(d >= -1.0 && d < 1.0);
    }
    for (int i = 0; i < 5; i++)
        assert_true(seen[i] > 1800 && seen[i] < 2200);
    assert_int_equal(mlpio_kv_rng_range(&r, 7, 7), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests_follow_templates),
        cmocka_unit_test(test_qos_shares_and_templates),
        cmocka_unit_test(test_same_seed_same_traffic),
        cmocka_unit_test(test_shared_prompt_is_the_same_blocks),
        cmocka_unit_test(test_switches),
        cmocka_unit_test(test_conversations_continue_and_end),
        cmocka_unit_test(test_rng_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
