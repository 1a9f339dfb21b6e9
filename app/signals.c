/* mlpio interruption: SIGINT/SIGTERM set a flag that workloads poll between transfers, so a
 * run stops at a collective point and still writes its metadata and "finish" event; they also
 * wake the interruption guard (guard.h), which finishes the record if the ranks cannot.
 * The flag, the signal's number and the semaphore are mlpio's only mutable globals: a signal
 * handler has nowhere else to write, and sem_post is what it may call. */
#include "app/signals.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

static volatile sig_atomic_t interrupted;
static volatile sig_atomic_t received;
static sem_t wakeup;
static pthread_once_t wakeup_once = PTHREAD_ONCE_INIT;

static void wakeup_init(void)
{
    sem_init(&wakeup, 0, 0);
}

static void on_signal(int sig)
{
    int saved = errno;
    interrupted = 1;
    received = sig;
    sem_post(&wakeup);
    errno = saved;
}

bool mlpio_signals_interrupted(void)
{
    return interrupted != 0;
}

int mlpio_signals_received(void)
{
    return received;
}

void mlpio_signals_wait(void)
{
    pthread_once(&wakeup_once, wakeup_init);
    while (sem_wait(&wakeup) != 0 && errno == EINTR)
        ;
}

void mlpio_signals_wake(void)
{
    pthread_once(&wakeup_once, wakeup_init);
    sem_post(&wakeup);
}

void mlpio_signals_install(void)
{
    pthread_once(&wakeup_once, wakeup_init);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}
