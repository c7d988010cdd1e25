/*
 * pzarr-bench: pzarr against a raw MPI-IO baseline (and the codec alone) in
 * the same run.
 *
 *   mpiexec -n N pzarr-bench PATTERN [options]     (pzarr-bench --help)
 *
 * Rank 0 prints a table (or JSON with --json); a progress line goes to
 * stderr when it is a terminal. Exit status: 0, 1 if a read-back check
 * failed, 2 on a usage error.
 */
#define _POSIX_C_SOURCE 200809L
#include "pzb.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct pattern {
    const char *name;
    int (*run)(bench_ctx *c);
} pattern;

static const pattern patterns[] = {
    {"checkpoint", pzb_checkpoint},   {"restart", pzb_restart}, {"postproc", pzb_postproc},
    {"smallchunks", pzb_smallchunks}, {"open", pzb_open_pattern}, {"codec", pzb_codec},
    {"scale", pzb_scale},             {"copy", pzb_copy},
    {"overlap", pzb_overlap},
};

static const pattern *find_pattern(const char *name)
{
    for (size_t i = 0; i < sizeof patterns / sizeof *patterns; i++)
        if (!strcmp(patterns[i].name, name))
            return &patterns[i];
    return NULL;
}

static int check_args(bench_ctx *c, int argc, char **argv, const pattern **p)
{
    int rc = bench_parse(c, argc, argv);
    if (rc)
        return rc;
    *p = find_pattern(c->o.pattern);
    if (!*p) {
        if (c->rank == 0)
            fprintf(stderr, "%s: unknown pattern \"%s\"\n", c->prog, c->o.pattern);
        bench_usage(c);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    /* FUNNELED: pzarr's background workers (overlap) make no MPI calls */
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    static bench_ctx c;
    c.comm = MPI_COMM_WORLD;
    c.prog = "pzarr-bench";
    MPI_Comm_rank(c.comm, &c.rank);
    MPI_Comm_size(c.comm, &c.size);
    const pattern *p = NULL;
    int rc = check_args(&c, argc, argv, &p);
    if (rc == 0) {
        c.progress = c.rank == 0 && isatty(STDERR_FILENO);
        rc = bench_dir_setup(&c);
    }
    if (rc == 0) {
        rc = p->run(&c);
        bench_dir_cleanup(&c);
        bench_report(&c);
    }
    MPI_Finalize();
    return rc;
}
