/* mlpio run directories: see rundir.h. */
#include "app/rundir.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/io.h"
#include "io/path.h"

char *mlpio_rundir_create(const char *results_dir, const char *benchmark, const char *model,
                          const char *command, time_t when, char run_id[32],
                          struct mlpio_error *err)
{
    char parent[PATH_MAX];
    int n = snprintf(parent, sizeof(parent), "%s/%s/%s/%s", results_dir, benchmark, model, command);
    if (n < 0 || (size_t)n >= sizeof(parent)) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG, "results path is too long: %s", results_dir);
        return NULL;
    }
    return mlpio_rundir_create_in(parent, when, run_id, err);
}

char *mlpio_rundir_create_in(const char *parent, time_t when, char run_id[32],
                             struct mlpio_error *err)
{
    if (mlpio_io_mkdirs(&mlpio_io_posix, parent, err) < 0) {
        mlpio_error_prefix(err, "cannot create the results directory");
        mlpio_error_hint(err, "choose a writable location with --results-dir");
        return NULL;
    }
    /* Up to a minute of later names: only reached if many runs start in the same second. */
    for (int attempt = 0; attempt < 60; attempt++) {
        time_t t = when + attempt;
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(run_id, 32, "%Y%m%d_%H%M%S", &tm);
        char *path = mlpio_path_join(parent, run_id);
        if (!path) {
            mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
            return NULL;
        }
        if (mkdir(path, 0755) == 0)
            return path;
        int e = errno;
        free(path);
        if (e != EEXIST) {
            mlpio_error_errno(err, MLPIO_ERR_IO, e, "cannot create run directory in %s", parent);
            mlpio_error_hint(err, "choose a writable location with --results-dir");
            return NULL;
        }
    }
    mlpio_error_set(err, MLPIO_ERR_IO, "no free run directory name in %s", parent);
    return NULL;
}
