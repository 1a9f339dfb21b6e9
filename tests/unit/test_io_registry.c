/* Tests of what the backend and format registries say of themselves: the choices that --help,
 * the parameter checks and the errors list are exactly the registered backends and formats
 * (hdf5 only in a build with it, and then refused as left out of the build), and the backends'
 * option checks (mpiio refuses O_DIRECT) as the command line applies them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cli.h"
#include "app/params.h"
#include "io/format.h"
#include "io/io.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The registry's names joined by "|", built here by walking it. */
static void joined_backends(char *buf, size_t len)
{
    buf[0] = '\0';
    for (const struct mlpio_io_backend *const *b = mlpio_io_backends(); *b; b++) {
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%s%s", used ? "|" : "", (*b)->name);
    }
}

static void joined_formats(char *buf, size_t len)
{
    buf[0] = '\0';
    for (const struct mlpio_format *const *f = mlpio_formats(); *f; f++) {
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%s%s", used ? "|" : "", (*f)->name);
    }
}

/* word is one of the "|"-separated words of list. */
static bool has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, "|");
        if (len == n && strncmp(p, word, n) == 0)
            return true;
        p += len + (p[len] == '|');
    }
    return false;
}

static void assert_contains(const char *text, const char *what)
{
    if (!strstr(text, what))
        fail_msg("'%s' lacks '%s'", text, what);
}

static int parse(const char *const *args, struct mlpio_cli *cli, struct mlpio_error *err)
{
    int argc = 0;
    while (args[argc])
        argc++;
    return mlpio_cli_parse(argc, (char **)args, cli, err);
}

static void test_backend_choices(void **state)
{
    char want[256];
    joined_backends(want, sizeof(want));
    assert_string_equal(mlpio_io_choices(), want);
    assert_ptr_equal(mlpio_io_choices(), mlpio_io_choices()); /* built once */
    static const char *const always[] = {"posix", "mpiio", "null"};
    for (size_t i = 0; i < N(always); i++) {
        assert_true(has_word(mlpio_io_choices(), always[i]));
        assert_null(mlpio_io_unbuilt(always[i]));
    }
#ifdef MLPIO_HAVE_HDF5
    assert_true(has_word(mlpio_io_choices(), "hdf5"));
    assert_null(mlpio_io_unbuilt("hdf5"));
#else
    assert_false(has_word(mlpio_io_choices(), "hdf5"));
    assert_null(mlpio_io_find("hdf5"));
    assert_string_equal(mlpio_io_unbuilt("hdf5"), MLPIO_HDF5_NEEDS);
#endif
    assert_null(mlpio_io_unbuilt("bogus"));
    assert_null(mlpio_io_unbuilt(NULL));
}

/* The names of the backends with some capabilities: exactly those, in registry order, the last
 * two joined by " or ". */
static void test_backend_names(void **state)
{
    static const unsigned caps[] = {
        0,
        MLPIO_IO_CAP_ODIRECT | MLPIO_IO_CAP_STORAGE,
        MLPIO_IO_CAP_COLLECTIVE | MLPIO_IO_CAP_STORAGE,
        MLPIO_IO_CAP_THREADS,
        MLPIO_IO_CAP_STORAGE,
    };
    for (size_t i = 0; i < N(caps); i++) {
        const char *with[16];
        size_t n = 0;
        for (const struct mlpio_io_backend *const *b = mlpio_io_backends(); *b; b++)
            if (((*b)->caps & caps[i]) == caps[i] && n < N(with))
                with[n++] = (*b)->name;
        char want[256] = "";
        for (size_t k = 0; k < n; k++) {
            size_t used = strlen(want);
            snprintf(want + used, sizeof(want) - used, "%s%s",
                     k == 0       ? ""
                     : k + 1 == n ? " or "
                                  : ", ",
                     with[k]);
        }
        char got[256];
        assert_ptr_equal(mlpio_io_names(caps[i], ", ", " or ", got, sizeof(got)), got);
        assert_string_equal(got, want);
    }
    char got[256];
    mlpio_io_names(MLPIO_IO_CAP_ODIRECT | MLPIO_IO_CAP_STORAGE, ", ", " or ", got, sizeof(got));
    assert_contains(got, "posix");
    mlpio_io_names(MLPIO_IO_CAP_STORAGE, ", ", " or ", got, sizeof(got));
    assert_null(strstr(got, "null"));
    char small[8];
    mlpio_io_names(0, ", ", " or ", small, sizeof(small));
    assert_int_equal(strlen(small), sizeof(small) - 1); /* cut, never overflowed */
}

