/* mlpio error reporting: see error.h. */
#include "io/error.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void mlpio_error_clear(struct mlpio_error *err)
{
    if (err)
        memset(err, 0, sizeof(*err));
}

static void vset(struct mlpio_error *err, enum mlpio_errcat cat, const char *fmt, va_list ap)
{
    err->category = cat;
    err->source = MLPIO_SRC_NONE;
    err->cause = 0;
    err->hint[0] = '\0';
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
}

int mlpio_error_set(struct mlpio_error *err, enum mlpio_errcat cat, const char *fmt, ...)
{
    int saved = errno;
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vset(err, cat, fmt, ap);
        va_end(ap);
    }
    errno = saved;
    return -1;
}

int mlpio_error_errno(struct mlpio_error *err, enum mlpio_errcat cat, int errnum, const char *fmt,
                      ...)
{
    int saved = errno;
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vset(err, cat, fmt, ap);
        va_end(ap);
        size_t n = strlen(err->message);
        snprintf(err->message + n, sizeof(err->message) - n, ": %s (%s)", strerror(errnum),
                 mlpio_errno_name(errnum));
        err->source = MLPIO_SRC_ERRNO;
        err->cause = errnum;
    }
    errno = saved;
    return -1;
}

void mlpio_error_cause(struct mlpio_error *err, enum mlpio_errsrc src, int cause)
{
    if (err) {
        err->source = src;
        err->cause = cause;
    }
}

int mlpio_error_hint(struct mlpio_error *err, const char *fmt, ...)
{
    int saved = errno;
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->hint, sizeof(err->hint), fmt, ap);
        va_end(ap);
    }
    errno = saved;
    return -1;
}

int mlpio_error_prefix(struct mlpio_error *err, const char *fmt, ...)
{
    int saved = errno;
    if (err) {
        char buf[MLPIO_ERROR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        size_t used = n < 0 ? 0 : (size_t)n;
        if (used > sizeof(buf) - 3)
            used = sizeof(buf) - 3;
        memcpy(buf + used, ": ", 3);
        used += 2;
        /* The old message is kept as far as it fits behind the prefix. */
        size_t room = sizeof(buf) - used - 1;
        size_t len = strnlen(err->message, sizeof(err->message));
        if (len > room)
            len = room;
        memcpy(buf + used, err->message, len);
        buf[used + len] = '\0';
        memcpy(err->message, buf, sizeof(buf));
    }
    errno = saved;
    return -1;
}

const char *mlpio_errno_name(int errnum)
{
    static const struct {
        int num;
        const char *name;
    } names[] = {
        {EPERM, "EPERM"},
        {ENOENT, "ENOENT"},
        {EIO, "EIO"},
        {EBADF, "EBADF"},
        {ENOMEM, "ENOMEM"},
        {EACCES, "EACCES"},
        {EEXIST, "EEXIST"},
        {ENOTDIR, "ENOTDIR"},
        {EISDIR, "EISDIR"},
        {EINVAL, "EINVAL"},
        {EMFILE, "EMFILE"},
        {EFBIG, "EFBIG"},
        {ENOSPC, "ENOSPC"},
        {EROFS, "EROFS"},
        {ERANGE, "ERANGE"},
        {EDQUOT, "EDQUOT"},
        {EINTR, "EINTR"},
        {EAGAIN, "EAGAIN"},
        {ENAMETOOLONG, "ENAMETOOLONG"},
        {ENOTSUP, "ENOTSUP"},
        {EOPNOTSUPP == ENOTSUP ? 0 : EOPNOTSUPP, "EOPNOTSUPP"},
        {ENOTEMPTY, "ENOTEMPTY"},
        {ESTALE, "ESTALE"},
        {ETIMEDOUT, "ETIMEDOUT"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].num == errnum && errnum != 0)
            return names[i].name;
    return "E?";
}

const char *mlpio_errcat_name(enum mlpio_errcat cat)
{
    switch (cat) {
    case MLPIO_ERR_NONE:
        return "none";
    case MLPIO_ERR_USAGE:
        return "usage";
    case MLPIO_ERR_CONFIG:
        return "config";
    case MLPIO_ERR_RULES:
        return "rules";
    case MLPIO_ERR_IO:
        return "io";
    case MLPIO_ERR_VERIFY:
        return "verify";
    case MLPIO_ERR_INTERRUPTED:
        return "interrupted";
    case MLPIO_ERR_UNSUPPORTED:
        return "unsupported";
    case MLPIO_ERR_INTERNAL:
        return "internal";
    }
    return "unknown";
}

int mlpio_error_short_read(struct mlpio_error *err, const char *path, uint64_t got, size_t len,
                           uint64_t off)
{
    mlpio_error_set(err, MLPIO_ERR_IO,
                    "%s is shorter than expected: read %" PRIu64 " of %zu bytes at offset %" PRIu64,
                    path, got, len, off);
    return mlpio_error_hint(err, "the file is smaller than the data set or checkpoint says; it "
                                 "was truncated or written with other parameters: write it again");
}
