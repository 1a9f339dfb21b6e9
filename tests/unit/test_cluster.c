/* Tests of the cluster collector: parsers on real /proc samples, reading the live host,
 * JSON round trip, and a one-rank collect. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "app/cluster.h"

#include "support/files.h"
#include "support/mpi_leaks.h"

#define KIB 1024ull

struct sample {
    const char *dir;
    uint64_t mem_total_kb;
    uint64_t mem_available_kb;
    int cpus;
    const char *model;
    double load[3];
    const char *os;
};

/* clang-format off */
static const struct sample samples[] = {
    {"debian12-vm", 24731708, 24320460, 2, "Intel(R) Xeon(R) Processor", {0.42, 0.13, 0.04},
     "Debian GNU/Linux 12 (bookworm)"},
    {"xeon-2s64-rocky9", 527628112, 498113604, 64, "Intel(R) Xeon(R) Gold 6226R CPU @ 2.90GHz",
     {23.41, 22.87, 21.96}, "Rocky Linux 9.3 (Blue Onyx)"},
    /* Modern arm64 kernels print no model at all. */
    {"graviton2-16-ubuntu2204", 64739124, 62953008, 16, "unknown", {0.52, 0.31, 0.12},
     "Ubuntu 22.04.4 LTS"},
    {"visionfive2-riscv64", 8039476, 7603320, 4, "sifive,u74-mc", {1.08, 0.74, 0.33},
     "Debian GNU/Linux bookworm/sid"},
};
/* clang-format on */

static void test_fixtures_parse(void **state)
{
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        const struct sample *s = &samples[i];
        char root[PATH_MAX];
        struct mlpio_host_info h;
        struct mlpio_error err = {0};
        fixture_path(root, sizeof(root), "proc", s->dir);
        memset(&h, 0, sizeof(h));
        if (mlpio_cluster_read_local(root, &h, &err) != 0)
            fail_msg("%s: %s", s->dir, err.message);
        assert_int_equal(h.mem_total_bytes, s->mem_total_kb * KIB);
        assert_int_equal(h.mem_available_bytes, s->mem_available_kb * KIB);
        assert_int_equal(h.cpu_count, s->cpus);
        assert_string_equal(h.cpu_model, s->model);
        for (int k = 0; k < 3; k++)
            assert_float_equal(h.loadavg[k], s->load[k], 1e-9);
        assert_string_equal(h.os_name, s->os);
    }
}

struct broken {
    const char *dir;
    const char *file;  /* the message names this file under the fixture root */
    const char *field; /* and says what is wrong */
};

static const struct broken broken_samples[] = {
    {"broken-no-memtotal", "proc/meminfo", "MemTotal"},
    {"broken-empty-cpuinfo", "proc/cpuinfo", "processor"},
    {"broken-no-loadavg", "proc/loadavg", "ENOENT"},
    {"no-such-sample", "proc/meminfo", "ENOENT"},
};

static void test_broken_fixtures_fail(void **state)
{
    for (size_t i = 0; i < sizeof(broken_samples) / sizeof(broken_samples[0]); i++) {
        const struct broken *b = &broken_samples[i];
        char root[PATH_MAX], path[PATH_MAX + 32];
        struct mlpio_host_info h;
        struct mlpio_error err = {0};
        fixture_path(root, sizeof(root), "proc", b->dir);
        snprintf(path, sizeof(path), "%s/%s", root, b->file);
        memset(&h, 0x5a, sizeof(h));
        assert_int_equal(mlpio_cluster_read_local(root, &h, &err), -1);
        if (!strstr(err.message, path) || !strstr(err.message, b->field))
            fail_msg("%s: message '%s' lacks '%s' or '%s'", b->dir, err.message, path, b->field);
        /* No side effects on failure. */
        assert_int_equal(h.cpu_count, 0x5a5a5a5a);
    }
}

struct cpu_case {
    const char *text;
    int cpus;
    const char *model;
};

/* Model fallbacks across architectures; "model name" wins wherever it appears. */
static const struct cpu_case cpu_cases[] = {
    {"Processor\t: AArch64 Processor rev 4 (aarch64)\nprocessor\t: 0\nprocessor\t: 1\n"
     "Hardware\t: BCM2835\n",
     2, "AArch64 Processor rev 4 (aarch64)"},
    {"system type\t\t: MT7621\nmachine\t\t\t: Ubiquiti EdgeRouter X\nprocessor\t\t: 0\n"
     "cpu model\t\t: MIPS 1004Kc V2.15\nBogoMIPS\t\t: 584.90\n\nprocessor\t\t: 1\n"
     "cpu model\t\t: MIPS 1004Kc V2.15\n",
     2, "MIPS 1004Kc V2.15"},
    {"processor\t: 0\ncpu\t\t: POWER9 (raw), altivec supported\nclock\t\t: 3800.000000MHz\n", 1,
     "POWER9 (raw), altivec supported"},
    {"Processor\t: y\nprocessor\t: 0\nuarch\t: x\nmodel name\t: Real Model\n", 1, "Real Model"},
    {"processor\t: 0\nmodel name\t: \nuarch\t: sifive,u74-mc\n", 1, "sifive,u74-mc"},
    {"processor : 0\nprocessor : 1\nprocessor : 2", 3, "unknown"},
};

