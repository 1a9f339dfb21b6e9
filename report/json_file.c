/* mlpio report files: see json_file.h.
 *
 * cJSON says only roughly where a document went wrong (often one character past the error),
 * so a failed parse is re-scanned by a small strict JSON syntax checker that finds the exact
 * offending character and names what was expected there.
 */
#include "report/json_file.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Same limit as cJSON's, so that a document cJSON refuses for depth is reported as such. */
#define SCAN_MAX_DEPTH 1000
#define EXCERPT_HALF 24

/* ---- writing ---------------------------------------------------------------------------- */

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Make a directory entry change (create, rename) durable. */
static int sync_parent_dir(const char *path, struct mlpio_error *err)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    if (!slash)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else
        dir = strndup(path, (size_t)(slash - path));
    if (!dir)
        return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "cannot sync directory of %s",
                                 path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;
    if (fd < 0) {
        mlpio_error_errno(err, MLPIO_ERR_IO, errno, "cannot open directory %s to sync it", dir);
        mlpio_error_hint(err, "check that %s is readable", dir);
        rc = -1;
    } else {
        /* Some file systems cannot sync a directory; their rename is durable by other means. */
        if (fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP && errno != EOPNOTSUPP) {
            mlpio_error_errno(err, MLPIO_ERR_IO, errno, "fsync of directory %s failed", dir);
            mlpio_error_hint(err,
                             "the storage holding %s reported an error; check its health "
                             "and free space, then write %s again",
                             dir, path);
            rc = -1;
        }
        close(fd);
    }
    free(dir);
    return rc;
}

static void io_hint(struct mlpio_error *err, int errnum, const char *path)
{
    switch (errnum) {
    case ENOENT:
    case ENOTDIR:
        mlpio_error_hint(err, "check that the directory of %s exists", path);
        break;
    case EACCES:
    case EPERM:
    case EROFS:
        mlpio_error_hint(err, "check the permissions of %s and its directory", path);
        break;
    case ENOSPC:
    case EDQUOT:
        mlpio_error_hint(err, "free space (or quota) where %s lives", path);
        break;
    default:
        mlpio_error_hint(err, "check the storage holding %s", path);
        break;
    }
}

/* Write data to an already created fd, fsync and close it. The fd is always closed. */
static int fill_and_close(int fd, const char *path, const char *data, size_t len,
                          struct mlpio_error *err)
{
    const char *op = NULL;
    if (write_all(fd, data, len) != 0)
        op = "write";
    else if (fsync(fd) != 0)
        op = "fsync";
    if (op) {
        int e = errno;
        close(fd);
        mlpio_error_errno(err, MLPIO_ERR_IO, e, "%s of %s failed", op, path);
        io_hint(err, e, path);
        return -1;
    }
    if (close(fd) != 0) {
        int e = errno;
        mlpio_error_errno(err, MLPIO_ERR_IO, e, "close of %s failed", path);
        io_hint(err, e, path);
        return -1;
    }
    return 0;
}

int mlpio_file_write_atomic(const char *path, const char *data, size_t len, struct mlpio_error *err)
{
    char *tmp = NULL;
    if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0)
        return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "cannot write %s", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        int e = errno;
        mlpio_error_errno(err, MLPIO_ERR_IO, e, "cannot create %s to write %s", tmp, path);
        if (e == EEXIST)
            mlpio_error_hint(err, "%s is left over from an interrupted write; remove it", tmp);
        else
            io_hint(err, e, path);
        free(tmp);
        return -1;
    }
    if (fill_and_close(fd, tmp, data, len, err) != 0)
        goto fail;
    if (rename(tmp, path) != 0) {
        int e = errno;
        mlpio_error_errno(err, MLPIO_ERR_IO, e, "rename of %s to %s failed", tmp, path);
        io_hint(err, e, path);
        goto fail;
    }
    free(tmp);
    return sync_parent_dir(path, err);
fail:
    unlink(tmp);
    free(tmp);
    return -1;
}

int mlpio_json_write_atomic(const char *path, const cJSON *json, struct mlpio_error *err)
{
    if (!json)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "cannot write %s: no JSON document", path);
    /* cJSON_Print does not modify the tree; its prototype just lacks the const. */
    char *text = cJSON_Print((cJSON *)json);
    if (!text)
        return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM,
                                 "cannot format the JSON document for %s", path);
    /* cJSON may allocate through its own hooks, so the newline goes into a buffer of ours. */
    size_t len = strlen(text);
    char *buf = malloc(len + 1);
    if (!buf) {
        cJSON_free(text);
        return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM,
                                 "cannot format the JSON document for %s", path);
    }
    memcpy(buf, text, len);
    buf[len] = '\n';
    cJSON_free(text);
    int rc = mlpio_file_write_atomic(path, buf, len + 1, err);
    free(buf);
    return rc;
}

