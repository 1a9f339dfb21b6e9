/* mlpio text buffer, see text.h. */
#include "app/text.h"

#include <stdlib.h>
#include <string.h>

void mlpio_text_put(struct mlpio_text *t, const char *s, size_t n)
{
    if (t->failed)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *grown = realloc(t->buf, cap);
        if (!grown) {
            t->failed = true;
            return;
        }
        t->buf = grown;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

void mlpio_text_puts(struct mlpio_text *t, const char *s)
{
    mlpio_text_put(t, s, strlen(s));
}
