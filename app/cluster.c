/* mlpio cluster collector: see cluster.h.
 *
 * The parsers take file text so that they can be tested on real samples from other machines;
 * mlpio_cluster_read_local feeds them files under a root directory; mlpio_cluster_collect
 * groups ranks by host and brings one record per host to rank 0.
 */
#include "app/cluster.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "app/context.h"

/* /proc/cpuinfo of a many-core machine is a few MiB at most; anything larger is not procfs. */
#define HOST_FILE_MAX (64u << 20)

/* ---- line helpers --------------------------------------------------------------------- */

struct span {
    const char *p;
    size_t n;
};

static struct span trim(struct span s)
{
    while (s.n > 0 && isspace((unsigned char)s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n > 0 && isspace((unsigned char)s.p[s.n - 1]))
        s.n--;
    return s;
}

/* Next line of text (without '\n'); false at the end. */
static bool next_line(const char **cursor, struct span *line)
{
    const char *p = *cursor;
    if (*p == '\0')
        return false;
    const char *nl = strchr(p, '\n');
    line->p = p;
    line->n = nl ? (size_t)(nl - p) : strlen(p);
    *cursor = nl ? nl + 1 : p + line->n;
    return true;
}

static bool span_is(struct span s, const char *word)
{
    return s.n == strlen(word) && memcmp(s.p, word, s.n) == 0;
}

/* procfs "key<tabs>: value" lines; the key keeps inner spaces ("model name"). */
static bool split_colon(struct span line, struct span *key, struct span *val)
{
    const char *colon = memchr(line.p, ':', line.n);
    if (!colon)
        return false;
    *key = trim((struct span){line.p, (size_t)(colon - line.p)});
    *val = trim((struct span){colon + 1, line.n - (size_t)(colon - line.p) - 1});
    return true;
}

static void copy_span(char *dst, size_t size, struct span s)
{
    snprintf(dst, size, "%.*s", (int)s.n, s.p);
}

/* ---- parsers -------------------------------------------------------------------------- */

/* "24731708 kB" -> bytes. */
static int parse_kb(struct span val, uint64_t *bytes)
{
    char buf[64];
    if (val.n == 0 || val.n >= sizeof(buf) || !isdigit((unsigned char)val.p[0]))
        return -1;
    copy_span(buf, sizeof(buf), val);
    char *end;
    errno = 0;
    unsigned long long kb = strtoull(buf, &end, 10);
    struct span unit = trim((struct span){end, strlen(end)});
    if (errno != 0 || !span_is(unit, "kB") || kb > UINT64_MAX / 1024)
        return -1;
    *bytes = (uint64_t)kb * 1024;
    return 0;
}

static int parse_meminfo(const char *text, const char *path, struct mlpio_host_info *h,
                         struct mlpio_error *err)
{
    bool have_total = false;
    uint64_t total = 0, avail = 0;
    struct span line, key, val;
    for (const char *cur = text; next_line(&cur, &line);) {
        if (!split_colon(line, &key, &val))
            continue;
        bool is_total = span_is(key, "MemTotal");
        if (!is_total && !span_is(key, "MemAvailable"))
            continue;
        uint64_t bytes;
        if (parse_kb(val, &bytes) != 0)
            return mlpio_error_set(err, MLPIO_ERR_IO, "%s: cannot parse %.*s value '%.*s'", path,
                                   (int)key.n, key.p, (int)val.n, val.p);
        if (is_total) {
            total = bytes;
            have_total = true;
        } else {
            avail = bytes;
        }
    }
    if (!have_total)
        return mlpio_error_set(err, MLPIO_ERR_IO, "%s has no MemTotal line", path);
    h->mem_total_bytes = total;
    h->mem_available_bytes = avail;
    return 0;
}

int mlpio_cluster_parse_meminfo(const char *text, struct mlpio_host_info *h,
                                struct mlpio_error *err)
{
    return parse_meminfo(text, "/proc/meminfo", h, err);
}

/* Model keys by preference: x86, s390 and ppc use "model name"; old ARM kernels print
 * "Processor", MIPS "cpu model", RISC-V "uarch", POWER "cpu". Modern arm64 prints none. */
static const char *const model_keys[] = {"model name", "Processor", "cpu model", "uarch", "cpu"};
#define NUM_MODEL_KEYS (sizeof(model_keys) / sizeof(model_keys[0]))

static int parse_cpuinfo(const char *text, const char *path, struct mlpio_host_info *h,
                         struct mlpio_error *err)
{
    int count = 0;
    size_t best = NUM_MODEL_KEYS;
    struct span model = {NULL, 0};
    struct span line, key, val;
    for (const char *cur = text; next_line(&cur, &line);) {
        if (!split_colon(line, &key, &val))
            continue;
        if (span_is(key, "processor")) {
            count++;
            continue;
        }
        for (size_t i = 0; i < best && val.n > 0; i++) {
            if (span_is(key, model_keys[i])) {
                best = i;
                model = val;
                break;
            }
        }
    }
    if (count == 0)
        return mlpio_error_set(err, MLPIO_ERR_IO, "%s lists no 'processor' entries", path);
    h->cpu_count = count;
    if (model.p)
        copy_span(h->cpu_model, sizeof(h->cpu_model), model);
    else
        snprintf(h->cpu_model, sizeof(h->cpu_model), "unknown");
    return 0;
}

int mlpio_cluster_parse_cpuinfo(const char *text, struct mlpio_host_info *h,
                                struct mlpio_error *err)
{
    return parse_cpuinfo(text, "/proc/cpuinfo", h, err);
}

static int parse_loadavg(const char *text, const char *path, struct mlpio_host_info *h,
                         struct mlpio_error *err)
{
    double v[3];
    const char *p = text;
    for (int i = 0; i < 3; i++) {
        char *end;
        while (*p == ' ' || *p == '\t')
            p++;
        errno = 0;
        v[i] = strtod(p, &end);
        if (end == p || errno != 0 || !isfinite(v[i]) || v[i] < 0 ||
            (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\0'))
            return mlpio_error_set(err, MLPIO_ERR_IO,
                                   "%s: expected three load averages, field %d is not a number",
                                   path, i + 1);
        p = end;
    }
    memcpy(h->loadavg, v, sizeof(v));
    return 0;
}

int mlpio_cluster_parse_loadavg(const char *text, struct mlpio_host_info *h,
                                struct mlpio_error *err)
{
    return parse_loadavg(text, "/proc/loadavg", h, err);
}

/* os-release values follow shell quoting: "..." with \ escapes, or '...' taken literally. */
static void unquote(struct span v, char *dst, size_t size)
{
    size_t o = 0;
    char q = v.n >= 2 && (v.p[0] == '"' || v.p[0] == '\'') && v.p[v.n - 1] == v.p[0] ? v.p[0] : 0;
    if (q) {
        v.p++;
        v.n -= 2;
    }
    for (size_t i = 0; i < v.n && o + 1 < size; i++) {
        if (q != '\'' && v.p[i] == '\\' && i + 1 < v.n && strchr("\"\\$`", v.p[i + 1]))
            i++;
        dst[o++] = v.p[i];
    }
    dst[o] = '\0';
}

static int parse_os_release(const char *text, const char *path, struct mlpio_host_info *h,
                            struct mlpio_error *err)
{
    struct span line, pretty = {NULL, 0}, name = {NULL, 0};
    for (const char *cur = text; next_line(&cur, &line);) {
        line = trim(line);
        const char *eq = memchr(line.p, '=', line.n);
        if (line.n == 0 || line.p[0] == '#' || !eq)
            continue;
        struct span key = {line.p, (size_t)(eq - line.p)};
        struct span val = trim((struct span){eq + 1, line.n - key.n - 1});
        /* An empty or "" value says nothing; keep looking for the other key. */
        if (val.n == 0 || (val.n == 2 && (val.p[0] == '"' || val.p[0] == '\'')))
            continue;
        if (span_is(key, "PRETTY_NAME"))
            pretty = val;
        else if (span_is(key, "NAME"))
            name = val;
    }
    struct span chosen = pretty.p ? pretty : name;
    if (!chosen.p)
        return mlpio_error_set(err, MLPIO_ERR_IO, "%s has neither PRETTY_NAME nor NAME", path);
    unquote(chosen, h->os_name, sizeof(h->os_name));
    return 0;
}

int mlpio_cluster_parse_os_release(const char *text, struct mlpio_host_info *h,
                                   struct mlpio_error *err)
{
    return parse_os_release(text, "/etc/os-release", h, err);
}

/* ---- reading the local host ----------------------------------------------------------- */

/* procfs files report size 0, so read until EOF instead of trusting st_size. */
static int slurp(const char *path, char **text, struct mlpio_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mlpio_error_errno(err, MLPIO_ERR_IO, errno, "cannot open %s", path);
    size_t cap = 16384, len = 0;
    char *buf = malloc(cap);
    int rc = -1;
    if (!buf) {
        mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "reading %s", path);
        goto out;
    }
    for (;;) {
        if (len + 1 == cap) {
            char *bigger = cap < HOST_FILE_MAX ? realloc(buf, cap * 2) : NULL;
            if (!bigger) {
                mlpio_error_set(err, MLPIO_ERR_IO, "%s is larger than %u MiB or memory ran out",
                                path, HOST_FILE_MAX >> 20);
                goto out;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            mlpio_error_errno(err, MLPIO_ERR_IO, errno, "cannot read %s", path);
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *text = buf;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    close(fd);
    return rc;
}

/* root/rel, without a doubled slash when root is "/". */
static int join(char *dst, size_t size, const char *root, const char *rel, struct mlpio_error *err)
{
    size_t rl = strlen(root);
    while (rl > 0 && root[rl - 1] == '/')
        rl--;
    int n = snprintf(dst, size, "%.*s/%s", (int)rl, root, rel);
    if (n < 0 || (size_t)n >= size)
        return mlpio_error_set(err, MLPIO_ERR_USAGE, "host information root '%s' is too long",
                               root);
    return 0;
}

static int read_parse(const char *root, const char *rel,
                      int (*parse)(const char *, const char *, struct mlpio_host_info *,
                                   struct mlpio_error *),
                      struct mlpio_host_info *h, struct mlpio_error *err)
{
    char path[PATH_MAX];
    char *text = NULL;
    if (join(path, sizeof(path), root, rel, err) != 0)
        return -1;
    if (slurp(path, &text, err) != 0) {
        mlpio_error_hint(err, "mlpio records the hardware it ran on from /proc and /etc; run it "
                              "on Linux with /proc mounted and readable");
        return -1;
    }
    int rc = parse(text, path, h, err);
    free(text);
    return rc;
}

static int read_os_name(const char *root, struct mlpio_host_info *h, struct mlpio_error *err)
{
    /* os-release(5): /etc/os-release, falling back to /usr/lib/os-release. A system with
     * neither (some minimal containers) is still measurable, so it is only named "unknown". */
    static const char *const where[] = {"etc/os-release", "usr/lib/os-release"};
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
        if (join(path, sizeof(path), root, where[i], err) != 0)
            return -1;
        if (access(path, F_OK) == 0)
            return read_parse(root, where[i], parse_os_release, h, err);
        if (errno != ENOENT)
            return mlpio_error_errno(err, MLPIO_ERR_IO, errno, "cannot access %s", path);
    }
    snprintf(h->os_name, sizeof(h->os_name), "unknown");
    return 0;
}

int mlpio_cluster_read_local(const char *root, struct mlpio_host_info *h, struct mlpio_error *err)
{
    struct mlpio_host_info tmp;
    memset(&tmp, 0, sizeof(tmp));
    if (read_parse(root, "proc/meminfo", parse_meminfo, &tmp, err) != 0 ||
        read_parse(root, "proc/cpuinfo", parse_cpuinfo, &tmp, err) != 0 ||
        read_parse(root, "proc/loadavg", parse_loadavg, &tmp, err) != 0 ||
        read_os_name(root, &tmp, err) != 0)
        return -1;

    if (gethostname(tmp.hostname, sizeof(tmp.hostname)) != 0)
        return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, errno, "gethostname failed");
    /* POSIX leaves a truncated name unterminated. */
    tmp.hostname[sizeof(tmp.hostname) - 1] = '\0';

    struct utsname u;
    if (uname(&u) != 0)
        return mlpio_error_errno(err, MLPIO_ERR_INTERNAL, errno, "uname failed");
    if (snprintf(tmp.kernel, sizeof(tmp.kernel), "%s %s %s", u.sysname, u.release, u.machine) < 0)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "formatting the kernel name failed");
    *h = tmp;
    return 0;
}

/* ---- collective ----------------------------------------------------------------------- */

static int mpi_fail(struct mlpio_error *err, int code, const char *what)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0, cls = 0;
    if (MPI_Error_string(code, msg, &len) != MPI_SUCCESS)
        snprintf(msg, sizeof(msg), "error code %d", code);
    MPI_Error_class(code, &cls);
    mlpio_error_set(err, MLPIO_ERR_INTERNAL, "%s failed while collecting host information: %s",
                    what, msg);
    mlpio_error_cause(err, MLPIO_SRC_MPI, cls);
    return -1;
}

/* FNV-1a; only used to colour a split, so collisions are caught afterwards. */
static int hostname_color(const char *name)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 16777619u;
    return (int)(h & 0x7fffffff);
}

