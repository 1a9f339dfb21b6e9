/* mlpio on every host the same, see sameness.h. */
#include "app/sameness.h"

#include <dirent.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/config.h"
#include "report/json_file.h"

#define FILE_MAX (16u << 20)

struct what {
    char version[64];
    char commit[48];
    char share[PATH_MAX];
    unsigned char defs[crypto_hash_sha256_BYTES];
    char host[256];
};

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file below dir (rel its path from the share root), in name order: its path and
 * its bytes into the hash. */
static void hash_tree(crypto_hash_sha256_state *h, const char *dir, const char *rel, int depth)
{
    DIR *d = depth < 8 ? opendir(dir) : NULL;
    char **names = NULL;
    size_t n = 0, cap = 0;
    const struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            char **grown = realloc(names, cap * sizeof(*names));
            if (!grown)
                break;
            names = grown;
        }
        if (!(names[n] = strdup(e->d_name)))
            break;
        n++;
    }
    if (d)
        closedir(d);
    if (n > 1)
        qsort(names, n, sizeof(*names), cmp_names);
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX], sub[PATH_MAX];
        struct stat st;
        if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= (int)sizeof(path) ||
            snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", names[i]) >=
                (int)sizeof(sub)) {
            free(names[i]);
            continue; /* too deep to be a definition */
        }
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            hash_tree(h, path, sub, depth + 1);
        } else if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            struct mlpio_error ignored = {0};
            size_t len = 0;
            char *text = mlpio_file_read_text(path, FILE_MAX, &len, &ignored);
            crypto_hash_sha256_update(h, (const unsigned char *)sub, strlen(sub) + 1);
            if (text)
                crypto_hash_sha256_update(h, (const unsigned char *)text, len);
            free(text);
        }
        free(names[i]);
    }
    free(names);
}

static void mine(struct what *w)
{
    memset(w, 0, sizeof(*w));
    /* Test seam: a rank that says it is another version, as an older install on a node. */
    const char *as = getenv("MLPIO_TEST_AS_VERSION");
    snprintf(w->version, sizeof(w->version), "%s", as && *as ? as : MLPIO_VERSION);
    snprintf(w->commit, sizeof(w->commit), "%s", MLPIO_GIT_SHA);
    mlpio_config_share_dir(w->share, sizeof(w->share));
    gethostname(w->host, sizeof(w->host) - 1);
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    hash_tree(&h, w->share, "", 0);
    crypto_hash_sha256_final(&h, w->defs);
}

int mlpio_check_same_everywhere(const struct mlpio_context *ctx, struct mlpio_error *err)
{
    if (ctx->size == 1)
        return 0;
    struct what me, zero;
    mine(&me);
    zero = me;
    if (MPI_Bcast(&zero, (int)sizeof(zero), MPI_BYTE, 0, ctx->comm) != MPI_SUCCESS)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "MPI_Bcast of the build's identity");
    int rc = 0;
    if (strcmp(me.version, zero.version) != 0 || strcmp(me.commit, zero.commit) != 0) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "host %s runs mlpio %s (commit %.12s), rank 0 on host %s mlpio %s "
                        "(commit %.12s): every host must run the same mlpio",
                        me.host, me.version, me.commit, zero.host, zero.version, zero.commit);
        mlpio_error_hint(err, "install the same mlpio on every node, or run the one on a shared "
                              "file system");
        rc = -1;
    } else if (memcmp(me.defs, zero.defs, sizeof(me.defs)) != 0) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "host %s has other workload definitions or rules (%s) than rank 0 on "
                        "host %s (%s): every host must read the same files",
                        me.host, me.share, zero.host, zero.share);
        mlpio_error_hint(err, "install the same share/mlpio on every node, or point "
                              "MLPIO_SHARE_DIR at one on a shared file system");
        rc = -1;
    }
    return mlpio_context_agree(ctx, rc, err);
}
