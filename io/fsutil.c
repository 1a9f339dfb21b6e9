/* File system helpers shared by the posix and mpiio backends: see fsutil.h. */
#include "io/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

enum mlpio_errcat mlpio_fsutil_category(int errnum)
{
    switch (errnum) {
    case ENOMEM:
    case EMFILE:
    case ENFILE:
        return MLPIO_ERR_INTERNAL;
    default:
        return MLPIO_ERR_IO;
    }
}

int mlpio_fsutil_hint(struct mlpio_error *err, int errnum, const char *path, bool reading)
{
    switch (errnum) {
    case ENOSPC:
    case EDQUOT:
        return mlpio_error_hint(err,
                                "free space (or quota) on the file system holding %s, or choose "
                                "another folder",
                                path);
    case EACCES:
    case EPERM:
    case EROFS:
        if (reading)
            return mlpio_error_hint(err, "make %s readable by this user, or choose another folder",
                                    path);
        return mlpio_error_hint(err, "choose a writable folder (%s cannot be written here)", path);
    case ENOENT:
        if (reading)
            return mlpio_error_hint(err,
                                    "%s is missing: was the data written to this folder before "
                                    "reading it?",
                                    path);
        return mlpio_error_hint(err, "a parent folder of %s does not exist; create it first", path);
    case ENOTDIR:
        return mlpio_error_hint(err,
                                "a component of %s is a file, not a folder; remove it or "
                                "choose another folder",
                                path);
    case EISDIR:
        return mlpio_error_hint(err, "%s is a folder; give the path of a file", path);
    case EIO:
        return mlpio_error_hint(err,
                                "the storage reported an I/O error; check the system log (dmesg) "
                                "and the health of the file system");
    case EMFILE:
    case ENFILE:
        return mlpio_error_hint(err, "raise the limit of open files (ulimit -n)");
    case EFBIG:
        return mlpio_error_hint(err, "the file system's largest file size was exceeded; use "
                                     "smaller files");
    case ENAMETOOLONG:
        return mlpio_error_hint(err, "use a shorter folder path");
    case ESTALE:
        return mlpio_error_hint(err,
                                "%s was replaced or removed by another client of the shared "
                                "file system while in use; run again",
                                path);
    default:
        return -1;
    }
}

/* Create one directory of a mkdir -p walk; dir is a prefix of full. */
static int make_one(const char *dir, const char *full, struct mlpio_error *err)
{
    if (mkdir(dir, 0755) == 0)
        return 0;
    int e = errno;
    struct stat st;
    /* EEXIST is the common case, but a file system may also answer EACCES or EROFS for a folder
     * that already exists (read-only parents of a writable mount); what is there decides. */
    if (stat(dir, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return 0;
        mlpio_error_errno(err, MLPIO_ERR_IO, ENOTDIR,
                          "cannot create folder %s: %s exists and is not a folder", full, dir);
        return mlpio_error_hint(err, "remove or rename %s, or choose another folder", dir);
    }
    if (strcmp(dir, full) == 0)
        mlpio_error_errno(err, mlpio_fsutil_category(e), e, "mkdir of %s failed", dir);
    else
        mlpio_error_errno(err, mlpio_fsutil_category(e), e, "mkdir of %s (parent of %s) failed",
                          dir, full);
    return mlpio_fsutil_hint(err, e, dir, false);
}

int mlpio_fsutil_mkdirs(const char *path, struct mlpio_error *err)
{
    if (!path || !*path)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "mkdirs: empty folder path");
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    char *copy = strdup(path);
    if (!copy)
        return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "mkdirs of %s", path);
    int rc = 0;
    /* Walk the prefixes "a", "a/b", "a/b/c"; repeated slashes give no empty components. */
    for (char *p = copy + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        if (p[-1] != '/') {
            *p = '\0';
            rc = make_one(copy, path, err);
            *p = saved;
        }
        if (rc != 0 || saved == '\0')
            break;
    }
    free(copy);
    return rc;
}

int mlpio_fsutil_drop_fd(int fd, const char *path, struct mlpio_error *err)
{
    /* DONTNEED skips dirty pages, so they are written back first. */
    if (fdatasync(fd) != 0) {
        int e = errno;
        mlpio_error_errno(err, mlpio_fsutil_category(e), e,
                          "fdatasync of %s (before dropping its cached pages) failed", path);
        return mlpio_fsutil_hint(err, e, path, false);
    }
    int rc = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    if (rc != 0)
        return mlpio_error_errno(err, MLPIO_ERR_IO, rc,
                                 "posix_fadvise(DONTNEED) over the whole of %s failed", path);
    return 0;
}

int mlpio_fsutil_drop_path(const char *path, struct mlpio_error *err)
{
    int fd;
    do
        fd = open(path, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        int e = errno;
        mlpio_error_errno(err, mlpio_fsutil_category(e), e,
                          "open of %s (to drop its cached pages) failed", path);
        return mlpio_fsutil_hint(err, e, path, true);
    }
    int rc = mlpio_fsutil_drop_fd(fd, path, err);
    close(fd);
    return rc;
}

bool mlpio_fsutil_agree(bool collective, MPI_Comm comm, bool ok, const char *what, const char *path,
                        struct mlpio_error *err)
{
    if (!collective)
        return ok;
    int mine = ok ? 1 : 0, all = 0;
    int rc = MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, comm);
    if (rc != MPI_SUCCESS) {
        char text[MPI_MAX_ERROR_STRING];
        int n = 0, cls = 0;
        MPI_Error_string(rc, text, &n);
        MPI_Error_class(rc, &cls);
        mlpio_error_set(err, MLPIO_ERR_INTERNAL, "agreement on the collective %s of %s failed: %s",
                        what, path, text);
        mlpio_error_cause(err, MLPIO_SRC_MPI, cls);
        return false;
    }
    if (ok && !all) {
        mlpio_error_set(err, MLPIO_ERR_IO, "collective %s of %s failed on another rank", what,
                        path);
        mlpio_error_hint(err, "see the error reported by the lowest failing rank");
    }
    return all != 0;
}

int mlpio_fsutil_check_space(const char *path, uint64_t needed, const char *what, const char *hint,
                             struct mlpio_error *err)
{
    char dir[PATH_MAX];
    struct stat st;
    snprintf(dir, sizeof(dir), "%s", path);
    /* The folder may be created by the run: its nearest existing parent holds the data. */
    while (stat(dir, &st) != 0) {
        char *slash = strrchr(dir, '/');
        if (!slash)
            snprintf(dir, sizeof(dir), ".");
        else if (slash == dir)
            dir[1] = '\0';
        else
            *slash = '\0';
        if (strcmp(dir, ".") == 0 || strcmp(dir, "/") == 0)
            break;
    }
    struct statvfs vfs;
    if (statvfs(dir, &vfs) != 0)
        return mlpio_error_errno(err, MLPIO_ERR_IO, errno, "statvfs of %s failed", dir);
    /* A file system without a size (ramfs, some FUSE mounts) reports no blocks at all: it
     * cannot tell, so the write itself will. */
    if (vfs.f_blocks == 0)
        return 0;
    uint64_t avail = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
    if (avail >= needed)
        return 0;
    const double gib = 1024.0 * 1024.0 * 1024.0;
    mlpio_error_errno(err, MLPIO_ERR_IO, ENOSPC,
                      "%s need %llu bytes (%.3f GiB) in %s, but its file system has %llu bytes "
                      "(%.3f GiB) free",
                      what, (unsigned long long)needed, (double)needed / gib, path,
                      (unsigned long long)avail, (double)avail / gib);
    return mlpio_error_hint(err, "%s", hint);
}