static void test_format_choices(void **state)
{
    char want[256];
    joined_formats(want, sizeof(want));
    assert_string_equal(mlpio_format_choices(), want);
    assert_true(has_word(want, "npz"));
    assert_true(has_word(want, "tfrecord"));
#ifdef MLPIO_HAVE_HDF5
    assert_true(has_word(want, "hdf5"));
    assert_null(mlpio_format_unbuilt("hdf5"));
#else
    assert_false(has_word(want, "hdf5"));
    assert_null(mlpio_format_find("hdf5"));
    assert_string_equal(mlpio_format_unbuilt("hdf5"), MLPIO_HDF5_NEEDS);
#endif
    assert_null(mlpio_format_unbuilt("npz"));
    assert_null(mlpio_format_unbuilt("parquet"));
}

/* training's dataset.format takes its choices from the format registry: its description, the
 * values it accepts and the help all list exactly the formats built in. */
static void test_dataset_format_param(void **state)
{
    const struct mlpio_workload *w = mlpio_workload_find("training");
    assert_non_null(w);
    const struct mlpio_param_spec *spec =
        mlpio_params_find(w->params, w->nparams, "dataset.format");
    assert_non_null(spec);
    /* From the registry itself, not a literal that happens to match it in this build. */
    assert_null(spec->choices);
    assert_ptr_equal(spec->choices_of, mlpio_format_choices);
    assert_ptr_equal(spec->unbuilt, mlpio_format_unbuilt);
    char want[256], said[320], line[320];
    joined_formats(want, sizeof(want));
    assert_string_equal(mlpio_params_choices(spec), want);
    mlpio_params_describe(spec, said, sizeof(said));
    snprintf(line, sizeof(line), "one of %s", want);
    assert_string_equal(said, line);
    for (const struct mlpio_format *const *f = mlpio_formats(); *f; f++) {
        struct mlpio_error err = {0};
        cJSON *v = mlpio_params_from_text(spec, (*f)->name, &err);
        if (!v)
            fail_msg("dataset.format=%s refused: %s", (*f)->name, err.message);
        cJSON_Delete(v);
    }
    struct mlpio_error err = {0};
    assert_null(mlpio_params_from_text(spec, "arrow", &err));
    assert_int_equal(mlpio_exit_code(err.category), MLPIO_EXIT_USAGE);
    assert_contains(err.message, line);
    err = (struct mlpio_error){0};
    cJSON *h5 = mlpio_params_from_text(spec, "hdf5", &err);
#ifdef MLPIO_HAVE_HDF5
    assert_non_null(h5);
    cJSON_Delete(h5);
#else
    assert_null(h5);
    assert_int_equal(mlpio_exit_code(err.category), MLPIO_EXIT_USAGE);
    assert_contains(err.message, "dataset.format: 'hdf5' is known but was not built into this "
                                 "mlpio");
    assert_contains(err.hint, "-DMLPIO_HDF5=ON and libhdf5-openmpi-dev");
    assert_contains(err.hint, want);
#endif
    /* Other enums keep their literal choices. */
    const struct mlpio_param_spec *fw = mlpio_params_find(w->params, w->nparams, "framework");
    assert_non_null(fw);
    assert_string_equal(mlpio_params_choices(fw), "pytorch|tensorflow");

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    mlpio_cli_help_command(f, w, mlpio_workload_command(w, "run"));
    fclose(f);
    assert_contains(text, line);
    free(text);
}

/* The --io-api line of the help lists exactly the registered backends. */
static void test_help_lists_backends(void **state)
{
    const struct mlpio_workload *w = mlpio_workload_find("checkpointing");
    assert_non_null(w);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    mlpio_cli_help_command(f, w, mlpio_workload_command(w, "run"));
    fclose(f);
    const char *io = strstr(text, "\n  --io-api API");
    assert_non_null(io);
    const char *accepts = strstr(io + 1, "\n");
    assert_non_null(accepts);
    char want[256], line[320];
    joined_backends(want, sizeof(want));
    snprintf(line, sizeof(line), "one of %s; default posix\n", want);
    const char *got = strstr(accepts, "one of ");
    assert_non_null(got);
    assert_true(strncmp(got, line, strlen(line)) == 0);
    /* --odirect names the backends that have O_DIRECT and store data. */
    char can[128], odirect[192];
    mlpio_io_names(MLPIO_IO_CAP_ODIRECT | MLPIO_IO_CAP_STORAGE, ", ", " or ", can, sizeof(can));
    snprintf(odirect, sizeof(odirect), "bypass the page cache (O_DIRECT; --io-api %s)\n", can);
    assert_contains(text, odirect);
    free(text);
}

/* An unknown --io-api names every backend built in; a known one left out of the build says how
 * to build it. Both are usage errors. */
