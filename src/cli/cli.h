/*
 * Internal declarations of the pzarr command-line tool. The tool uses only
 * the public API of libpzarr (pzarr.h); nothing here is installed.
 */
#ifndef PZARR_CLI_H
#define PZARR_CLI_H

#include "pzarr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define CLI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CLI_PRINTF(f, a)
#endif

#define CLI_MSG_MAX 1536

/* Exit statuses. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* State of one run: the world communicator and the message of the failure. */
typedef struct cli {
    MPI_Comm comm;
    int rank, size;
    const char *cmd;           /* the command being run, for usage lines */
    char msg[CLI_MSG_MAX];     /* why the command failed */
    uint64_t block_bytes;      /* largest piece moved at once per rank */
    /* An MPI launcher started the tool (mpiexec of MPICH or Open MPI,
     * srun; told before MPI_Init, which sets such variables in a singleton
     * too): standard output is then the launcher's, a pipe (Hydra) or a pty
     * (Open MPI's mpirun), and says nothing of a terminal at the far end. */
    bool launched;
} cli;

/* ------------------------------------------------------------ errors */

/* Records a failure message; returns CLI_FAIL. */
int cli_fail(cli *c, const char *fmt, ...) CLI_PRINTF(2, 3);
/* Records a usage error; returns CLI_USAGE. */
int cli_usage(cli *c, const char *fmt, ...) CLI_PRINTF(2, 3);
/* Records the failure of a library call: "what: detail" where detail is the
 * handle's message or, when empty, the code's description. */
int cli_lib_fail(cli *c, int code, const char *detail, const char *fmt, ...)
    CLI_PRINTF(4, 5);
/*
 * Collective: agrees on the outcome of a step that may have failed on some
 * ranks only. Returns the status of the lowest failing rank (CLI_OK when none
 * failed); every rank then holds that rank's message.
 */
int cli_agree(cli *c, int status);
/* Collective: rank 0's value of *v reaches every rank. */
void cli_bcast_int(cli *c, int *v);

/* ------------------------------------------------------------ options */

typedef struct cli_opt {
    const char *name; /* long name without "--" */
    char short_name;  /* 0 when none */
    bool has_arg;
    const char *value; /* out: the (last) value given, or NULL */
    bool seen;         /* out */
} cli_opt;

/*
 * Parses the arguments that follow the command: options from `opts` (as
 * "--name value", "--name=value" or "-x value") and exactly one positional
 * PATH. Returns CLI_USAGE with a message on any problem.
 */
int cli_parse_args(cli *c, int argc, char **argv, cli_opt *opts, int nopts,
                   const char **path);
/* The option called `name` (which must exist in opts). */
cli_opt *cli_opt_get(cli_opt *opts, int nopts, const char *name);

/* ------------------------------------------------------------ numbers */

/* Strict decimal parsing; false on junk or overflow. */
bool cli_parse_u64(const char *s, uint64_t *out);
bool cli_parse_i64(const char *s, int64_t *out);
/* A comma-separated list of up to PZARR_MAX_NDIM non-negative integers;
 * "" is the empty list. */
bool cli_parse_u64_list(const char *s, uint64_t *v, int *n);
/* Writes "100x200" (or "scalar" for ndim 0) into out. */
void cli_format_dims(int ndim, const uint64_t *v, const char *sep, char *out,
                     size_t cap);
/* "12.3 MiB" */
void cli_format_bytes(uint64_t n, char *out, size_t cap);
/* Product of v[0..n) times f, false on overflow. */
bool cli_prod(int n, const uint64_t *v, uint64_t f, uint64_t *out);

/* ------------------------------------------------------------ regions */

/*
 * Parses a region ("0:10,5:20", "3", ":", "", "2:", ":7", negative indices
 * count from the end) against a shape. NULL selects everything. Returns
 * CLI_USAGE naming the faulty dimension.
 */
int cli_parse_region(cli *c, const char *s, int ndim, const uint64_t *shape,
                     uint64_t *start, uint64_t *count);

/* The rows of a region along axis 0 that one rank handles. */
typedef struct cli_slab {
    int ndim;
    size_t itemsize;
    uint64_t start[PZARR_MAX_NDIM], count[PZARR_MAX_NDIM];
    uint64_t offset; /* byte offset of the slab inside the region's bytes */
    uint64_t bytes;
} cli_slab;

/* Slab of `rank` among `size` ranks. A 0-d region belongs to rank 0. */
void cli_slab_of(int rank, int size, int ndim, size_t itemsize,
                 const uint64_t *start, const uint64_t *count, cli_slab *s);

