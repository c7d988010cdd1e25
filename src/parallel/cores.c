/* How many cores this rank has to itself: whether a background worker of
 * the rank has a core of its own or takes the rank's. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "parallel.h"

#include <sched.h>
#include <unistd.h>

int pz_cores_per_rank(MPI_Comm comm)
{
    int here = 1; /* ranks on this node */
    MPI_Comm node;
    if (MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) ==
        MPI_SUCCESS) {
        MPI_Comm_size(node, &here);
        MPI_Comm_free(&node);
    }
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (online < 1)
        online = 1;
    long mine = online; /* the cores this process may run on (bound ranks: few) */
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        mine = CPU_COUNT(&set);
    long share = online / (here > 0 ? here : 1);
    if (mine < share)
        share = mine;
    return share > 0 ? (int)share : 1;
}
