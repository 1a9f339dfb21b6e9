/* mlpio interruption: SIGINT/SIGTERM set a flag that workloads poll between transfers, so a
 * run stops at a collective point and still writes its metadata and "finish" event.
 * The flag is the one mutable global in mlpio: a signal handler has nowhere else to write. */
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "app/run.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

bool mlpio_interrupted(void)
{
    return interrupted != 0;
}

void mlpio_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}
