#define _POSIX_C_SOURCE 200809L
/* Stores: open (rank 0 looks at the root, everyone learns), close, the
 * store's message and its I/O counters. */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *pzarr_errmsg(const pzarr_store *s)
{
    return s ? s->err.msg : "no store handle";
}

int pzarr_store_format(const pzarr_store *s)
{
    if (!s || !pz_live_has(s))
        return PZARR_EINVAL;
    return s->root_format ? s->root_format : 3;
}

int pzarr_set_error(pzarr_store *s, int code, const char *msg)
{
    if (!s || !pz_live_has(s) || code >= 0)
        return PZARR_EINVAL;
    return pz_err_set(&s->err, code, "%s", msg ? msg : pzarr_strerror(code));
}

MPI_Comm pzarr_comm(const pzarr_store *s) { return s->comm; }

static int make_info(MPI_Info user, MPI_Info *out)
{
    if (user == MPI_INFO_NULL)
        MPI_Info_create(out);
    else
        MPI_Info_dup(user, out);
    /* Chunk writes are contiguous; data sieving would read-modify-write
     * under an fcntl lock. pzarr takes no file locks. */
    MPI_Info_set(*out, "romio_ds_write", "disable");
    return 0;
}

/* Tells this job's flushes from any other's: their staged files carry it. */
static uint64_t job_id(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    x ^= (uint64_t)getpid() << 40;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    return x ^ (x >> 33);
}

/* PZARR_TEST_KILL_AT=where[:rank]: see pz_test_crash_point. */
static void test_hooks(pzarr_store *s)
{
    const char *k = getenv("PZARR_TEST_KILL_AT");
    s->crash_rank = -1;
    if (!k || !*k)
        return;
    snprintf(s->crash_at, sizeof s->crash_at, "%s", k);
    char *colon = strchr(s->crash_at, ':');
    if (colon) {
        *colon = '\0';
        s->crash_rank = atoi(colon + 1);
    }
}

/* The hints "pzarr_io_threads" (background workers of pzarr_array_iflush,
 * 1 to 64; default 1), "pzarr_throttle" (bytes per second per rank
 * they may write; 0, the default: no limit) and "pzarr_async_stage" (auto,
 * background, inline; also the environment variable PZARR_ASYNC_STAGE), and
 * the thread level MPI gives (a worker needs MPI_THREAD_FUNNELED: it makes
 * no MPI calls). */
static void async_settings(pzarr_store *s, MPI_Info info, pz_err *e)
{
    s->io_threads = 1;
    s->throttle = 0;
    s->spare_core = -1;
    MPI_Query_thread(&s->thread_level);
    char v[64];
    int flag = 0;
    const char *st = getenv("PZARR_ASYNC_STAGE");
    if (info != MPI_INFO_NULL &&
        MPI_Info_get(info, "pzarr_async_stage", sizeof v - 1, v, &flag) == MPI_SUCCESS && flag)
        st = v;
    if (st && *st) {
        static const char *const names[] = {"auto", "background", "inline"};
        int k = 0;
        while (k < 3 && strcmp(st, names[k]) != 0)
            k++;
        if (k == 3)
            pz_err_set(e, PZARR_EINVAL,
                       "pzarr_async_stage=\"%.32s\": must be auto, background or inline", st);
        else
            s->async_stage = k;
    }
    flag = 0;
    if (info != MPI_INFO_NULL &&
        MPI_Info_get(info, "pzarr_io_threads", sizeof v - 1, v, &flag) == MPI_SUCCESS && flag) {
        char *end;
        long n = strtol(v, &end, 10);
        if (*end || n < 1 || n > PZ_MAX_IO_THREADS)
            pz_err_set(e, PZARR_EINVAL, "hint pzarr_io_threads=\"%.32s\": must be 1 to 64", v);
        else
            s->io_threads = (int)n;
    }
    flag = 0;
    if (info != MPI_INFO_NULL &&
        MPI_Info_get(info, "pzarr_throttle", sizeof v - 1, v, &flag) == MPI_SUCCESS && flag) {
        char *end;
        double b = strtod(v, &end);
        if (*end || !(b >= 0) || b > 1e15)
            pz_err_set(e, PZARR_EINVAL,
                       "hint pzarr_throttle=\"%.32s\": bytes per second, 0 for no limit", v);
        else
            s->throttle = (uint64_t)b;
    }
}

