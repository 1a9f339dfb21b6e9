/* Multi-rank tests of the cluster collector: one record per host on rank 0, agreement on
 * failure, and grouping by host name when shared memory does not match host names.
 * mlpio-test-wrap: gethostname */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/cluster.h"

#include "support/mpi_leaks.h"
#include "support/mpi_world.h"

/* When set, each rank claims a host name by the parity of its rank, as if the job spanned two
 * hosts that the MPI library wrongly placed in one shared-memory domain. */
static bool fake_hosts;

int __real_gethostname(char *name, size_t len);
int __wrap_gethostname(char *name, size_t len);

int __wrap_gethostname(char *name, size_t len)
{
    if (!fake_hosts)
        return __real_gethostname(name, len);
    snprintf(name, len, "%s", world_rank() % 2 ? "mlpio-odd" : "mlpio-even");
    return 0;
}

/* MemTotal read here with sscanf, apart from the code under test. */
static uint64_t mem_total_bytes(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    unsigned long long kb = 0;
    assert_non_null(f);
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
            break;
    fclose(f);
    assert_true(kb > 0);
    return (uint64_t)kb * 1024;
}

static void test_one_host(void **state)
{
    int rank = world_rank(), size = world_size();
    struct mlpio_cluster *c = NULL;
    struct mlpio_error err = {0};
    int host_ranks = 0;
    if (mlpio_cluster_collect(MPI_COMM_WORLD, "/", &c, &host_ranks, &err) != 0)
        fail_msg("rank %d: %s", rank, err.message);
    /* Every rank learns its host's share, not only rank 0. */
    assert_int_equal(host_ranks, size);
    if (rank != 0) {
        assert_null(c);
        return;
    }
    char host[256];
    assert_int_equal(gethostname(host, sizeof(host)), 0);
    assert_non_null(c);
    assert_int_equal(c->world_size, size);
    assert_int_equal(c->num_hosts, 1);
    assert_int_equal(c->hosts[0].ranks, size);
    assert_int_equal(c->hosts[0].first_rank, 0);
    assert_string_equal(c->hosts[0].info.hostname, host);
    assert_int_equal(c->hosts[0].info.cpu_count, sysconf(_SC_NPROCESSORS_ONLN));
    assert_int_equal(c->total_mem_bytes, mem_total_bytes());

    cJSON *j = mlpio_cluster_to_json(c);
    const char *top[] = {"num_hosts", "world_size", "total_memory_bytes", "total_memory_GB",
                         "hosts"};
    const char *per_host[] = {"hostname",  "memory_bytes", "memory_available_bytes",
                              "cpu_count", "cpu_model",    "loadavg",
                              "os",        "kernel",       "ranks",
                              "first_rank"};
    for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
        assert_non_null(cJSON_GetObjectItemCaseSensitive(j, top[i]));
    assert_int_equal(cJSON_GetObjectItem(j, "world_size")->valueint, size);
    const cJSON *hosts = cJSON_GetObjectItem(j, "hosts");
    assert_int_equal(cJSON_GetArraySize(hosts), 1);
    for (size_t i = 0; i < sizeof(per_host) / sizeof(per_host[0]); i++)
        assert_non_null(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(hosts, 0), per_host[i]));
    assert_int_equal(
        cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(hosts, 0), "loadavg")), 3);
    cJSON_Delete(j);
    mlpio_cluster_destroy(&c);
}

static void test_failure_on_last_rank_fails_all(void **state)
{
    int rank = world_rank(), size = world_size();
    char root[PATH_MAX], want[PATH_MAX], prefix[32];
    struct mlpio_cluster *c = NULL;
    struct mlpio_error err = {0};
    /* Only the last rank sees a host without MemTotal. */
    fixture_path(root, sizeof(root), "proc",
                 rank == size - 1 ? "broken-no-memtotal" : "debian12-vm");
    fixture_path(want, sizeof(want), "proc", "broken-no-memtotal/proc/meminfo");
    snprintf(prefix, sizeof(prefix), "rank %d", size - 1);
    assert_int_equal(mlpio_cluster_collect(MPI_COMM_WORLD, root, &c, NULL, &err), -1);
    assert_null(c);
    if (!strstr(err.message, want) || !strstr(err.message, "MemTotal") ||
        strncmp(err.message, prefix, strlen(prefix)) != 0)
        fail_msg("rank %d: unexpected message '%s'", rank, err.message);
}

static void test_groups_by_host_name(void **state)
{
    int rank = world_rank(), size = world_size();
    char root[PATH_MAX];
    struct mlpio_cluster *c = NULL;
    struct mlpio_error err = {0};
    fixture_path(root, sizeof(root), "proc", "xeon-2s64-rocky9");
    int host_ranks = 0;
    fake_hosts = true;
    int rc = mlpio_cluster_collect(MPI_COMM_WORLD, root, &c, &host_ranks, &err);
    fake_hosts = false;
    if (rc != 0)
        fail_msg("rank %d: %s", rank, err.message);
    /* Even ranks on one host, odd ranks on the other. */
    assert_int_equal(host_ranks, rank % 2 ? size / 2 : (size + 1) / 2);
    if (rank != 0) {
        assert_null(c);
        return;
    }
    assert_int_equal(c->num_hosts, 2);
    assert_string_equal(c->hosts[0].info.hostname, "mlpio-even");
    assert_int_equal(c->hosts[0].first_rank, 0);
    assert_int_equal(c->hosts[0].ranks, (size + 1) / 2);
    assert_string_equal(c->hosts[1].info.hostname, "mlpio-odd");
    assert_int_equal(c->hosts[1].first_rank, 1);
    assert_int_equal(c->hosts[1].ranks, size / 2);
    assert_int_equal(c->total_mem_bytes, 2 * 527628112ull * 1024);
    mlpio_cluster_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_host),
        cmocka_unit_test(test_failure_on_last_rank_fails_all),
        cmocka_unit_test(test_groups_by_host_name),
    };
    MPI_Init(NULL, NULL);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    LEAK_CHECK_BEFORE_FINALIZE();
    MPI_Finalize();
    return rc;
}
