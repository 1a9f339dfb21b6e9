/* Tests of the file-system separation probe (app/fsprobe.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/fsprobe.h"
#include "report/json_file.h"
#include "support/files.h"

static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    const struct dirent *e;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static int setup(void **state)
{
    return scratch_setup(state, "mlpio-fsprobe");
}

static cJSON *probe(const char *data, const char *results, int may_write)
{
    struct mlpio_error err = {0};
    cJSON *p = mlpio_fs_separation_probe(data, results, "h1", may_write, &err);
    if (!p)
        fail_msg("probe failed: %s", err.message);
    return p;
}

/* One file system: the link works, and nothing of the probe is left behind. */
static void test_one_file_system(void **state)
{
    const char *root = ((struct scratch *)*state)->dir;
    char data[PATH_MAX], results[PATH_MAX], later[PATH_MAX + 16];
    snprintf(data, sizeof(data), "%s/data", root);
    snprintf(results, sizeof(results), "%s/results", root);
    mkdir(data, 0755);
    mkdir(results, 0755);
    cJSON *p = probe(data, results, 1);
    assert_string_equal(mlpio_json_string(p, "method", ""), "link_exdev");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(p, "same_filesystem")));
    assert_string_equal(mlpio_json_string(p, "data_path", ""), data);
    assert_string_equal(mlpio_json_string(p, "probed_by_host", ""), "h1");
    assert_int_equal(mlpio_json_number(p, "version", 0), 1);
    assert_int_equal(entries(data), 0);
    assert_int_equal(entries(results), 0);
    cJSON_Delete(p);
    /* A folder still to be made is probed at its nearest existing ancestor. */
    snprintf(later, sizeof(later), "%s/not/yet", data);
    p = probe(later, results, 1);
    assert_string_equal(mlpio_json_string(p, "data_path", ""), later);
    assert_string_equal(mlpio_json_string(p, "data_realpath", ""), data);
    cJSON_Delete(p);
    /* Nothing may be written (--what-if): the devices are compared. */
    p = probe(data, results, 0);
    assert_string_equal(mlpio_json_string(p, "method", ""), "st_dev");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(p, "same_filesystem")));
    cJSON_Delete(p);
}

/* Two file systems (/dev/shm is a tmpfs apart from the scratch directory where it exists). */
static void test_two_file_systems(void **state)
{
    const char *root = ((struct scratch *)*state)->dir;
    struct stat a, b;
    if (stat("/dev/shm", &b) != 0 || stat(root, &a) != 0 || a.st_dev == b.st_dev ||
        access("/dev/shm", W_OK) != 0) {
        skip();
    }
    char shm[] = "/dev/shm/mlpio-probe-XXXXXX";
    assert_non_null(mkdtemp(shm));
    cJSON *p = probe(shm, root, 1);
    assert_string_equal(mlpio_json_string(p, "method", ""), "link_exdev");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(p, "same_filesystem")));
    assert_int_equal(entries(shm), 0);
    cJSON_Delete(p);
    p = probe(shm, root, 0);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(p, "same_filesystem")));
    cJSON_Delete(p);
    rmdir(shm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_file_system, setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_two_file_systems, setup, scratch_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
