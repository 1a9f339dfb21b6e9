/* mlpio watch: follow an event log by byte offset (see watch.h).
 *
 * An event log is append-only, so the reader keeps one offset and reads only [offset, size)
 * each time it is polled: a log that grows to N bytes costs N bytes of reads however often it
 * is polled. Bytes after the last newline stay in the buffer until their newline arrives.
 *
 * Overwrite detection, kept cheap on purpose. Re-reading or hashing what was read would cost
 * as much as the file on every poll, so the reader keeps:
 *   - the size it has read up to: a smaller size is "shortened";
 *   - the modification time seen when it caught up with the file, and a copy of the last
 *     MLPIO_WATCH_WINDOW bytes it read. An append always grows the file, so a new mtime at an
 *     unchanged size means a write that did not append (or a touch): only then are those few
 *     bytes read again and compared, a difference being "overwritten". A rewrite that makes the
 *     file longer than what was read, or that changes only bytes before the window, is not seen
 *     here; the command also notices a log replaced by another file (inode) or removed.
 * In an append-only log the check never runs, and every byte is read exactly once.
 */
#include "app/watch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK (64u << 10)

struct mlpio_watch_reader {
    int fd;
    char *buf;             /* bytes read but not yet handed out start at buf + head */
    size_t cap, len;       /* capacity and bytes held */
    size_t head;           /* first byte not yet handed out */
    size_t scan;           /* no newline in [head, scan): the next search starts here */
    uint64_t buf_off;      /* file offset of buf[0] */
    struct timespec mtime; /* when the reader last caught up with the file (offset == size) */
    unsigned char window[MLPIO_WATCH_WINDOW]; /* the last bytes read, ending at offset */
    size_t window_len;
    struct mlpio_watch_stats st;
    char path[];
};

struct mlpio_watch_reader *mlpio_watch_reader_create(int fd, const char *path,
                                                     struct mlpio_error *err)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        mlpio_error_errno(err, MLPIO_ERR_IO, errno, "cannot stat event log %s", path);
        return NULL;
    }
    if (!S_ISREG(sb.st_mode)) {
        mlpio_error_set(err, MLPIO_ERR_IO, "event log %s is not a regular file", path);
        mlpio_error_hint(err, "give a run directory or its events.jsonl");
        return NULL;
    }
    size_t n = strlen(path);
    struct mlpio_watch_reader *r = calloc(1, sizeof(*r) + n + 1);
    char *buf = malloc(READ_CHUNK);
    if (!r || !buf) {
        free(r);
        free(buf);
        mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "reading event log %s", path);
        return NULL;
    }
    r->fd = fd;
    r->buf = buf;
    r->cap = READ_CHUNK;
    memcpy(r->path, path, n + 1);
    return r;
}

void mlpio_watch_reader_destroy(struct mlpio_watch_reader **r)
{
    if (!r || !*r)
        return;
    free((*r)->buf);
    free(*r);
    *r = NULL;
}

void mlpio_watch_reader_stats(const struct mlpio_watch_reader *r, struct mlpio_watch_stats *st)
{
    *st = r->st;
    st->pending = r->len - r->head;
    const char *start = r->buf + r->head, *end = r->buf + r->len, *p = end;
    while (p > start && p[-1] != '\n')
        p--;
    st->partial = (size_t)(end - p);
}

static int deliver(struct mlpio_watch_reader *r, mlpio_watch_line_fn fn, void *arg,
                   struct mlpio_error *err)
{
    while (r->scan < r->len) {
        char *nl = memchr(r->buf + r->scan, '\n', r->len - r->scan);
        if (!nl) {
            r->scan = r->len;
            break;
        }
        const char *line = r->buf + r->head;
        size_t n = (size_t)(nl - line);
        uint64_t off = r->buf_off + r->head;
        r->head = r->scan = (size_t)(nl - r->buf) + 1;
        r->st.lines++;
        int rc = fn(arg, line, n, r->st.lines, off, err);
        if (rc != 0)
            return rc < 0 ? -1 : 1;
    }
    return 0;
}