/* Rank 0 part of pzarr_open. */
static int open_root(pzarr_store *s, pz_err *e)
{
    bool create = (s->flags & PZARR_CREATE) != 0;
    int fmt = (s->flags & PZARR_FORMAT_V2) ? 2 : 3;
    if (!pz_io_exists(s->root)) {
        s->stats.meta_reads++;
        if (!(s->flags & (PZARR_CREATE | PZARR_RDWR)))
            return pz_err_set(e, PZARR_ENOENT, "store %s does not exist", s->root);
        if (!create)
            return 0;
        PZ_TRY(pz_io_mkdirs(s->root, e));
    } else if (!pz_io_is_dir(s->root)) {
        return pz_err_set(e, PZARR_EIO, "store %s is not a directory", s->root);
    }
    pz_node_docs nd = {0};
    int rc = pz_node_probe(s, s->root, &nd);
    if (rc)
        *e = s->err;
    s->root_format = nd.format;
    if (rc == 0 && nd.kind != PZARR_NODE_NONE && create && (s->flags & PZARR_EXCL))
        rc = pz_err_set(e, PZARR_EEXIST, "store %s already exists (remove it first, or open "
                                         "it to write into it)",
                        s->root);
    /* A root group with consolidated metadata: that one document serves
     * every later open of a node, and is kept current. */
    if (rc == 0 && nd.kind == PZARR_NODE_GROUP) {
        if (nd.format == 3 || !s->cons_loaded)
            rc = pz_cons_load(s, nd.format, &nd.doc, e);
        s->consolidate = s->cons != NULL;
    }
    if (rc == 0 && nd.kind == PZARR_NODE_NONE && create) {
        /* A store made here gets consolidated metadata unless asked not to. */
        s->consolidate = !(s->flags & PZARR_NO_CONSOLIDATE);
        rc = pz_node_write_group(s, s->root, fmt, NULL, e);
        s->root_format = fmt;
    }
    pz_node_docs_free(&nd);
    return rc;
}