static void test_cpuinfo_variants(void **state)
{
    for (size_t i = 0; i < sizeof(cpu_cases) / sizeof(cpu_cases[0]); i++) {
        struct mlpio_host_info h = {0};
        struct mlpio_error err = {0};
        assert_int_equal(mlpio_cluster_parse_cpuinfo(cpu_cases[i].text, &h, &err), 0);
        assert_int_equal(h.cpu_count, cpu_cases[i].cpus);
        assert_string_equal(h.cpu_model, cpu_cases[i].model);
    }
}

struct os_case {
    const char *text;
    const char *name; /* NULL: the parser must fail */
};

static const struct os_case os_cases[] = {
    {"NAME=\"Alpine Linux\"\nID=alpine\n", "Alpine Linux"},
    {"# comment\nNAME=Fedora\nPRETTY_NAME='Fedora Linux 39 (Server Edition)'\n",
     "Fedora Linux 39 (Server Edition)"},
    {"PRETTY_NAME=\"\"\nNAME=\"SLES\"\n", "SLES"},
    {"PRETTY_NAME=\"Say \\\"hi\\\" \\\\ \\$HOME\"\n", "Say \"hi\" \\ $HOME"},
    {"  PRETTY_NAME=\"Indented\"  \r\n", "Indented"},
    {"ID=debian\nVERSION_ID=12\n", NULL},
    {"", NULL},
};

static void test_os_release_variants(void **state)
{
    for (size_t i = 0; i < sizeof(os_cases) / sizeof(os_cases[0]); i++) {
        struct mlpio_host_info h = {0};
        struct mlpio_error err = {0};
        int rc = mlpio_cluster_parse_os_release(os_cases[i].text, &h, &err);
        if (os_cases[i].name) {
            assert_int_equal(rc, 0);
            assert_string_equal(h.os_name, os_cases[i].name);
        } else {
            assert_int_equal(rc, -1);
            assert_non_null(strstr(err.message, "/etc/os-release"));
            assert_non_null(strstr(err.message, "PRETTY_NAME"));
        }
    }
}

struct bad_text {
    int (*parse)(const char *, struct mlpio_host_info *, struct mlpio_error *);
    const char *text;
    const char *words; /* expected in the message */
};

static const struct bad_text bad_texts[] = {
    {mlpio_cluster_parse_meminfo, "MemFree: 10 kB\n", "MemTotal"},
    {mlpio_cluster_parse_meminfo, "MemTotal: lots kB\n", "MemTotal"},
    {mlpio_cluster_parse_meminfo, "MemTotal: 10 MB\n", "MemTotal"},
    {mlpio_cluster_parse_meminfo, "MemTotal:\nMemFree: 5 kB\n", "MemTotal"},
    {mlpio_cluster_parse_cpuinfo, "", "processor"},
    {mlpio_cluster_parse_cpuinfo, "model name : x\n", "processor"},
    {mlpio_cluster_parse_loadavg, "0.1 0.2\n", "/proc/loadavg"},
    {mlpio_cluster_parse_loadavg, "0.1 abc 0.3 1/2 3\n", "/proc/loadavg"},
    {mlpio_cluster_parse_loadavg, "", "/proc/loadavg"},
};

static void test_parsers_reject(void **state)
{
    for (size_t i = 0; i < sizeof(bad_texts) / sizeof(bad_texts[0]); i++) {
        struct mlpio_host_info h = {0};
        struct mlpio_error err = {0};
        assert_int_equal(bad_texts[i].parse(bad_texts[i].text, &h, &err), -1);
        if (!strstr(err.message, bad_texts[i].words))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.message, bad_texts[i].words);
    }
}

static void test_meminfo_without_available(void **state)
{
    struct mlpio_host_info h = {0};
    struct mlpio_error err = {0};
    h.mem_available_bytes = 7;
    assert_int_equal(
        mlpio_cluster_parse_meminfo("MemTotal:        1024 kB\nMemFree: 1 kB\n", &h, &err), 0);
    assert_int_equal(h.mem_total_bytes, 1024 * KIB);
    assert_int_equal(h.mem_available_bytes, 0);
}

