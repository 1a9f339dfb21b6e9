/* Registry of the dataset formats, selected by name like the io backends. */
#include "io/format.h"

#include <string.h>

static const struct mlpio_format *const formats[] = {
    &mlpio_format_npz,
    &mlpio_format_tfrecord,
    &mlpio_format_hdf5,
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