/* Sets *differ on every rank of all when any node communicator holds two host names. */
static int node_names_differ(MPI_Comm all, MPI_Comm node, const char *hostname, int *differ,
                             struct mlpio_error *err)
{
    char leader[sizeof(((struct mlpio_host_info *)0)->hostname)];
    int mine, rc;
    snprintf(leader, sizeof(leader), "%s", hostname);
    if ((rc = MPI_Bcast(leader, (int)sizeof(leader), MPI_CHAR, 0, node)) != MPI_SUCCESS)
        return mpi_fail(err, rc, "MPI_Bcast of the host name");
    mine = strcmp(leader, hostname) != 0;
    if ((rc = MPI_Allreduce(&mine, differ, 1, MPI_INT, MPI_MAX, all)) != MPI_SUCCESS)
        return mpi_fail(err, rc, "MPI_Allreduce of the host name check");
    return 0;
}

/* One communicator per host. Shared memory is the MPI notion of a node; the host name check
 * catches launchers that report shared memory wrongly (containers, some virtualised nodes).
 * key = world rank, so local rank 0 is the lowest world rank of the host. */
static int split_by_host(MPI_Comm all, int rank, const char *hostname, MPI_Comm *node,
                         struct mlpio_error *err)
{
    int rc, differ = 0;
    rc = MPI_Comm_split_type(all, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, node);
    if (rc != MPI_SUCCESS) {
        *node = MPI_COMM_NULL;
        return mpi_fail(err, rc, "MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)");
    }
    if (node_names_differ(all, *node, hostname, &differ, err) != 0)
        return -1;
    if (!differ)
        return 0;
    MPI_Comm_free(node);
    if ((rc = MPI_Comm_split(all, hostname_color(hostname), rank, node)) != MPI_SUCCESS) {
        *node = MPI_COMM_NULL;
        return mpi_fail(err, rc, "MPI_Comm_split by host name");
    }
    if (node_names_differ(all, *node, hostname, &differ, err) != 0)
        return -1;
    if (differ)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                               "two different host names hash to the same value while grouping "
                               "ranks by host (this host: %s)",
                               hostname);
    return 0;
}