static void test_read_live_system(void **state)
{
    struct mlpio_host_info h;
    struct mlpio_error err = {0};
    struct sysinfo si;
    struct utsname u;
    char host[256];
    memset(&h, 0, sizeof(h));
    if (mlpio_cluster_read_local("/", &h, &err) != 0)
        fail_msg("%s", err.message);
    /* sysinfo() reports the same page count as MemTotal, through another interface. */
    assert_int_equal(sysinfo(&si), 0);
    assert_int_equal(h.mem_total_bytes, (uint64_t)si.totalram * si.mem_unit);
    assert_true(h.mem_available_bytes > 0 && h.mem_available_bytes <= h.mem_total_bytes);
    assert_int_equal(h.cpu_count, sysconf(_SC_NPROCESSORS_ONLN));
    assert_int_equal(gethostname(host, sizeof(host)), 0);
    assert_string_equal(h.hostname, host);
    assert_int_equal(uname(&u), 0);
    assert_non_null(strstr(h.kernel, u.release));
    assert_non_null(strstr(h.kernel, u.machine));
    assert_true(h.os_name[0] != '\0');
}

static void test_root_trailing_slash(void **state)
{
    char root[PATH_MAX];
    struct mlpio_host_info h = {0};
    struct mlpio_error err = {0};
    fixture_path(root, sizeof(root), "proc", "xeon-2s64-rocky9/");
    if (mlpio_cluster_read_local(root, &h, &err) != 0)
        fail_msg("%s", err.message);
    assert_int_equal(h.cpu_count, 64);
}

static void fill_host(struct mlpio_cluster_host *c, int i)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->info.hostname, sizeof(c->info.hostname), "node%03d.\"cluster\"", i);
    c->info.mem_total_bytes = (uint64_t)(i + 1) * 549755813888ull + 4096;
    c->info.mem_available_bytes = c->info.mem_total_bytes / 3 * 2;
    c->info.cpu_count = 64 + i;
    snprintf(c->info.cpu_model, sizeof(c->info.cpu_model), "Model \u00e9 %d", i);
    c->info.loadavg[0] = 0.25 + i;
    c->info.loadavg[1] = 1.5;
    c->info.loadavg[2] = 12.75;
    snprintf(c->info.os_name, sizeof(c->info.os_name), "OS\t%d", i);
    snprintf(c->info.kernel, sizeof(c->info.kernel), "Linux 6.%d.0 x86_64", i);
    c->ranks = 8 + i;
    c->first_rank = i * 8;
}

static void test_json_round_trip(void **state)
{
    struct mlpio_cluster_host hosts[3];
    struct mlpio_cluster c = {.world_size = 27, .num_hosts = 3, .hosts = hosts};
    for (int i = 0; i < 3; i++) {
        fill_host(&hosts[i], i);
        c.total_mem_bytes += hosts[i].info.mem_total_bytes;
    }
    cJSON *j = mlpio_cluster_to_json(&c);
    assert_non_null(j);
    assert_float_equal(cJSON_GetObjectItem(j, "total_memory_GB")->valuedouble,
                       (double)c.total_mem_bytes / (1024.0 * 1024 * 1024), 1e-9);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "hosts")), 3);

    /* Through text, as a results tree would store it. */
    char *text = cJSON_PrintUnformatted(j);
    cJSON *parsed = cJSON_Parse(text);
    struct mlpio_error err = {0};
    struct mlpio_cluster *back = mlpio_cluster_from_json(parsed, &err);
    if (!back)
        fail_msg("%s", err.message);
    assert_int_equal(back->world_size, 27);
    assert_int_equal(back->num_hosts, 3);
    assert_int_equal(back->total_mem_bytes, c.total_mem_bytes);
    for (int i = 0; i < 3; i++) {
        const struct mlpio_cluster_host *a = &hosts[i], *b = &back->hosts[i];
        assert_string_equal(a->info.hostname, b->info.hostname);
        assert_int_equal(a->info.mem_total_bytes, b->info.mem_total_bytes);
        assert_int_equal(a->info.mem_available_bytes, b->info.mem_available_bytes);
        assert_int_equal(a->info.cpu_count, b->info.cpu_count);
        assert_string_equal(a->info.cpu_model, b->info.cpu_model);
        assert_memory_equal(a->info.loadavg, b->info.loadavg, sizeof(a->info.loadavg));
        assert_string_equal(a->info.os_name, b->info.os_name);
        assert_string_equal(a->info.kernel, b->info.kernel);
        assert_int_equal(a->ranks, b->ranks);
        assert_int_equal(a->first_rank, b->first_rank);
    }
    mlpio_cluster_destroy(&back);
    assert_null(back);
    mlpio_cluster_destroy(&back);
    mlpio_cluster_destroy(NULL);
    assert_null(mlpio_cluster_to_json(NULL));
    free(text);
    cJSON_Delete(parsed);
    cJSON_Delete(j);
}

