/* mlpio clocks across nodes, see clock.h. */
#include "app/clock.h"

#include <stdlib.h>
#include <time.h>

#define ROUND_TRIPS 8
#define TAG_CLOCK 4317

static double skew(void)
{
    static int read;
    static double s;
    if (!read) {
        const char *v = getenv("MLPIO_TEST_CLOCK_SKEW_S");
        s = v ? strtod(v, NULL) : 0;
        read = 1;
    }
    return s;
}

double mlpio_wtime(void)
{
    return MPI_Wtime() + skew();
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9 + skew();
}

/* The rank with the lowest number on each host other than rank 0's: the hosts' first ranks. */
int mlpio_clock_offsets(MPI_Comm comm, const struct mlpio_cluster *cluster, cJSON **out,
                        struct mlpio_error *err)
{
    int rank, n = 0;
    MPI_Comm_rank(comm, &rank);
    *out = NULL;
    /* The record of the hosts is rank 0's: the others learn whom rank 0 will call. */
    if (rank == 0)
        n = cluster->num_hosts;
    MPI_Bcast(&n, 1, MPI_INT, 0, comm);
    int *first = calloc((size_t)(n > 0 ? n : 1), sizeof(*first));
    if (!first)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
    for (int h = 0; rank == 0 && h < n; h++)
        first[h] = cluster->hosts[h].first_rank;
    MPI_Bcast(first, n, MPI_INT, 0, comm);
    cJSON *hosts = rank == 0 ? cJSON_CreateArray() : NULL;
    for (int h = 0; h < n; h++) {
        int peer = first[h];
        double best_rtt = -1, offset = 0;
        if (peer == 0) {
            best_rtt = 0;
        } else if (rank == 0) {
            for (int i = 0; i < ROUND_TRIPS; i++) {
                double t0 = wall(), theirs = 0;
                if (MPI_Send(&t0, 1, MPI_DOUBLE, peer, TAG_CLOCK, comm) != MPI_SUCCESS ||
                    MPI_Recv(&theirs, 1, MPI_DOUBLE, peer, TAG_CLOCK, comm, MPI_STATUS_IGNORE) !=
                        MPI_SUCCESS) {
                    cJSON_Delete(hosts);
                    free(first);
                    return mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                                           "clock ping-pong with rank %d "
                                           "failed",
                                           peer);
                }
                double t1 = wall(), rtt = t1 - t0;
                if (best_rtt < 0 || rtt < best_rtt) {
                    best_rtt = rtt;
                    offset = theirs - (t0 + t1) / 2;
                }
            }
        } else if (rank == peer) {
            for (int i = 0; i < ROUND_TRIPS; i++) {
                double t0 = 0, now;
                if (MPI_Recv(&t0, 1, MPI_DOUBLE, 0, TAG_CLOCK, comm, MPI_STATUS_IGNORE) !=
                    MPI_SUCCESS)
                    break;
                now = wall();
                if (MPI_Send(&now, 1, MPI_DOUBLE, 0, TAG_CLOCK, comm) != MPI_SUCCESS)
                    break;
            }
        }
        if (rank == 0) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "hostname", cluster->hosts[h].info.hostname);
            cJSON_AddNumberToObject(o, "rank", peer);
            cJSON_AddNumberToObject(o, "offset_seconds", offset);
            cJSON_AddNumberToObject(o, "round_trip_seconds", best_rtt);
            cJSON_AddItemToArray(hosts, o);
        }
    }
    free(first);
    if (rank == 0) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "method",
                                "ping-pong of rank 0 with each host's first rank: the offset "
                                "at the shortest of 8 round trips (the host's wall clock minus "
                                "rank 0's)");
        cJSON_AddItemToObject(c, "hosts", hosts);
        *out = c;
    }
    return 0;
}