static int by_first_rank(const void *a, const void *b)
{
    const struct mlpio_cluster_host *x = a, *y = b;
    return (x->first_rank > y->first_rank) - (x->first_rank < y->first_rank);
}

/* Leaders (local rank 0) send their host's record to world rank 0, itself always a leader. */
static int gather_hosts(MPI_Comm all, const struct mlpio_context *agree, MPI_Comm node,
                        struct mlpio_cluster_host *mine, struct mlpio_cluster **out,
                        struct mlpio_error *err)
{
    MPI_Comm leaders = MPI_COMM_NULL;
    struct mlpio_cluster *c = NULL;
    int node_rank, rc;
    MPI_Comm_rank(node, &node_rank);
    MPI_Comm_size(node, &mine->ranks);
    mine->first_rank = agree->rank;

    rc = MPI_Comm_split(all, node_rank == 0 ? 0 : MPI_UNDEFINED, agree->rank, &leaders);
    if (rc != MPI_SUCCESS) {
        leaders = MPI_COMM_NULL;
        rc = mpi_fail(err, rc, "MPI_Comm_split of host leaders");
    }
    if (rc == 0 && agree->rank == 0) {
        c = calloc(1, sizeof(*c));
        if (c)
            MPI_Comm_size(leaders, &c->num_hosts);
        if (c)
            c->hosts = calloc((size_t)c->num_hosts, sizeof(*c->hosts));
        if (!c || !c->hosts)
            rc = mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "allocating the cluster table");
    }
    if (mlpio_context_agree(agree, rc, err) != 0)
        goto fail;

    if (leaders != MPI_COMM_NULL) {
        rc = MPI_Gather(mine, (int)sizeof(*mine), MPI_BYTE, c ? c->hosts : NULL, (int)sizeof(*mine),
                        MPI_BYTE, 0, leaders);
        rc = rc == MPI_SUCCESS ? 0 : mpi_fail(err, rc, "MPI_Gather of host records");
    }
    if (mlpio_context_agree(agree, rc, err) != 0)
        goto fail;

    if (c) {
        qsort(c->hosts, (size_t)c->num_hosts, sizeof(*c->hosts), by_first_rank);
        c->world_size = agree->size;
        for (int i = 0; i < c->num_hosts; i++)
            c->total_mem_bytes += c->hosts[i].info.mem_total_bytes;
    }
    if (leaders != MPI_COMM_NULL)
        MPI_Comm_free(&leaders);
    *out = c;
    return 0;