int mlpio_file_create_exclusive(const char *path, const char *data, size_t len,
                                struct mlpio_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        int e = errno;
        mlpio_error_errno(err, MLPIO_ERR_IO, e, "cannot create %s", path);
        if (e == EEXIST)
            mlpio_error_hint(err,
                             "%s already exists and is never overwritten; choose another "
                             "name or move the existing file away",
                             path);
        else
            io_hint(err, e, path);
        return -1;
    }
    if (fill_and_close(fd, path, data, len, err) != 0) {
        /* The file is ours (O_EXCL): do not leave a partial one behind. */
        unlink(path);
        return -1;
    }
    return sync_parent_dir(path, err);
}

/* ---- reading ---------------------------------------------------------------------------- */

struct scan {
    const char *s;
    size_t len;
    size_t pos;
    const char *why;
};

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static void skip_ws(struct scan *sc)
{
    while (sc->pos < sc->len && is_ws(sc->s[sc->pos]))
        sc->pos++;
}

static int fail(struct scan *sc, const char *why)
{
    sc->why = sc->pos >= sc->len ? "unexpected end of input" : why;
    return -1;
}

static int scan_value(struct scan *sc, int depth);

static int scan_string(struct scan *sc)
{
    size_t start = sc->pos++;
    while (sc->pos < sc->len) {
        unsigned char c = (unsigned char)sc->s[sc->pos];
        if (c == '"') {
            sc->pos++;
            return 0;
        }
        if (c < 0x20)
            return fail(sc, c == '\n' ? "unterminated string (a string cannot span lines)"
                                      : "control character in a string (escape it)");
        if (c == '\\') {
            sc->pos++;
            if (sc->pos >= sc->len)
                break;
            c = (unsigned char)sc->s[sc->pos];
            if (c == 'u') {
                for (int i = 1; i <= 4; i++) {
                    if (sc->pos + 1 >= sc->len || !is_hex(sc->s[sc->pos + 1])) {
                        sc->pos++;
                        return fail(sc, "\\u must be followed by 4 hex digits");
                    }
                    sc->pos++;
                }
            } else if (!c || !strchr("\"\\/bfnrt", c)) {
                return fail(sc, "invalid escape in a string");
            }
        }
        sc->pos++;
    }
    sc->pos = start;
    sc->why = "unterminated string";
    return -1;
}

