/* mlpio shared folders, see sharedfs.h. */
#include "app/sharedfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/config.h"
#include "app/fsprobe.h"
#include "report/json_file.h"

/* dir is rank 0's (the other ranks' is ignored); it is probed at its nearest existing
 * directory, which the marker only visits: nothing is left behind. */
static int check_one(struct mlpio_run *run, const char *dir, const char *what, const char *option,
                     struct mlpio_error *err)
{
    const struct mlpio_context *ctx = run->ctx;
    char marker[PATH_MAX] = "", host[256] = "", host0[256] = "", shown[PATH_MAX] = "";
    int rc = 0;
    gethostname(host, sizeof(host) - 1);
    if (ctx->rank == 0) {
        char at[PATH_MAX];
        snprintf(host0, sizeof(host0), "%s", host);
        snprintf(shown, sizeof(shown), "%s", dir);
        if (mlpio_fs_existing_dir(dir, at) != 0)
            snprintf(at, sizeof(at), "%s", dir);
        if (snprintf(marker, sizeof(marker), "%s/.mlpio-shared-%s-%ld", at, run->rec.run_id,
                     (long)getpid()) >= (int)sizeof(marker))
            rc = mlpio_error_set(err, MLPIO_ERR_CONFIG, "%s path too long: %s", what, dir);
        int fd = rc == 0 ? open(marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1;
        if (rc == 0 && fd < 0)
            rc =
                mlpio_error_errno(err, MLPIO_ERR_IO, errno, "cannot write in the %s %s", what, dir);
        if (fd >= 0)
            close(fd);
    }
    if (mlpio_context_agree(ctx, rc, err) < 0)
        return -1;
    if (ctx->size == 1) {
        unlink(marker);
        return 0;
    }
    if (mlpio_config_bcast_bytes(ctx, marker, sizeof(marker), err) < 0 ||
        mlpio_config_bcast_bytes(ctx, shown, sizeof(shown), err) < 0 ||
        mlpio_config_bcast_bytes(ctx, host0, sizeof(host0), err) < 0)
        return -1;
    struct stat st;
    if (ctx->rank != 0 && stat(marker, &st) != 0) {
        char *slash = strrchr(marker, '/');
        int e = errno;
        if (slash)
            *slash = '\0';
        errno = e;
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "the %s %s is not shared: on host %s, %s does not hold the file rank 0 "
                        "wrote in it on host %s (%s); every host must see the same folder",
                        what, shown, host, marker, host0, strerror(errno));
        mlpio_error_hint(err,
                         "put the %s on a file system that every host mounts at the same path "
                         "(%s DIR)",
                         what, option);
        rc = -1;
    }
    rc = mlpio_context_agree(ctx, rc, err);
    if (ctx->rank == 0)
        unlink(marker);
    return rc;
}

int mlpio_run_check_shared(struct mlpio_run *run, struct mlpio_error *err)
{
    if (check_one(run, run->rec.run_dir, "results directory", "--results-dir", err) < 0)
        return -1;
    const struct mlpio_workload *w = run->workload;
    const char *dir = w->data_folder_key && w->data_folder_option
                          ? mlpio_json_string(run->config, w->data_folder_key, "")
                          : "";
    if (!dir[0] || run->opts->what_if)
        return 0;
    char what[64];
    snprintf(what, sizeof(what), "%s (%s)", "data folder", w->data_folder_key);
    return check_one(run, dir, what, w->data_folder_option, err);
}