fail:
    if (leaders != MPI_COMM_NULL)
        MPI_Comm_free(&leaders);
    mlpio_cluster_destroy(&c);
    return -1;
}

int mlpio_cluster_collect(MPI_Comm comm, const char *root, struct mlpio_cluster **out,
                          int *host_ranks, struct mlpio_error *err)
{
    MPI_Comm all = MPI_COMM_NULL, node = MPI_COMM_NULL;
    struct mlpio_error e;
    struct mlpio_cluster_host mine;
    int rc;

    *out = NULL;
    if (host_ranks)
        *host_ranks = 1;
    mlpio_error_clear(&e);
    /* Private communicator; errors come back as codes so that every rank can agree on them. */
    if ((rc = MPI_Comm_dup(comm, &all)) != MPI_SUCCESS)
        return mpi_fail(err, rc, "MPI_Comm_dup");
    MPI_Comm_set_errhandler(all, MPI_ERRORS_RETURN);
    struct mlpio_context agree = {.comm = all};
    MPI_Comm_rank(all, &agree.rank);
    MPI_Comm_size(all, &agree.size);

    /* Padding travels in the gathered bytes: keep it defined. */
    memset(&mine, 0, sizeof(mine));
    rc = mlpio_cluster_read_local(root, &mine.info, &e);
    rc = mlpio_context_agree(&agree, rc, &e);
    if (rc == 0) {
        rc = split_by_host(all, agree.rank, mine.info.hostname, &node, &e);
        rc = mlpio_context_agree(&agree, rc, &e);
    }
    if (rc == 0)
        rc = gather_hosts(all, &agree, node, &mine, out, &e);
    if (rc == 0 && host_ranks)
        *host_ranks = mine.ranks;
    if (node != MPI_COMM_NULL)
        MPI_Comm_free(&node);
    MPI_Comm_free(&all);
    if (rc != 0 && err)
        *err = e;
    return rc == 0 ? 0 : -1;
}