static int digits(struct scan *sc)
{
    size_t start = sc->pos;
    while (sc->pos < sc->len && sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9')
        sc->pos++;
    return sc->pos > start ? 0 : fail(sc, "invalid number (a digit was expected)");
}

static int scan_number(struct scan *sc)
{
    if (sc->s[sc->pos] == '-')
        sc->pos++;
    if (sc->pos < sc->len && sc->s[sc->pos] == '0')
        sc->pos++;
    else if (digits(sc))
        return -1;
    if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
        sc->pos++;
        if (digits(sc))
            return -1;
    }
    if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
        sc->pos++;
        if (sc->pos < sc->len && (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-'))
            sc->pos++;
        if (digits(sc))
            return -1;
    }
    return 0;
}

static int scan_literal(struct scan *sc)
{
    static const char *const words[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if (sc->len - sc->pos >= n && memcmp(sc->s + sc->pos, words[i], n) == 0) {
            sc->pos += n;
            return 0;
        }
    }
    return fail(sc, "invalid literal (expected true, false or null; strings need quotes)");
}

/* Array or object; `close` is ']' or '}'. */
static int scan_container(struct scan *sc, char close, int depth)
{
    if (depth >= SCAN_MAX_DEPTH)
        return fail(sc, "nesting too deep");
    sc->pos++;
    skip_ws(sc);
    if (sc->pos < sc->len && sc->s[sc->pos] == close) {
        sc->pos++;
        return 0;
    }
    for (;;) {
        skip_ws(sc);
        if (close == '}') {
            if (sc->pos >= sc->len || sc->s[sc->pos] != '"')
                return fail(sc, "expected a member name in double quotes");
            if (scan_string(sc))
                return -1;
            skip_ws(sc);
            if (sc->pos >= sc->len || sc->s[sc->pos] != ':')
                return fail(sc, "expected ':' after the member name");
            sc->pos++;
        }
        if (scan_value(sc, depth + 1))
            return -1;
        skip_ws(sc);
        if (sc->pos < sc->len && sc->s[sc->pos] == ',') {
            sc->pos++;
            continue;
        }
        if (sc->pos < sc->len && sc->s[sc->pos] == close) {
            sc->pos++;
            return 0;
        }
        return fail(sc, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int scan_value(struct scan *sc, int depth)
{
    skip_ws(sc);
    if (sc->pos >= sc->len)
        return fail(sc, "expected a value");
    char c = sc->s[sc->pos];
    if (c == '{')
        return scan_container(sc, '}', depth);
    if (c == '[')
        return scan_container(sc, ']', depth);
    if (c == '"')
        return scan_string(sc);
    if (c == '-' || (c >= '0' && c <= '9'))
        return scan_number(sc);
    if (c >= 'a' && c <= 'z')
        return scan_literal(sc);
    return fail(sc, "expected a value");
}

/* Offset of the first syntax error and what was wrong, or -1 if the text is valid. */
static long locate_error(const char *text, size_t len, const char **why)
{
    struct scan sc = {.s = text, .len = len};
    if (scan_value(&sc, 0) == 0) {
        skip_ws(&sc);
        if (sc.pos >= sc.len)
            return -1;
        sc.why = "unexpected text after the JSON value";
    }
    *why = sc.why;
    return (long)sc.pos;
}

static int parse_error(const char *text, size_t len, size_t off, const char *origin,
                       const char *why, struct mlpio_error *err)
{
    size_t line_start = 0;
    int line = 1, column = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (text[i] == '\n') {
            line++;
            line_start = i + 1;
        }
    }
    /* Columns count characters, not bytes, as editors do: skip UTF-8 continuation bytes. */
    for (size_t i = line_start; i < off && i < len; i++)
        if (((unsigned char)text[i] & 0xC0) != 0x80)
            column++;
    size_t from = off > line_start + EXCERPT_HALF ? off - EXCERPT_HALF : line_start;
    size_t to = from;
    while (to < len && to < off + EXCERPT_HALF && text[to] != '\n')
        to++;
    char excerpt[2 * EXCERPT_HALF + 1];
    size_t n = 0;
    for (size_t i = from; i < to && n < sizeof(excerpt) - 1; i++) {
        unsigned char c = (unsigned char)text[i];
        excerpt[n++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    excerpt[n] = '\0';
    mlpio_error_set(err, MLPIO_ERR_CONFIG,
                    "%s: invalid JSON at line %d, column %d: %s, near \"%s%s%s\"", origin, line,
                    column, why, from > line_start ? "..." : "", excerpt,
                    to < len && text[to] != '\n' ? "..." : "");
    return mlpio_error_hint(err,
                            "fix the JSON in %s at line %d, column %d (a missing comma, "
                            "quote or brace is the usual cause)",
                            origin, line, column);
}

/* text[len] must be '\0'. */
static cJSON *parse_buffer(const char *text, size_t len, const char *origin,
                           struct mlpio_error *err)
{
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        parse_error(text, len, (size_t)(nul - text), origin, "NUL byte in the text", err);
        return NULL;
    }
    const char *end = NULL;
    cJSON *json = cJSON_ParseWithOpts(text, &end, 1);
    if (json)
        return json;
    const char *why = "invalid JSON";
    long off = locate_error(text, len, &why);
    if (off < 0) {
        /* The strict scan accepts what cJSON refused (nesting or an allocation failure). */
        off = end && end >= text && end <= text + len ? (long)(end - text) : 0;
        why = "cJSON could not parse the document (too deeply nested, or out of memory)";
    }
    size_t lead = strspn(text, " \t\r\n");
    if (lead == len)
        why = "the document is empty";
    parse_error(text, len, (size_t)off, origin, why, err);
    return NULL;
}

cJSON *mlpio_json_parse_text(const char *text, const char *origin, struct mlpio_error *err)
{
    if (!origin)
        origin = "JSON text";
    if (!text) {
        mlpio_error_set(err, MLPIO_ERR_INTERNAL, "%s: no text to parse", origin);
        return NULL;
    }
    return parse_buffer(text, strlen(text), origin, err);
}

static const char *file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO (named pipe)";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

/* A FIFO would block open() until a writer comes, and a device such as /dev/zero never ends:
 * only regular files are read, opened without blocking and read up to max_bytes. */
char *mlpio_file_read_text(const char *path, size_t max_bytes, size_t *len_out,
                           struct mlpio_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        mlpio_error_errno(err, MLPIO_ERR_IO, e, "cannot open %s for reading", path);
        if (e == ENOENT)
            mlpio_error_hint(err, "check the path: %s does not exist", path);
        else
            io_hint(err, e, path);
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        mlpio_error_errno(err, MLPIO_ERR_IO, e, "cannot stat %s", path);
        io_hint(err, e, path);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        mlpio_error_set(err, MLPIO_ERR_IO, "%s is %s, not a regular file", path,
                        file_kind(st.st_mode));
        mlpio_error_hint(err, "give the path of a regular file");
        return NULL;
    }
    if ((unsigned long long)st.st_size > max_bytes) {
        close(fd);
        mlpio_error_set(err, MLPIO_ERR_IO,
                        "%s holds %lld bytes, more than the %zu bytes (%zu MiB) mlpio reads of it",
                        path, (long long)st.st_size, max_bytes, max_bytes >> 20);
        mlpio_error_hint(err, "check that %s is the file you meant", path);
        return NULL;
    }
    /* The file may grow while it is read: never take more than max_bytes. */
    size_t cap = (size_t)st.st_size + 1, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            close(fd);
            mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "cannot read %s", path);
            return NULL;
        }
        if (len + 1 >= cap) {
            char probe;
            ssize_t more = len >= max_bytes ? read(fd, &probe, 1) : 1;
            if (more == 0)
                break; /* exactly max_bytes */
            if (len >= max_bytes) {
                free(buf);
                close(fd);
                mlpio_error_set(err, MLPIO_ERR_IO, "%s grew past %zu bytes while it was read", path,
                                max_bytes);
                mlpio_error_hint(err, "read %s when nothing is writing it", path);
                return NULL;
            }
            cap = cap * 2 > max_bytes + 1 ? max_bytes + 1 : cap * 2;
            char *grown = realloc(buf, cap);
            if (!grown)
                free(buf);
            buf = grown;
            continue;
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            free(buf);
            close(fd);
            mlpio_error_errno(err, MLPIO_ERR_IO, e, "read of %s failed", path);
            io_hint(err, e, path);
            return NULL;
        }
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    *len_out = len;
    return buf;
}

cJSON *mlpio_json_read_file_max(const char *path, size_t max_bytes, struct mlpio_error *err)
{
    size_t len = 0;
    char *text = mlpio_file_read_text(path, max_bytes, &len, err);
    if (!text)
        return NULL;
    cJSON *json = parse_buffer(text, len, path, err);
    free(text);
    return json;
}

cJSON *mlpio_json_read_file(const char *path, struct mlpio_error *err)
{
    return mlpio_json_read_file_max(path, MLPIO_JSON_FILE_MAX, err);
}

double mlpio_json_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void mlpio_json_set_time(cJSON *doc, const char *key, double t)
{
    char iso[64];
    time_t s = (time_t)t;
    struct tm tm;
    localtime_r(&s, &tm);
    strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S%z", &tm);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "epoch", t);
    cJSON_AddStringToObject(o, "local", iso);
    cJSON_DeleteItemFromObject(doc, key);
    cJSON_AddItemToObject(doc, key, o);
}

/* ---- dotted paths ------------------------------------------------------------------------ */

cJSON *mlpio_json_get_path(const cJSON *root, const char *dotted)
{
    char part[128];
    const cJSON *cur = root;
    const char *p = dotted;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len == 0 || len >= sizeof(part) || !cJSON_IsObject(cur))
            return NULL;
        memcpy(part, p, len);
        part[len] = '\0';
        cur = cJSON_GetObjectItemCaseSensitive(cur, part);
        p = dot ? dot + 1 : p + len;
    }
    return (cJSON *)cur;
}

