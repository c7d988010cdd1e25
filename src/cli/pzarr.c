/*
 * pzarr: command-line tool to inspect, create, read and write Zarr v2 and v3
 * arrays. An MPI program: run it alone or under mpiexec; get and put split
 * the region among the ranks.
 */
#define _POSIX_C_SOURCE 200809L

#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cli_command {
    const char *name;
    int (*run)(cli *c, int argc, char **argv);
    const char *usage;
    const char *help;
} cli_command;

static const cli_command cli_commands[] = {
    {"info", cli_cmd_info, "pzarr info PATH",
     "Describes the array or group whose directory is PATH: format, data\n"
     "type, shape, chunks, codecs, fill value, chunks stored, stored and\n"
     "logical bytes, compression ratio and attributes. For a group, lists\n"
     "its children.\n"
     "  --json      print the array's metadata document instead\n"},
    {"ls", cli_cmd_ls, "pzarr ls PATH",
     "Prints the hierarchy under PATH as a tree; arrays show their data\n"
     "type, shape and chunks.\n"},
    {"create", cli_cmd_create,
     "pzarr create PATH --dtype TYPE --shape N,.. [--chunks N,..] [options]",
     "Creates an empty array whose directory is PATH. Like mkdir -p, every\n"
     "missing directory on the way becomes a group of the array's format:\n"
     "PATH=out.zarr/temp makes the store out.zarr (a group, with\n"
     "consolidated metadata) and the array temp in it; inside an existing\n"
     "group the array joins that store. A PATH whose parent is a plain\n"
     "directory is an array at the root of its own store.\n"
     "  --dtype TYPE        bool, int8..int64, uint8..uint64, float16,\n"
     "                      float32, float64, complex64, complex128;\n"
     "                      S<n>, U<n>: fixed-length strings (v2);\n"
     "                      datetime64[UNIT], timedelta64[UNIT] (UNIT: Y M W D\n"
     "                      h m s ms us ns ps fs as, maybe scaled: 10ms),\n"
     "                      read and written as int64 counts, NaT the fill\n"
     "  --shape N,N,..      the shape (\"\" for a 0-d array)\n"
     "  --chunks N,N,..     the chunk shape (default: the whole array)\n"
     "  --codec SPEC        zstd[:LEVEL] | blosc[:CNAME[:CLEVEL[:SHUFFLE]]] |\n"
     "                      gzip[:LEVEL] | zlib[:LEVEL] (v2) | lz4[:ACCEL]\n"
     "                      (v2) | bz2[:LEVEL] (v2) | lzma[:PRESET] (v2) | none;\n"
     "                      SHUFFLE is noshuffle, shuffle or bitshuffle;\n"
     "                      append +crc32c for a checksum (v3);\n"
     "                      default zstd:3\n"
     "  --fill VALUE        fill value: a number, nan, inf, -inf, true,\n"
     "                      false, RE,IM for complex, null (v2); default 0,\n"
     "                      but with --dims NaN for floats and null for the\n"
     "                      rest in v2 (as xarray writes: it reads the fill\n"
     "                      value as missing data)\n"
     "  --format 2|3        Zarr format (default 3)\n"
     "  --order C|F         memory order of each chunk (default C)\n"
     "  --separator /|.     chunk key separator (default / for v3, . for v2)\n"
     "  --endian little|big byte order on disk (default little)\n"
     "  --shard N,N,..      pack chunks into shards of this shape (v3\n"
     "                      sharding_indexed; --chunks are the inner chunks)\n"
     "  --attrs JSON        attributes, a JSON object\n"
     "  --dims A,B,..       names of the dimensions (v3 dimension_names;\n"
     "                      v2 the _ARRAY_DIMENSIONS attribute that xarray,\n"
     "                      netCDF and GDAL read); also --dimension-names\n"
     "  --print             also print the metadata document\n"},
    {"resize", cli_cmd_resize, "pzarr resize PATH --shape N,..",
     "Changes the shape of the array at PATH (the number of dimensions\n"
     "stays). Data outside the new shape is gone; growing shows the fill\n"
     "value. The store's consolidated metadata follows.\n"},
    {"get", cli_cmd_get, "pzarr get PATH [--region R] [-o FILE|-] [-q] [--progress]",
     "Writes the raw bytes of a region (C order, native byte order) to FILE\n"
     "or to standard output (-, the default unless it is a terminal). Under\n"
     "mpiexec every rank's output is a pipe, so binary data is not kept from a\n"
     "terminal there: use -o FILE (every rank then writes its own slab).\n"
     "  --region R  per dimension, comma-separated: a:b (half-open), a (one\n"
     "              index), : or nothing (whole), a: or :b; negative\n"
     "              indices count from the end. Default: the whole array.\n"
     "  -o FILE     output file; under mpiexec every rank writes its slab\n"
     "  -q          no progress bar\n"
     "  --progress  show the bar even under mpiexec (rank 0 draws it)\n"},
    {"copy", cli_cmd_copy,
     "pzarr copy SRC DST [--chunks [NAME=]N,..] [--shards N,..|none] [--codec C]\n"
     "                    [--format 2|3] [--dtype T] [--region R] [--memory SIZE]\n"
     "                    [--resume] [--overwrite] [--reencode] [--progress] [-q]",
     "Copies the array or group SRC (with every group, array and attribute\n"
     "under it) to DST, changing chunks, shards, codecs, format or data type\n"
     "on the way: rechunking a checkpoint for analysis, recompressing,\n"
     "converting v2 <-> v3. Under mpiexec every rank shares the work: each\n"
     "source chunk is read once, each new chunk written once, by its owner.\n"
     "A new DST store is built in DST.pzarr-partial and appears only when\n"
     "complete (DST inside an existing store is written in place, marked\n"
     "unfinished until done); a copy killed part-way is finished by the same\n"
     "command with --resume (slabs committed are not copied again). SRC is\n"
     "only read.\n"
     "  --chunks N,..       new chunks of every array of that many dimensions;\n"
     "  --chunks NAME=N,..  of the array NAME (repeat for others)\n"
     "  --shards N,..|none  pack chunks into shards of this shape (v3), or\n"
     "                      unpack a sharded source; NAME=N,.. as for chunks\n"
     "  --codec SPEC        as for create (zstd:1, blosc:lz4:5:shuffle, none,\n"
     "                      ...); default: the source's codecs\n"
     "  --format 2|3        Zarr format of DST (default: the source's)\n"
     "  --dtype TYPE        convert the values (as C converts them)\n"
     "  --region R          copy only this region of the array SRC (as for get)\n"
     "  --memory SIZE       data a rank holds at most (512M default; 2G, ...)\n"
     "  --resume            finish an unfinished copy to DST\n"
     "  --overwrite         replace an existing DST (once the copy is done)\n"
     "  --reencode          decode and encode every chunk even when nothing but\n"
     "                      the format or names change (chunk files are then\n"
     "                      moved as they are, byte for byte, by default)\n"
     "  -q                  print nothing\n"
     "  --progress          show the bar even under mpiexec (rank 0 draws it)\n"},
    {"clean", cli_cmd_clean, "pzarr clean PATH [-q]",
     "Removes the temporary files (*.pzarr-tmp*) that a killed writer left\n"
     "under PATH. Readers ignore them; the next flush of the same chunk or\n"
     "shard also removes its own. Safe while no job writes to PATH.\n"
     "  -q          print nothing\n"},
    {"put", cli_cmd_put, "pzarr put PATH [--region R] -i FILE|- [-q] [--progress] [--durable]",
     "Writes raw bytes (C order, native byte order) into a region. The input\n"
     "must hold exactly the region's bytes; nothing is written otherwise. The\n"
     "array is replaced all or nothing, even when the disk fills up or the job\n"
     "is killed.\n"
     "  --region R  as for get\n"
     "  -i FILE     input file, or - for standard input (under mpiexec,\n"
     "              rank 0 reads it and sends each rank its slab; mpiexec\n"
     "              may refuse a large piped input: prefer -i FILE)\n"
     "  -q          no progress bar\n"
     "  --progress  show the bar even under mpiexec (rank 0 draws it)\n"
     "  --durable   sync every file written before the change commits, and\n"
     "              the directories after: it survives a power loss\n"},
};