static void test_cli_unknown_backend(void **state)
{
    struct mlpio_cli cli;
    struct mlpio_error err = {0};
    const char *bogus[] = {"mlpio", "checkpointing", "run", "--io-api", "bogus", NULL};
    assert_int_equal(parse(bogus, &cli, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_USAGE);
    assert_contains(err.message, "--io-api: unknown backend 'bogus'");
    size_t n = 0;
    for (const struct mlpio_io_backend *const *b = mlpio_io_backends(); *b; b++, n++)
        assert_contains(err.hint, (*b)->name);
    assert_true(n >= 3);
    mlpio_cli_free(&cli);

    err = (struct mlpio_error){0};
    const char *h5[] = {"mlpio", "checkpointing", "run", "--io-api", "hdf5", NULL};
#ifdef MLPIO_HAVE_HDF5
    assert_int_equal(parse(h5, &cli, &err), 0);
    assert_string_equal(cli.io_api, "hdf5");
#else
    assert_int_equal(parse(h5, &cli, &err), -1);
    assert_int_equal(mlpio_exit_code(err.category), MLPIO_EXIT_USAGE);
    assert_contains(err.message, "--io-api: the hdf5 backend is known but was not built into this "
                                 "mlpio");
    assert_contains(err.hint, "rebuild mlpio with -DMLPIO_HDF5=ON and libhdf5-openmpi-dev");
    assert_contains(err.hint, "posix");
#endif
    mlpio_cli_free(&cli);
}

/* mpiio refuses O_DIRECT with a check of its own, which says why; every backend's check agrees
 * with its capabilities. */
static void test_mpiio_refuses_odirect(void **state)
{
    const struct mlpio_io_options odirect = {.odirect = true};
    struct mlpio_error err = {0};
    assert_non_null(mlpio_io_mpiio.check);
    assert_int_equal(mlpio_io_mpiio.check(&odirect, &err), -1);
    assert_contains(err.message, "MPI-IO");
    err = (struct mlpio_error){0};
    assert_int_equal(mlpio_io_check(&mlpio_io_mpiio, &odirect, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_UNSUPPORTED);
    assert_contains(err.message, "mpiio");
    assert_contains(err.message, "odirect");
    assert_contains(err.hint, "--io-api posix");
    assert_int_equal(mlpio_io_check(&mlpio_io_mpiio, NULL, &err), 0);
    assert_int_equal(mlpio_io_check(&mlpio_io_posix, &odirect, &err), 0);
    for (const struct mlpio_io_backend *const *b = mlpio_io_backends(); *b; b++) {
        err = (struct mlpio_error){0};
        int want = (*b)->caps & MLPIO_IO_CAP_ODIRECT ? 0 : -1;
        if ((*b)->check && want == 0)
            want = (*b)->check(&odirect, &err);
        err = (struct mlpio_error){0};
        if (mlpio_io_check(*b, &odirect, &err) != want)
            fail_msg("%s: odirect check disagrees with its caps and check", (*b)->name);
        if (want < 0)
            assert_contains(err.message, (*b)->name);
        const struct mlpio_io_options shared = {.collective = true, .comm = MPI_COMM_SELF};
        want = (*b)->caps & MLPIO_IO_CAP_COLLECTIVE ? 0 : -1;
        err = (struct mlpio_error){0};
        if (mlpio_io_check(*b, &shared, &err) != want)
            fail_msg("%s: collective check disagrees with its caps", (*b)->name);
        assert_int_equal(mlpio_io_check(*b, NULL, &err), 0);
    }
}

/* The command line refuses --odirect with mpiio through the backend's check, before anything is
 * created, as a usage error in its own words. */
static void test_cli_odirect_mpiio(void **state)
{
    struct mlpio_cli cli;
    struct mlpio_error err = {0};
    const char *args[] = {"mlpio", "checkpointing", "run", "--odirect", "--io-api", "mpiio", NULL};
    assert_int_equal(parse(args, &cli, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_USAGE);
    assert_contains(err.message, "--odirect is not available with --io-api mpiio: ");
    assert_contains(err.message, "MPI-IO");
    assert_contains(err.hint, "--io-api posix");
    mlpio_cli_free(&cli);
    const char *posix[] = {"mlpio", "checkpointing", "run", "--odirect", NULL};
    assert_int_equal(parse(posix, &cli, &err), 0);
    mlpio_cli_free(&cli);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backend_choices),       cmocka_unit_test(test_backend_names),
        cmocka_unit_test(test_format_choices),        cmocka_unit_test(test_dataset_format_param),
        cmocka_unit_test(test_help_lists_backends),   cmocka_unit_test(test_cli_unknown_backend),
        cmocka_unit_test(test_mpiio_refuses_odirect), cmocka_unit_test(test_cli_odirect_mpiio),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