int mlpio_json_set_path(cJSON *root, const char *dotted, cJSON *value)
{
    char part[128];
    cJSON *cur = root;
    const char *p = dotted;
    /* Check every component first: a bad one found midway must not leave objects behind. */
    for (const char *q = dotted;; q++) {
        const char *dot = strchr(q, '.');
        size_t len = dot ? (size_t)(dot - q) : strlen(q);
        if (len == 0 || len >= sizeof(part)) {
            cJSON_Delete(value);
            return -1;
        }
        if (!dot)
            break;
        q = dot;
    }
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len == 0 || len >= sizeof(part) || !cJSON_IsObject(cur)) {
            cJSON_Delete(value);
            return -1;
        }
        memcpy(part, p, len);
        part[len] = '\0';
        if (!dot) {
            if (cJSON_GetObjectItemCaseSensitive(cur, part))
                cJSON_ReplaceItemInObjectCaseSensitive(cur, part, value);
            else
                cJSON_AddItemToObject(cur, part, value);
            return 0;
        }
        cJSON *next = cJSON_GetObjectItemCaseSensitive(cur, part);
        if (!next) {
            next = cJSON_AddObjectToObject(cur, part);
            if (!next) {
                cJSON_Delete(value);
                return -1;
            }
        }
        cur = next;
        p = dot + 1;
    }
}

double mlpio_json_number(const cJSON *root, const char *dotted, double dflt)
{
    const cJSON *v = mlpio_json_get_path(root, dotted);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

const char *mlpio_json_string(const cJSON *root, const char *dotted, const char *dflt)
{
    const cJSON *v = mlpio_json_get_path(root, dotted);
    return cJSON_IsString(v) ? v->valuestring : dflt;
}

bool mlpio_json_bool(const cJSON *root, const char *dotted, bool dflt)
{
    const cJSON *v = mlpio_json_get_path(root, dotted);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}