#define CLI_NCOMMANDS (int)(sizeof cli_commands / sizeof cli_commands[0])

static const cli_command *cli_find(const char *name)
{
    for (int i = 0; i < CLI_NCOMMANDS; i++)
        if (strcmp(cli_commands[i].name, name) == 0)
            return &cli_commands[i];
    return NULL;
}

const char *cli_usage_line(const char *cmd)
{
    const cli_command *k = cmd ? cli_find(cmd) : NULL;
    return k ? k->usage : NULL;
}

static void cli_print_overview(FILE *f)
{
    fprintf(f, "usage: pzarr COMMAND PATH [options]\n\ncommands:\n");
    for (int i = 0; i < CLI_NCOMMANDS; i++)
        fprintf(f, "  %s\n", cli_commands[i].usage);
    fprintf(f, "\nPATH is the directory of a Zarr array (or group, for info "
               "and ls).\nRun under mpiexec to read and write in parallel.\n"
               "'pzarr help COMMAND' describes a command; 'pzarr --version' "
               "prints the version.\n");
}

static void cli_print_help(const cli_command *k)
{
    printf("usage: %s\n\n%s", k->usage, k->help);
}

static void cli_print_version(void)
{
    unsigned v = pzarr_version_number();
    printf("pzarr %d.%d.%d (library %u.%u.%u)\n", PZARR_VERSION_MAJOR,
           PZARR_VERSION_MINOR, PZARR_VERSION_PATCH, v / 10000, v / 100 % 100,
           v % 100);
}

