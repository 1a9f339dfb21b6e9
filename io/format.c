/* Registry of the dataset formats, selected by name like the io backends. */
#include "io/format.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static const struct mlpio_format *const formats[] = {
    &mlpio_format_npz,
    &mlpio_format_tfrecord,
#ifdef MLPIO_HAVE_HDF5
    &mlpio_format_hdf5,
#endif
    NULL,
};

/* Formats mlpio has but this build left out, with what building them needs (as in io.c). */
static const struct {
    const char *name, *needs;
} unbuilt[] = {
#ifndef MLPIO_HAVE_HDF5
    {"hdf5", MLPIO_HDF5_NEEDS},
#endif
    {NULL, NULL},
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

const char *mlpio_format_unbuilt(const char *name)
{
    for (size_t i = 0; name && unbuilt[i].name; i++)
        if (strcmp(unbuilt[i].name, name) == 0)
            return unbuilt[i].needs;
    return NULL;
}
