/* Registry of the dataset formats, selected by name like the io backends. */
#include "io/format.h"
#include "io/format_stream.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "io/io.h"

static const struct mlpio_format *const formats[] = {
    &mlpio_format_npz,
    &mlpio_format_tfrecord,
    &mlpio_format_jpeg,
    &mlpio_format_parquet,
#ifdef MLPIO_HAVE_HDF5
    &mlpio_format_hdf5,
#endif
    NULL,
};

const struct mlpio_format *const *mlpio_formats(void)
{
    return formats;
}

const struct mlpio_format *mlpio_format_find(const char *name)
{
    if (!name)
        return NULL;
    for (const struct mlpio_format *const *f = formats; *f; f++)
        if (strcmp((*f)->name, name) == 0)
            return *f;
    return NULL;
}

/* Every format's name fits; a longer registry would show cut in --help, not overflow. */
static char choices[256];

static void make_choices(void)
{
    for (const struct mlpio_format *const *f = formats; *f; f++) {
        size_t used = strlen(choices);
        snprintf(choices + used, sizeof(choices) - used, "%s%s", used ? "|" : "", (*f)->name);
    }
}

const char *mlpio_format_choices(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, make_choices);
    return choices;
}

/* The formats a build leaves out are those of the libraries it leaves out, which are the same
 * as for the backends (HDF5 brings both): one list, in io.c. */
const char *mlpio_format_unbuilt(const char *name)
{
    return mlpio_io_unbuilt(name);
}

int mlpio_format_write(const struct mlpio_format *fmt, struct mlpio_io_file *f,
                       const struct mlpio_format_shape *shape, mlpio_io_fill_fn content,
                       void *content_arg, void *buf, size_t buflen, struct mlpio_error *err)
{
    if (fmt->write)
        return fmt->write(f, shape, content, content_arg, buf, buflen, err);
    struct mlpio_format_sink sink;
    mlpio_fmt_file_sink(f, &sink);
    return fmt->compose(f->path, shape, content, content_arg, buf, buflen, &sink, err);
}