/* `pzarr help [CMD]`: prints on rank 0. */
static int cli_help(cli *c, int argc, char **argv)
{
    if (argc == 0) {
        if (c->rank == 0)
            cli_print_overview(stdout);
        return CLI_OK;
    }
    const cli_command *k = cli_find(argv[0]);
    if (!k || argc > 1)
        return cli_usage(c, "help: unknown command '%s'", argv[0]);
    if (c->rank == 0)
        cli_print_help(k);
    return CLI_OK;
}

static bool cli_wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    }
    return false;
}

static int cli_dispatch(cli *c, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage(c, "missing COMMAND");
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        return cli_help(c, 0, NULL);
    if (strcmp(name, "help") == 0)
        return cli_help(c, argc - 2, argv + 2);
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        if (c->rank == 0)
            cli_print_version();
        return CLI_OK;
    }
    const cli_command *k = cli_find(name);
    if (!k)
        return cli_usage(c, "unknown command '%s'", name);
    c->cmd = k->name;
    if (cli_wants_help(argc - 2, argv + 2)) {
        if (c->rank == 0)
            cli_print_help(k);
        return CLI_OK;
    }
    return k->run(c, argc - 2, argv + 2);
}

static void cli_report(const cli *c, int status)
{
    if (status == CLI_OK || c->rank != 0)
        return;
    fflush(stdout);
    fprintf(stderr, "pzarr: error: %s\n", c->msg);
    if (status == CLI_USAGE) {
        const char *line = cli_usage_line(c->cmd);
        if (line)
            fprintf(stderr, "usage: %s\nTry 'pzarr help %s'.\n", line, c->cmd);
        else
            fprintf(stderr, "Try 'pzarr --help'.\n");
    }
}

static uint64_t cli_block_bytes(void)
{
    /* PZARR_CLI_BLOCK_BYTES makes the tests exercise many small blocks. */
    const char *env = getenv("PZARR_CLI_BLOCK_BYTES");
    uint64_t v;
    if (env && cli_parse_u64(env, &v) && v > 0 && v <= (1u << 30))
        return v;
    return 32u << 20;
}

/* Whether an MPI launcher started us (its variables, before MPI_Init). */
static bool cli_launched(void)
{
    static const char *const vars[] = {"PMI_RANK", "PMI_SIZE", "PMIX_RANK",
                                       "OMPI_COMM_WORLD_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i]))
            return true;
    return false;
}

int main(int argc, char **argv)
{
    bool launched = cli_launched();
    MPI_Init(&argc, &argv);
    cli c;
    memset(&c, 0, sizeof c);
    c.launched = launched;
    c.comm = MPI_COMM_WORLD;
    MPI_Comm_rank(c.comm, &c.rank);
    MPI_Comm_size(c.comm, &c.size);
    c.block_bytes = cli_block_bytes();
    MPI_Bcast(&c.block_bytes, 1, MPI_UINT64_T, 0, c.comm);
    int status = cli_dispatch(&c, argc, argv);
    fflush(stdout);
    cli_report(&c, status);
    MPI_Finalize();
    return status;
}