/*
 * A slab cut into blocks of at most `limit` bytes (but at least one element),
 * each a box whose bytes are contiguous in the slab's C-order bytes.
 */
typedef struct cli_blocks {
    cli_slab slab;
    int axis;         /* the axis along which blocks are batched */
    uint64_t batch;   /* indices of `axis` per block */
    uint64_t step;    /* bytes of one index of `axis` */
    uint64_t per_row; /* blocks per index combination of the axes before */
    uint64_t n;       /* number of blocks */
} cli_blocks;

void cli_blocks_init(cli_blocks *b, const cli_slab *s, uint64_t limit);
/* Block i: its box, its byte offset inside the slab and its size. */
void cli_blocks_get(const cli_blocks *b, uint64_t i, uint64_t *start,
                    uint64_t *count, uint64_t *offset, uint64_t *bytes);

/* ------------------------------------------------------------ progress */

typedef struct cli_progress {
    bool on;
    char label[48];
    uint64_t total, done;
    int last_permille;
    double last_time;
} cli_progress;

/* Shows a bar on stderr on rank 0: with mode > 0 (--progress) always;
 * with mode 0 when the job is one rank, stderr a terminal and the amount
 * large; never with mode < 0 (-q). Otherwise every call is a no-op. */
void cli_progress_start(cli *c, cli_progress *p, const char *label,
                        uint64_t total, int mode);
void cli_progress_add(cli_progress *p, uint64_t n);
void cli_progress_end(cli_progress *p);

/* ------------------------------------------------------------ files */

/* Full-length pread/pwrite/write/read retrying on EINTR and short counts.
 * Return 0 or an errno value; cli_read_full reports the bytes read. */
int cli_pread_full(int fd, void *buf, size_t n, uint64_t off);
int cli_pwrite_full(int fd, const void *buf, size_t n, uint64_t off);
int cli_write_full(int fd, const void *buf, size_t n);
int cli_read_full(int fd, void *buf, size_t n, size_t *got);

/* Collective: fails unless PATH is an existing directory (checked by rank
 * 0), so that opening it never creates anything. */
int cli_require_dir(cli *c, const char *path);

/* ------------------------------------------------------------ arrays */

/* The store around PATH, like mkdir -p: the outermost group enclosing the
 * nearest existing ancestor of PATH when that is a group (PATH then lies
 * inside that store), else the first missing directory on the way to PATH,
 * else PATH itself. Writes the store's root into root and returns PATH's
 * name inside it ("" for the root). Collective: rank 0 looks. */
const char *cli_split_store(cli *c, const char *path, char *root, size_t cap);

/* An array opened through the store around PATH (cli_split_store). */
typedef struct cli_array {
    pzarr_store *store;
    pzarr_array *array;
    pzarr_array_info info;
    bool writable;
} cli_array;

/* Collective. On failure everything opened is released. */
int cli_array_open(cli *c, const char *path, int flags, cli_array *ca);
/* Collective: closes (flushing) and keeps the first failure of `status`. */
int cli_array_close(cli *c, const char *path, cli_array *ca, int status);

/* The data type called `name` (v3 spelling); false if unknown. */
bool cli_dtype_parse(const char *name, pzarr_dtype *t);
const char *cli_dtype_name(pzarr_dtype t);
size_t cli_dtype_size(pzarr_dtype t);

/* ------------------------------------------------------------ commands */

int cli_cmd_create(cli *c, int argc, char **argv);
int cli_cmd_get(cli *c, int argc, char **argv);
/* get / put of variable-length arrays as JSON Lines (cli_vlen.c). */
int cli_vlen_get(cli *c, const char *path, pzarr_array *a, const pzarr_array_info *in,
                 const uint64_t *start, const uint64_t *count, const char *out_name);
int cli_vlen_put(cli *c, const char *path, pzarr_array *a, const pzarr_array_info *in,
                 const uint64_t *start, const uint64_t *count, const char *in_name);
int cli_cmd_clean(cli *c, int argc, char **argv);
int cli_cmd_put(cli *c, int argc, char **argv);
int cli_cmd_info(cli *c, int argc, char **argv);
int cli_cmd_ls(cli *c, int argc, char **argv);
int cli_cmd_resize(cli *c, int argc, char **argv);
int cli_cmd_copy(cli *c, int argc, char **argv);

/* The usage line of a command (NULL for an unknown one). */
const char *cli_usage_line(const char *cmd);

#endif /* PZARR_CLI_H */