/* ---- JSON ----------------------------------------------------------------------------- */

static cJSON *host_to_json(const struct mlpio_cluster_host *host)
{
    const struct mlpio_host_info *h = &host->info;
    cJSON *o = cJSON_CreateObject();
    cJSON *load = cJSON_CreateDoubleArray(h->loadavg, 3);
    if (!o || !load || !cJSON_AddItemToObject(o, "hostname", cJSON_CreateString(h->hostname)) ||
        !cJSON_AddNumberToObject(o, "memory_bytes", (double)h->mem_total_bytes) ||
        !cJSON_AddNumberToObject(o, "memory_available_bytes", (double)h->mem_available_bytes) ||
        !cJSON_AddNumberToObject(o, "cpu_count", h->cpu_count) ||
        !cJSON_AddStringToObject(o, "cpu_model", h->cpu_model) ||
        !cJSON_AddItemToObject(o, "loadavg", load) ||
        !cJSON_AddStringToObject(o, "os", h->os_name) ||
        !cJSON_AddStringToObject(o, "kernel", h->kernel) ||
        !cJSON_AddNumberToObject(o, "ranks", host->ranks) ||
        !cJSON_AddNumberToObject(o, "first_rank", host->first_rank)) {
        if (!cJSON_GetObjectItemCaseSensitive(o, "loadavg"))
            cJSON_Delete(load);
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *mlpio_cluster_to_json(const struct mlpio_cluster *c)
{
    if (!c)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON *hosts = NULL;
    /* "GB" means 2^30 bytes here, as in the benchmark rules' field names. */
    if (!cJSON_AddNumberToObject(o, "num_hosts", c->num_hosts) ||
        !cJSON_AddNumberToObject(o, "world_size", c->world_size) ||
        !cJSON_AddNumberToObject(o, "total_memory_bytes", (double)c->total_mem_bytes) ||
        !cJSON_AddNumberToObject(o, "total_memory_GB", (double)c->total_mem_bytes / 1073741824.0) ||
        !(hosts = cJSON_AddArrayToObject(o, "hosts")))
        goto fail;
    for (int i = 0; i < c->num_hosts; i++) {
        cJSON *h = host_to_json(&c->hosts[i]);
        if (!h || !cJSON_AddItemToArray(hosts, h)) {
            cJSON_Delete(h);
            goto fail;
        }
    }
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

/* Integer-valued number in [lo, hi]. */
static int get_uint(const cJSON *o, const char *key, double lo, double hi, const char *where,
                    double *out, struct mlpio_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < lo ||
        v->valuedouble > hi)
        return mlpio_error_set(
            err, MLPIO_ERR_CONFIG,
            "cluster JSON: %s\"%s\" is missing or not an integer in [%.0f, %.0f]", where, key, lo,
            hi);
    *out = v->valuedouble;
    return 0;
}

static int get_string(const cJSON *o, const char *key, const char *where, char *dst, size_t size,
                      struct mlpio_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= size)
        return mlpio_error_set(err, MLPIO_ERR_CONFIG,
                               "cluster JSON: %s\"%s\" is missing, not a string or longer than %zu "
                               "bytes",
                               where, key, size - 1);
    memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
    return 0;
}

/* uint64 values travel as JSON numbers; beyond 2^64 they cannot be converted back. */
#define U64_LIMIT 18446744073709549568.0

static int host_from_json(const cJSON *o, int i, struct mlpio_cluster_host *host,
                          struct mlpio_error *err)
{
    struct mlpio_host_info *h = &host->info;
    char where[32];
    double total = 0, avail = 0, cpus = 0, ranks = 0, first = 0;
    snprintf(where, sizeof(where), "hosts[%d].", i);
    if (!cJSON_IsObject(o))
        return mlpio_error_set(err, MLPIO_ERR_CONFIG, "cluster JSON: hosts[%d] is not an object",
                               i);
    if (get_string(o, "hostname", where, h->hostname, sizeof(h->hostname), err) != 0 ||
        get_uint(o, "memory_bytes", 0, U64_LIMIT, where, &total, err) != 0 ||
        get_uint(o, "memory_available_bytes", 0, U64_LIMIT, where, &avail, err) != 0 ||
        get_uint(o, "cpu_count", 1, INT_MAX, where, &cpus, err) != 0 ||
        get_string(o, "cpu_model", where, h->cpu_model, sizeof(h->cpu_model), err) != 0 ||
        get_string(o, "os", where, h->os_name, sizeof(h->os_name), err) != 0 ||
        get_string(o, "kernel", where, h->kernel, sizeof(h->kernel), err) != 0 ||
        get_uint(o, "ranks", 1, INT_MAX, where, &ranks, err) != 0 ||
        get_uint(o, "first_rank", 0, INT_MAX, where, &first, err) != 0)
        return -1;
    const cJSON *load = cJSON_GetObjectItemCaseSensitive(o, "loadavg");
    if (!cJSON_IsArray(load) || cJSON_GetArraySize(load) != 3)
        return mlpio_error_set(err, MLPIO_ERR_CONFIG,
                               "cluster JSON: %s\"loadavg\" is not an array of 3 numbers", where);
    for (int k = 0; k < 3; k++) {
        const cJSON *v = cJSON_GetArrayItem(load, k);
        if (!cJSON_IsNumber(v) || v->valuedouble < 0)
            return mlpio_error_set(err, MLPIO_ERR_CONFIG,
                                   "cluster JSON: %s\"loadavg\"[%d] is not a non-negative number",
                                   where, k);
        h->loadavg[k] = v->valuedouble;
    }
    h->mem_total_bytes = (uint64_t)total;
    h->mem_available_bytes = (uint64_t)avail;
    h->cpu_count = (int)cpus;
    host->ranks = (int)ranks;
    host->first_rank = (int)first;
    return 0;
}

struct mlpio_cluster *mlpio_cluster_from_json(const cJSON *json, struct mlpio_error *err)
{
    struct mlpio_cluster *c = NULL;
    double num_hosts = 0, world = 0, total = 0;
    if (!cJSON_IsObject(json)) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG, "cluster JSON is not an object");
        return NULL;
    }
    const cJSON *hosts = cJSON_GetObjectItemCaseSensitive(json, "hosts");
    if (get_uint(json, "num_hosts", 1, INT_MAX, "", &num_hosts, err) != 0 ||
        get_uint(json, "world_size", 1, INT_MAX, "", &world, err) != 0 ||
        get_uint(json, "total_memory_bytes", 0, U64_LIMIT, "", &total, err) != 0)
        return NULL;
    if (!cJSON_IsArray(hosts) || cJSON_GetArraySize(hosts) != (int)num_hosts) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "cluster JSON: \"hosts\" is not an array of num_hosts (%.0f) entries",
                        num_hosts);
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (c)
        c->hosts = calloc((size_t)num_hosts, sizeof(*c->hosts));
    if (!c || !c->hosts) {
        mlpio_error_errno(err, MLPIO_ERR_INTERNAL, ENOMEM, "allocating the cluster table");
        goto fail;
    }
    c->num_hosts = (int)num_hosts;
    c->world_size = (int)world;
    c->total_mem_bytes = (uint64_t)total;
    int i = 0;
    const cJSON *h;
    cJSON_ArrayForEach(h, hosts)
    {
        if (host_from_json(h, i, &c->hosts[i], err) != 0)
            goto fail;
        i++;
    }
    return c;
fail:
    mlpio_cluster_destroy(&c);
    return NULL;
}

void mlpio_cluster_destroy(struct mlpio_cluster **c)
{
    if (!c || !*c)
        return;
    free((*c)->hosts);
    free(*c);
    *c = NULL;
}