/* Each edit of a valid document must be refused with a message naming the key. */
struct json_edit {
    const char *path;        /* "key" at the top, or "hosts.key" in hosts[0] */
    const char *replacement; /* JSON text, or NULL to delete the key */
    const char *words;
};

static const struct json_edit json_edits[] = {
    {"num_hosts", "2", "hosts"},
    {"world_size", NULL, "world_size"},
    {"total_memory_bytes", "\"big\"", "total_memory_bytes"},
    {"hosts", "{}", "hosts"},
    {"hosts.hostname", "7", "hosts[0].\"hostname\""},
    {"hosts.memory_bytes", "-1", "hosts[0].\"memory_bytes\""},
    {"hosts.cpu_count", "1.5", "hosts[0].\"cpu_count\""},
    {"hosts.loadavg", "[1,2]", "hosts[0].\"loadavg\""},
    {"hosts.loadavg", "[1,\"x\",3]", "hosts[0].\"loadavg\""},
    {"hosts.os", NULL, "hosts[0].\"os\""},
    {"hosts.first_rank", "null", "hosts[0].\"first_rank\""},
};

static void test_json_rejects(void **state)
{
    struct mlpio_cluster_host host;
    struct mlpio_cluster c = {.world_size = 1, .num_hosts = 1, .hosts = &host};
    fill_host(&host, 0);
    for (size_t i = 0; i < sizeof(json_edits) / sizeof(json_edits[0]); i++) {
        const struct json_edit *e = &json_edits[i];
        cJSON *j = mlpio_cluster_to_json(&c);
        cJSON *obj = j;
        const char *key = e->path;
        if (strncmp(key, "hosts.", 6) == 0) {
            obj = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "hosts"), 0);
            key += 6;
        }
        if (e->replacement)
            cJSON_ReplaceItemInObject(obj, key, cJSON_Parse(e->replacement));
        else
            cJSON_DeleteItemFromObject(obj, key);
        struct mlpio_error err = {0};
        struct mlpio_cluster *back = mlpio_cluster_from_json(j, &err);
        assert_null(back);
        if (!strstr(err.message, e->words))
            fail_msg("edit %zu: '%s' lacks '%s'", i, err.message, e->words);
        cJSON_Delete(j);
    }
}

static void test_collect_single_rank(void **state)
{
    char root[PATH_MAX];
    struct mlpio_cluster *c = NULL;
    struct mlpio_error err = {0};
    int host_ranks = 0;
    fixture_path(root, sizeof(root), "proc", "xeon-2s64-rocky9");
    if (mlpio_cluster_collect(MPI_COMM_WORLD, root, &c, &host_ranks, &err) != 0)
        fail_msg("%s", err.message);
    assert_non_null(c);
    assert_int_equal(c->world_size, 1);
    assert_int_equal(c->num_hosts, 1);
    assert_int_equal(c->hosts[0].ranks, 1);
    assert_int_equal(host_ranks, 1);
    assert_int_equal(c->hosts[0].first_rank, 0);
    assert_int_equal(c->hosts[0].info.cpu_count, 64);
    assert_int_equal(c->total_mem_bytes, 527628112 * KIB);
    assert_int_equal(c->total_mem_bytes, c->hosts[0].info.mem_total_bytes);
    mlpio_cluster_destroy(&c);
}

static void test_collect_failure(void **state)
{
    char root[PATH_MAX];
    struct mlpio_cluster *c = NULL;
    struct mlpio_error err = {0};
    fixture_path(root, sizeof(root), "proc", "broken-empty-cpuinfo");
    assert_int_equal(mlpio_cluster_collect(MPI_COMM_WORLD, root, &c, NULL, &err), -1);
    assert_null(c);
    assert_non_null(strstr(err.message, "proc/cpuinfo"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_parse),
        cmocka_unit_test(test_broken_fixtures_fail),
        cmocka_unit_test(test_cpuinfo_variants),
        cmocka_unit_test(test_os_release_variants),
        cmocka_unit_test(test_parsers_reject),
        cmocka_unit_test(test_meminfo_without_available),
        cmocka_unit_test(test_read_live_system),
        cmocka_unit_test(test_root_trailing_slash),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_json_rejects),
        cmocka_unit_test(test_collect_single_rank),
        cmocka_unit_test(test_collect_failure),
    };
    MPI_Init(NULL, NULL);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    LEAK_CHECK_BEFORE_FINALIZE();
    MPI_Finalize();
    return rc;
}
