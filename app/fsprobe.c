/* mlpio file-system separation probe, see fsprobe.h. */
#include "app/fsprobe.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The nearest existing directory of path (itself, or an ancestor), resolved, into out
 * (PATH_MAX bytes). */
int mlpio_fs_existing_dir(const char *path, char *out)
{
    char buf[PATH_MAX], cwd[PATH_MAX] = "";
    if (path[0] != '/' && !getcwd(cwd, sizeof(cwd)))
        return -1;
    if (snprintf(buf, sizeof(buf), "%s%s%s", cwd, cwd[0] ? "/" : "", path) >= (int)sizeof(buf))
        return -1;
    for (;;) {
        struct stat st;
        if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
            return realpath(buf, out) ? 0 : -1;
        char *slash = strrchr(buf, '/');
        if (slash == buf && buf[1] == '\0')
            return -1;
        slash[slash == buf] = '\0';
    }
}

/* 1: the link says apart (EXDEV), 0: one file system, -1: the link could not be tried. */
static int link_probe(const char *data, const char *results)
{
    char sentinel[PATH_MAX + 64], target[PATH_MAX + 64];
    snprintf(sentinel, sizeof(sentinel), "%s/.mlpio-fs-probe-%ld", data, (long)getpid());
    snprintf(target, sizeof(target), "%s/.mlpio-fs-probe-%ld", results, (long)getpid());
    int fd = open(sentinel, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    close(fd);
    int rc = link(sentinel, target), e = errno;
    if (rc == 0)
        unlink(target);
    unlink(sentinel);
    if (rc == 0)
        return 0;
    return e == EXDEV ? 1 : -1;
}

cJSON *mlpio_fs_separation_probe(const char *data_dir, const char *results_dir, const char *host,
                                 int may_write, struct mlpio_error *err)
{
    char data[PATH_MAX], results[PATH_MAX], when[32];
    if (mlpio_fs_existing_dir(data_dir, data) != 0 ||
        mlpio_fs_existing_dir(results_dir, results) != 0) {
        mlpio_error_errno(err, MLPIO_ERR_CONFIG, errno,
                          "cannot tell whether %s and %s are on different file systems", data_dir,
                          results_dir);
        mlpio_error_hint(err, "check that both paths or a parent of each can be reached");
        return NULL;
    }
    const char *method = "link_exdev";
    int apart = may_write ? link_probe(data, results) : -1;
    if (apart < 0) {
        struct stat a, b;
        if (stat(data, &a) != 0 || stat(results, &b) != 0) {
            mlpio_error_errno(err, MLPIO_ERR_CONFIG, errno, "cannot stat %s or %s", data, results);
            return NULL;
        }
        method = "st_dev";
        apart = a.st_dev != b.st_dev;
    }
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddNumberToObject(o, "version", 1) ||
        !cJSON_AddStringToObject(o, "method", method) ||
        !cJSON_AddStringToObject(o, "data_path", data_dir) ||
        !cJSON_AddStringToObject(o, "results_path", results_dir) ||
        !cJSON_AddStringToObject(o, "data_realpath", data) ||
        !cJSON_AddStringToObject(o, "results_realpath", results) ||
        !cJSON_AddBoolToObject(o, "same_filesystem", !apart) ||
        !cJSON_AddStringToObject(o, "probed_at", when) ||
        !cJSON_AddNumberToObject(o, "probed_by_rank", 0) ||
        !cJSON_AddStringToObject(o, "probed_by_host", host ? host : "")) {
        cJSON_Delete(o);
        mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "probing file systems");
        return NULL;
    }
    return o;
}
