/* mlpio cluster collector: what hardware the job ran on.
 *
 * Every rank reads its host's /proc/meminfo, /proc/cpuinfo, /proc/loadavg, /etc/os-release,
 * uname and host name. Ranks are grouped by host (MPI_COMM_TYPE_SHARED), one leader per host
 * sends that host's record to rank 0, so rank 0 holds one record per host, never per rank.
 * Collection failures are errors, never a silent fall back to "local only".
 */
#ifndef MLPIO_CLUSTER_H
#define MLPIO_CLUSTER_H

#include <cjson/cJSON.h>
#include <mpi.h>
#include <stdint.h>

#include "io/error.h"

struct mlpio_host_info {
    char hostname[256];
    uint64_t mem_total_bytes;     /* MemTotal */
    uint64_t mem_available_bytes; /* MemAvailable (0 if the kernel lacks it) */
    int cpu_count;                /* logical processors in cpuinfo */
    char cpu_model[128];          /* first "model name" (or "unknown") */
    double loadavg[3];
    char os_name[128]; /* os-release PRETTY_NAME (or NAME) */
    char kernel[192];  /* uname: sysname release machine */
};

struct mlpio_cluster_host {
    struct mlpio_host_info info;
    int ranks;      /* ranks running on this host */
    int first_rank; /* lowest world rank on this host */
};

struct mlpio_cluster {
    int world_size;
    int num_hosts;
    uint64_t total_mem_bytes;         /* summed over unique hosts */
    struct mlpio_cluster_host *hosts; /* num_hosts entries, ordered by first_rank */
};

/* Parsers over file contents (tested with real samples in tests/fixtures/proc). Each fills
 * its fields of *h and returns 0, or -1 naming the file and what it lacked. */
int mlpio_cluster_parse_meminfo(const char *text, struct mlpio_host_info *h,
                                struct mlpio_error *err);
int mlpio_cluster_parse_cpuinfo(const char *text, struct mlpio_host_info *h,
                                struct mlpio_error *err);
int mlpio_cluster_parse_loadavg(const char *text, struct mlpio_host_info *h,
                                struct mlpio_error *err);
int mlpio_cluster_parse_os_release(const char *text, struct mlpio_host_info *h,
                                   struct mlpio_error *err);

/* Read this host's information. root is "/" normally, or a fixture tree holding
 * proc/meminfo, proc/cpuinfo, proc/loadavg, etc/os-release. */
int mlpio_cluster_read_local(const char *root, struct mlpio_host_info *h,
                             struct mlpio_error *err) MLPIO_WUR;

/* Collective over comm. On rank 0 *out is a new cluster (free with destroy); elsewhere NULL.
 * Every rank learns how many ranks share its host in *host_ranks (may be NULL; 1 on failure).
 * Returns the same rc on every rank (a failure on any rank fails all). */
int mlpio_cluster_collect(MPI_Comm comm, const char *root, struct mlpio_cluster **out,
                          int *host_ranks, struct mlpio_error *err) MLPIO_WUR;

/* JSON: {"num_hosts", "world_size", "total_memory_bytes", "total_memory_GB",
 *        "hosts": [{"hostname", "memory_bytes", "memory_available_bytes", "cpu_count",
 *                   "cpu_model", "loadavg": [..3], "os", "kernel", "ranks", "first_rank"}]} */
cJSON *mlpio_cluster_to_json(const struct mlpio_cluster *c);
/* Inverse of to_json (for results-tree tools); NULL with err on a malformed object. */
struct mlpio_cluster *mlpio_cluster_from_json(const cJSON *json, struct mlpio_error *err);

void mlpio_cluster_destroy(struct mlpio_cluster **c);

#endif