int pzarr_open_info(MPI_Comm comm, const char *path, int flags, MPI_Info info,
                    pzarr_store **out)
{
    if (!out)
        return PZARR_EINVAL;
    *out = NULL;
    pzarr_store *s = pz_calloc(1, sizeof *s);
    if (!s)
        return PZARR_ENOMEM;
    *out = s;
    s->comm = MPI_COMM_NULL;
    s->info = MPI_INFO_NULL;
    if (MPI_Comm_dup(comm, &s->comm) != MPI_SUCCESS)
        return pz_err_set(&s->err, PZARR_EMPI, "MPI_Comm_dup failed");
    MPI_Comm_set_errhandler(s->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(s->comm, &s->rank);
    MPI_Comm_size(s->comm, &s->size);
    if (flags & PZARR_CREATE)
        flags |= PZARR_RDWR;
    s->flags = flags;
    make_info(info, &s->info);
    pz_err e;
    pz_err_clear(&e);
    if (pz_live_add(s) != 0)
        pz_err_set(&e, PZARR_ENOMEM, "out of memory");
    const char *cio = getenv("PZARR_CHUNK_IO");
    if (cio && *cio && strcmp(cio, "mpiio") != 0 && strcmp(cio, "posix") != 0)
        pz_err_set(&e, PZARR_EINVAL,
                   "environment variable PZARR_CHUNK_IO=\"%.64s\": must be \"mpiio\" or "
                   "\"posix\"",
                   cio);
    /* pzarr's own settings ride in the hints too; hints with only those
     * are not MPI-IO hints */
    int nkeys = 0, own = 0;
    if (info != MPI_INFO_NULL)
        MPI_Info_get_nkeys(info, &nkeys);
    for (int k = 0; k < nkeys; k++) {
        char key[MPI_MAX_INFO_KEY + 1];
        if (MPI_Info_get_nthkey(info, k, key) == MPI_SUCCESS && strncmp(key, "pzarr_", 6) == 0)
            own++;
    }
    async_settings(s, info, &e);
    bool mpiio = (info != MPI_INFO_NULL && nkeys > own) || (cio && strcmp(cio, "mpiio") == 0);
    if (cio && strcmp(cio, "posix") == 0)
        mpiio = false;
    s->chunk_info = mpiio ? s->info : MPI_INFO_NULL;
    /* durable and async: the background syncs what the writes staged */
    s->defer_sync = (flags & PZARR_DURABLE) && (flags & PZARR_ASYNC) && !mpiio;
    test_hooks(s);
    if (e.code == 0 && (!path || !path[0]))
        pz_err_set(&e, PZARR_EINVAL, "store path is empty");
    else if (e.code == 0 && !(s->root = pz_strdup(path)))
        pz_err_set(&e, PZARR_ENOMEM, "out of memory");
    else if (e.code == 0) {
        size_t n = strlen(s->root);
        while (n > 1 && s->root[n - 1] == '/')
            s->root[--n] = '\0';
    }
    uint64_t shared[2] = {0, 0}; /* root format, job id */
    if (e.code == 0 && s->rank == 0) {
        open_root(s, &e);
        shared[0] = (uint64_t)s->root_format;
        shared[1] = job_id();
    }
    /* Rank 0's outcome, root format and job id reach everyone. */
    if (pz_store_end(s, PZ_ROOT_IO, &e) == 0) {
        MPI_Bcast(shared, 2, MPI_UINT64_T, 0, s->comm);
        s->root_format = (int)shared[0];
        s->jobid = shared[1];
    }
    s->open_failed = e.code != 0;
    if (e.code == 0 && (flags & PZARR_ASYNC) && s->async_stage == PZ_STAGE_AUTO)
        pz_store_spare_core(s);
    return e.code;
}

int pzarr_open(MPI_Comm comm, const char *path, int flags, pzarr_store **out)
{
    return pzarr_open_info(comm, path, flags, MPI_INFO_NULL, out);
}

int pzarr_close(pzarr_store *s)
{
    if (!s)
        return 0;
    if (!pz_live_has(s))
        return PZARR_EINVAL;
    pz_err e;
    pz_err_clear(&e);
    /* Arrays still open are closed (flushed) first, in the order they were
     * opened, the same on every rank; the first failure is kept. */
    while (s->narrays > 0) {
        pzarr_array *a = s->arrays[0];
        if (pzarr_array_close(a) != 0 && e.code == 0)
            e = s->err;
    }
    int rc = e.code;
    if (s->comm != MPI_COMM_NULL) {
        rc = pz_store_end(s, PZ_ANY_RANK, &e);
        MPI_Comm_free(&s->comm);
    }
    if (s->info != MPI_INFO_NULL)
        MPI_Info_free(&s->info);
    pz_live_remove(s);
    pz_free(s->arrays);
    pz_free(s->root);
    cJSON_Delete(s->cons);
    pz_free(s);
    return rc;
}

int pzarr_get_stats(const pzarr_store *s, pzarr_stats *out)
{
    if (!pz_live_has(s))
        return PZARR_EINVAL;
    if (!s || !out)
        return PZARR_EINVAL;
    *out = s->stats;
    return 0;
}

void pzarr_reset_stats(pzarr_store *s)
{
    if (pz_live_has(s))
        memset(&s->stats, 0, sizeof s->stats);
}
