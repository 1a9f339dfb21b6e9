/* mlpio paths: see path.h. */
#include "io/path.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *mlpio_path_normalize(const char *path)
{
    char *out = malloc(strlen(path) + 2);
    if (!out)
        return NULL;
    int absolute = path[0] == '/';
    size_t o = 0, floor = 0; /* floor: ".." never climbs above a relative path's start */
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        const char *end = strchrnul(p, '/');
        size_t n = (size_t)(end - p);
        if (n == 0 || (n == 1 && p[0] == '.')) {
            /* nothing to add */
        } else if (n == 2 && p[0] == '.' && p[1] == '.' && o > floor) {
            while (o > floor && out[o - 1] != '/')
                o--;
            if (o > floor)
                o--;
        } else if (n == 2 && p[0] == '.' && p[1] == '.' && absolute) {
            /* "/.." is "/" */
        } else {
            if (o > 0 || absolute)
                out[o++] = '/';
            memcpy(out + o, p, n);
            o += n;
            if (n == 2 && p[0] == '.' && p[1] == '.')
                floor = o; /* a leading "../" of a relative path stays */
        }
        p = end;
    }
    if (o == 0)
        out[o++] = absolute ? '/' : '.';
    out[o] = '\0';
    return out;
}

int mlpio_path_within(const char *outer, const char *inner)
{
    size_t n = strlen(outer);
    if (strcmp(outer, "/") == 0)
        return inner[0] == '/';
    return strncmp(outer, inner, n) == 0 && (inner[n] == '\0' || inner[n] == '/');
}

char *mlpio_path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

char *mlpio_path_absolute(const char *path)
{
    char cwd[PATH_MAX], joined[PATH_MAX * 2];
    if (path[0] == '/')
        snprintf(joined, sizeof(joined), "%s", path);
    else if (getcwd(cwd, sizeof(cwd)))
        snprintf(joined, sizeof(joined), "%s/%s", cwd, path);
    else
        return NULL;
    /* Fold "//", "/./" and "/../" textually so equal locations compare equal. */
    return mlpio_path_normalize(joined);
}