/* Room for at least one more chunk (or what is left of the longest line). */
static int make_room(struct mlpio_watch_reader *r, struct mlpio_error *err)
{
    if (r->head > 0) {
        memmove(r->buf, r->buf + r->head, r->len - r->head);
        r->len -= r->head;
        r->scan -= r->head;
        r->buf_off += r->head;
        r->head = 0;
    }
    if (r->len < r->cap)
        return 0;
    if (r->len >= MLPIO_WATCH_LINE_MAX) {
        mlpio_error_set(err, MLPIO_ERR_IO,
                        "%s:%llu (byte %llu): line is longer than %u MiB without a newline",
                        r->path, (unsigned long long)r->st.lines + 1,
                        (unsigned long long)r->buf_off, MLPIO_WATCH_LINE_MAX >> 20);
        return mlpio_error_hint(err, "this is not an mlpio event log, or it is damaged");
    }
    size_t cap = r->cap * 2 < MLPIO_WATCH_LINE_MAX ? r->cap * 2 : MLPIO_WATCH_LINE_MAX;
    char *grown = realloc(r->buf, cap);
    if (!grown)
        return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "reading event log %s", r->path);
    r->buf = grown;
    r->cap = cap;
    return 0;
}

/* Keep the last MLPIO_WATCH_WINDOW bytes read, given n new bytes at p. */
static void remember(struct mlpio_watch_reader *r, const char *p, size_t n)
{
    if (n >= MLPIO_WATCH_WINDOW) {
        memcpy(r->window, p + n - MLPIO_WATCH_WINDOW, MLPIO_WATCH_WINDOW);
        r->window_len = MLPIO_WATCH_WINDOW;
        return;
    }
    size_t keep = r->window_len + n > MLPIO_WATCH_WINDOW ? MLPIO_WATCH_WINDOW - n : r->window_len;
    memmove(r->window, r->window + r->window_len - keep, keep);
    memcpy(r->window + keep, p, n);
    r->window_len = keep + n;
}

static int check_window(struct mlpio_watch_reader *r, struct mlpio_error *err)
{
    unsigned char now[MLPIO_WATCH_WINDOW];
    uint64_t at = r->st.offset - r->window_len;
    size_t got = 0;
    while (got < r->window_len) {
        ssize_t n = pread(r->fd, now + got, r->window_len - got, (off_t)(at + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return mlpio_error_errno(err, MLPIO_ERR_IO, errno, "reading event log %s", r->path);
        if (n == 0)
            break; /* shorter now: the next poll reports it */
        got += (size_t)n;
    }
    r->st.rechecks++;
    r->st.bytes_rechecked += got;
    if (got == r->window_len && memcmp(now, r->window, got) != 0) {
        mlpio_error_set(err, MLPIO_ERR_IO,
                        "event log %s was overwritten: bytes before offset %llu changed after "
                        "they were read",
                        r->path, (unsigned long long)r->st.offset);
        return mlpio_error_hint(err, "an event log is append-only; something other than the "
                                     "run rewrote it");
    }
    return 0;
}

static bool same_time(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

int mlpio_watch_reader_poll(struct mlpio_watch_reader *r, mlpio_watch_line_fn fn, void *arg,
                            struct mlpio_error *err)
{
    int rc = deliver(r, fn, arg, err);
    if (rc != 0)
        return rc;
    struct stat sb;
    if (fstat(r->fd, &sb) != 0)
        return mlpio_error_errno(err, MLPIO_ERR_IO, errno, "cannot stat event log %s", r->path);
    uint64_t size = (uint64_t)sb.st_size;
    if (size < r->st.offset) {
        mlpio_error_set(err, MLPIO_ERR_IO,
                        "event log %s was shortened: %llu bytes now, %llu already read", r->path,
                        (unsigned long long)size, (unsigned long long)r->st.offset);
        return mlpio_error_hint(err, "an event log is append-only; something truncated or "
                                     "rewrote it");
    }
    if (size == r->st.offset) {
        if (!same_time(sb.st_mtim, r->mtime) && r->window_len > 0 && check_window(r, err) < 0)
            return -1;
        r->mtime = sb.st_mtim;
        return 0;
    }
    while (r->st.offset < size) {
        if (make_room(r, err) < 0)
            return -1;
        size_t want = r->cap - r->len;
        if (want > size - r->st.offset)
            want = (size_t)(size - r->st.offset);
        ssize_t n = pread(r->fd, r->buf + r->len, want, (off_t)r->st.offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return mlpio_error_errno(err, MLPIO_ERR_IO, errno, "reading event log %s at byte %llu",
                                     r->path, (unsigned long long)r->st.offset);
        if (n == 0)
            return 0; /* shortened meanwhile: the next poll reports it */
        remember(r, r->buf + r->len, (size_t)n);
        r->len += (size_t)n;
        r->st.offset += (uint64_t)n;
        r->st.bytes_read += (uint64_t)n;
        r->st.reads++;
        rc = deliver(r, fn, arg, err);
        if (rc != 0)
            return rc;
    }
    /* Caught up with the size of that fstat: its mtime is the one of the bytes read. */
    r->mtime = sb.st_mtim;
    return 0;
}
