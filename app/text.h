/* mlpio text buffer: a growing NUL-terminated string for writers of text formats (results.csv,
 * YAML). A failed allocation marks the buffer failed and makes every later put a no-op, so a
 * writer checks once, at the end. */
#ifndef MLPIO_TEXT_H
#define MLPIO_TEXT_H

#include <stdbool.h>
#include <stddef.h>

struct mlpio_text {
    char *buf; /* NULL until the first put; the caller frees it */
    size_t len, cap;
    bool failed;
};

void mlpio_text_put(struct mlpio_text *t, const char *s, size_t n);
void mlpio_text_puts(struct mlpio_text *t, const char *s);

#endif
