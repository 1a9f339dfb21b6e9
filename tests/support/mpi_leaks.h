/* Leak checking for tests that use MPI, under AddressSanitizer.
 *
 * Open MPI and PMIx lose small allocations per communicator and keep others past
 * MPI_Finalize, after unloading the components that made them (their frames then show as
 * "unknown module" and cannot be suppressed). So a test calls LEAK_CHECK_BEFORE_FINALIZE()
 * just before MPI_Finalize, while those libraries can still be named and suppressed; full
 * unwinding reaches their frames from inside libc helpers. Include once per test program.
 */
#ifndef MLPIO_TEST_MPI_LEAKS_H
#define MLPIO_TEST_MPI_LEAKS_H

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
const char *__asan_default_options(void);
const char *__lsan_default_options(void);
const char *__lsan_default_suppressions(void);
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}
const char *__lsan_default_options(void)
{
    return "print_suppressions=0";
}
const char *__lsan_default_suppressions(void)
{
    return "leak:libmpi.so\nleak:libopen-pal.so\nleak:libopen-rte.so\nleak:libpmix.so\n"
           "leak:libhwloc.so\nleak:/openmpi/lib/openmpi3/mca_\n";
}
#define LEAK_CHECK_BEFORE_FINALIZE() __lsan_do_leak_check()
#else
#define LEAK_CHECK_BEFORE_FINALIZE() ((void)0)
#endif

#endif
