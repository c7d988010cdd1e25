/*
 * The C half of the Fortran module `pzarr` (pzarr.f90): what Fortran cannot
 * say through iso_c_binding alone. It takes Fortran's view of an array
 * (dimensions fastest first, starts from 1, buffers as C descriptors of any
 * rank and type) and turns it into a call of the public C API:
 *
 *   a Fortran array u(nx, ny, nz) is the Zarr array of shape [nz, ny, nx];
 *   its bytes in memory are already C order for that shape, so the box is
 *   reversed and nothing is transposed.
 *
 * Public API only (pzarr.h), like the command line tool.
 */
#include <pzarr.h>

#include <ISO_Fortran_binding.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OP_WRITE 0
#define OP_READ 1
#define OP_READ_ALL 2

/* info: a Fortran MPI_Info handle (MPI_INFO_NULL's Fortran value: none). */
int pzarr_f_open(MPI_Fint comm, const char *path, int flags, MPI_Fint info, pzarr_store **out)
{
    return pzarr_open_info(MPI_Comm_f2c(comm), path, flags, MPI_Info_f2c(info), out);
}

/* Copies n characters of a C string into a Fortran one. */
void pzarr_f_copy(char *dst, const char *src, size_t n)
{
    memcpy(dst, src, n);
}

/* Fortran names of the descriptor types a buffer may have. */
static const char *fortran_type(const CFI_cdesc_t *b)
{
    switch (b->type) {
    case CFI_type_int8_t: return "integer(int8)";
    case CFI_type_int16_t: return "integer(int16)";
    case CFI_type_int32_t: return "integer(int32)";
    case CFI_type_int64_t: return "integer(int64)";
    case CFI_type_float: return "real(real32)";
    case CFI_type_double: return "real(real64)";
    case CFI_type_float_Complex: return "complex(real32)";
    case CFI_type_double_Complex: return "complex(real64)";
    case CFI_type_Bool: return "logical(c_bool)";
    case CFI_type_char: return "character";
    default: break;
    }
#ifdef CFI_type_mask
    if ((b->type & CFI_type_mask) == CFI_type_Logical)
        return "logical";
#endif
    return "a type pzarr does not store";
}

/* A logical of a kind wider than one byte: converted through bytes. */
static bool wide_logical(const CFI_cdesc_t *b)
{
#ifdef CFI_type_mask
    return (b->type & CFI_type_mask) == CFI_type_Logical && b->type != CFI_type_Bool;
#else
    (void)b;
    return false;
#endif
}

/* Whether the buffer's Fortran type holds the array's elements as they are
 * stored: integers of a size hold the signed and unsigned types of that
 * size (Fortran has no unsigned), float16 its raw 2-byte pattern,
 * character(len=n) the n-byte strings, every logical the bools. */
static bool type_fits(pzarr_dtype t, size_t itemsize, const CFI_cdesc_t *b)
{
    switch (b->type) {
    case CFI_type_int8_t: return t == PZARR_INT8 || t == PZARR_UINT8;
    case CFI_type_int16_t:
        return t == PZARR_INT16 || t == PZARR_UINT16 || t == PZARR_FLOAT16;
    case CFI_type_int32_t: return t == PZARR_INT32 || t == PZARR_UINT32;
    case CFI_type_int64_t: return t == PZARR_INT64 || t == PZARR_UINT64;
    case CFI_type_float: return t == PZARR_FLOAT32;
    case CFI_type_double: return t == PZARR_FLOAT64;
    case CFI_type_float_Complex: return t == PZARR_COMPLEX64;
    case CFI_type_double_Complex: return t == PZARR_COMPLEX128;
    case CFI_type_Bool: return t == PZARR_BOOL;
    case CFI_type_char:
        return (unsigned)t == (unsigned)PZARR_STRING_BYTES(itemsize) && b->elem_len == itemsize;
    default: return wide_logical(b) && t == PZARR_BOOL;
    }
}

static int fail(pzarr_array *a, int code, const char *msg)
{
    return pzarr_array_set_error(a, code, msg);
}

/* The C box of a Fortran buffer at a 1-based Fortran start. */
static int c_box(pzarr_array *a, const pzarr_array_info *in, const int64_t *start, int nstart,
                 const CFI_cdesc_t *b, uint64_t *cstart, uint64_t *ccount)
{
    char msg[512];
    int nd = in->ndim;
    if (nstart != nd) {
        snprintf(msg, sizeof msg, "start has %d values; the array has %d dimensions", nstart, nd);
        return fail(a, PZARR_EINVAL, msg);
    }
    if (b->rank > nd) {
        for (int i = nd; i < b->rank; i++)
            if (b->dim[i].extent != 1) {
                snprintf(msg, sizeof msg,
                         "the buffer has rank %d but the array only %d dimensions "
                         "(extra buffer dimensions must have extent 1)",
                         (int)b->rank, nd);
                return fail(a, PZARR_EINVAL, msg);
            }
    }
    for (int i = 0; i < nd; i++) {
        /* Fortran dimension i is C dimension nd-1-i. */
        int64_t n = i < b->rank ? (int64_t)b->dim[i].extent : 1;
        if (start[i] < 1) {
            snprintf(msg, sizeof msg,
                     "start(%d) = %lld: starts are 1-based, as Fortran indices", i + 1,
                     (long long)start[i]);
            return fail(a, PZARR_EBOUNDS, msg);
        }
        cstart[nd - 1 - i] = (uint64_t)(start[i] - 1);
        ccount[nd - 1 - i] = n < 0 ? 0 : (uint64_t)n;
    }
    return 0;
}

static int check_buffer(pzarr_array *a, const pzarr_array_info *in, const CFI_cdesc_t *b)
{
    char msg[512];
    if (!type_fits(in->dtype, in->itemsize, b)) {
        snprintf(msg, sizeof msg, "the buffer is %s (%zu bytes an element) but the array's "
                 "data type is %s", fortran_type(b), (size_t)b->elem_len,
                 pzarr_dtype_name(in->dtype));
        return fail(a, PZARR_EINVAL, msg);
    }
    if (!CFI_is_contiguous(b))
        return fail(a, PZARR_EINVAL, "the buffer is not contiguous: pass a whole array or a "
                                     "contiguous section");
    return 0;
}

static uint64_t box_elems(int nd, const uint64_t *count)
{
    uint64_t n = 1;
    for (int d = 0; d < nd; d++)
        n *= count[d];
    return n;
}

/* Runs op on the C box, through bytes when the buffer holds wide logicals. */
static int run(pzarr_array *a, int op, int nd, const uint64_t *start, const uint64_t *count,
               const CFI_cdesc_t *b)
{
    bool wide = wide_logical(b);
    uint64_t n = box_elems(nd, count);
    unsigned char *bytes = NULL;
    void *buf = b->base_addr;
    if (wide) {
        bytes = malloc(n ? (size_t)n : 1);
        if (!bytes)
            return fail(a, PZARR_ENOMEM, "out of memory converting logicals to bools");
        const unsigned char *src = b->base_addr;
        for (uint64_t i = 0; op == OP_WRITE && i < n; i++) {
            bool any = false;
            for (size_t k = 0; k < b->elem_len; k++)
                any |= src[i * b->elem_len + k] != 0;
            bytes[i] = any;
        }
        buf = bytes;
    }
    int rc = op == OP_WRITE ? pzarr_array_write(a, start, count, buf)
             : op == OP_READ ? pzarr_array_read(a, start, count, buf)
                             : pzarr_array_read_all(a, start, count, buf);
    if (wide && rc == 0 && op != OP_WRITE) {
        /* .true. is 1 in the logical's integer representation: its low
         * byte, first on a little-endian machine. */
        const int one = 1;
        size_t low = *(const unsigned char *)&one ? 0 : b->elem_len - 1;
        unsigned char *dst = b->base_addr;
        memset(dst, 0, (size_t)n * b->elem_len);
        for (uint64_t i = 0; i < n; i++)
            dst[i * b->elem_len + low] = bytes[i] != 0;
    }
    free(bytes);
    return rc;
}

int pzarr_f_array_io(pzarr_store *s, pzarr_array *a, int op, const int64_t *start, int nstart,
                     CFI_cdesc_t *b)
{
    pzarr_array_info in;
    int rc = pzarr_array_get_info(a, &in);
    if (rc)
        return rc;
    uint64_t cstart[PZARR_MAX_NDIM] = {0}, ccount[PZARR_MAX_NDIM] = {0};
    rc = check_buffer(a, &in, b);
    if (rc == 0)
        rc = c_box(a, &in, start, nstart, b, cstart, ccount);
    if (op != OP_READ_ALL)
        return rc ? rc : run(a, op, in.ndim, cstart, ccount, b);
    /* Collective: a rank whose buffer is wrong still takes part (with an
     * empty box), and every rank learns that one was. */
    int bad = rc != 0, any = 0;
    MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, pzarr_comm(s));
    if (bad)
        memset(ccount, 0, sizeof ccount);
    int rrc = run(a, op, in.ndim, cstart, ccount, b);
    if (bad)
        return rc;
    if (any && rrc == 0)
        return fail(a, PZARR_EINVAL, "pzarr_array_read_all: another rank passed a wrong "
                                     "buffer (see its message)");
    return rrc;
}

/* Trims the blanks Fortran pads a character(len=n) value with. */
static void trim_copy(char *dst, size_t cap, const char *src, size_t len)
{
    while (len > 0 && src[len - 1] == ' ')
        len--;
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* The spec of a Fortran description: shapes and names in Fortran order
 * (reversed here); dims is ndim names of dimlen characters each. */
int pzarr_f_array_create_spec(pzarr_store *s, const char *name, int zarr_format, int dtype,
                              int ndim, const int64_t *shape, const int64_t *chunks,
                              const int64_t *shard, const char *codec, const char *fill,
                              const char *dims, int dimlen, const char *attributes,
                              pzarr_array **out)
{
    pzarr_spec sp;
    memset(&sp, 0, sizeof sp);
    char names[PZARR_MAX_NDIM][256];
    sp.zarr_format = zarr_format;
    sp.dtype = (pzarr_dtype)dtype;
    sp.ndim = ndim;
    bool any_name = false;
    for (int i = 0; i < ndim && i < PZARR_MAX_NDIM; i++) {
        int c = ndim - 1 - i;
        sp.shape[c] = shape[i] < 0 ? UINT64_MAX : (uint64_t)shape[i];
        sp.chunks[c] = chunks[i] < 0 ? UINT64_MAX : (uint64_t)chunks[i];
        sp.shard[c] = shard[i] < 0 ? UINT64_MAX : (uint64_t)shard[i];
        trim_copy(names[c], sizeof names[c], dims + (size_t)i * (size_t)dimlen, (size_t)dimlen);
        any_name |= names[c][0] != '\0';
    }
    for (int c = 0; any_name && c < ndim && c < PZARR_MAX_NDIM; c++)
        sp.dims[c] = names[c];
    sp.codec = codec[0] ? codec : NULL;
    sp.fill = fill[0] ? fill : NULL;
    sp.attributes = attributes[0] ? attributes : NULL;
    return pzarr_array_create_spec(s, name, &sp, out);
}

/* Shape, chunks (Fortran order), dtype and rank of an open array. */
int pzarr_f_array_info(pzarr_array *a, int *ndim, int *dtype, int64_t *shape, int64_t *chunks)
{
    pzarr_array_info in;
    int rc = pzarr_array_get_info(a, &in);
    if (rc)
        return rc;
    *ndim = in.ndim;
    *dtype = (int)in.dtype;
    for (int i = 0; i < in.ndim; i++) {
        shape[i] = (int64_t)in.shape[in.ndim - 1 - i];
        chunks[i] = (int64_t)in.inner_chunks[in.ndim - 1 - i];
    }
    return 0;
}

/* pzarr_array_copy with chunks in Fortran order (n 0: the source's), a
 * codec string ("" for the source's), the format (0: the source's). */
int pzarr_f_array_copy(pzarr_array *a, pzarr_store *s, const char *name, int n,
                       const int64_t *chunks, const char *codec, int fmt, int64_t memory,
                       int resume, int reencode)
{
    pzarr_array_info in;
    int rc = pzarr_array_get_info(a, &in);
    if (rc)
        return rc;
    if (n != 0 && n != in.ndim)
        return fail(a, PZARR_EINVAL, "chunks has a different number of dimensions than the array");
    pzarr_copy_options o;
    memset(&o, 0, sizeof o);
    for (int i = 0; i < n; i++) {
        if (chunks[i] < 1)
            return fail(a, PZARR_EINVAL, "a chunk size is below 1");
        o.chunks[n - 1 - i] = (uint64_t)chunks[i];
    }
    o.codec = codec && codec[0] ? codec : NULL;
    o.zarr_format = fmt;
    o.memory = memory > 0 ? (uint64_t)memory : 0;
    o.resume = resume;
    o.reencode = reencode;
    return pzarr_array_copy(a, s, name, &o);
}

int pzarr_f_array_resize(pzarr_array *a, int n, const int64_t *shape)
{
    pzarr_array_info in;
    int rc = pzarr_array_get_info(a, &in);
    if (rc)
        return rc;
    if (n != in.ndim)
        return fail(a, PZARR_EINVAL, "the new shape has a different number of dimensions");
    uint64_t c[PZARR_MAX_NDIM];
    for (int i = 0; i < n; i++) {
        if (shape[i] < 0)
            return fail(a, PZARR_EINVAL, "a new extent is negative");
        c[n - 1 - i] = (uint64_t)shape[i];
    }
    return pzarr_array_resize(a, c);
}

/* Dimension names of an array in Fortran order, each blank-padded into len
 * characters of names (room for PZARR_MAX_NDIM); *count 0 when unnamed. */
int pzarr_f_array_dimension_names(pzarr_array *a, char *names, int len, int *count)
{
    char **v = NULL;
    size_t n = 0;
    int rc = pzarr_array_dimension_names(a, &v, &n);
    if (rc)
        return rc;
    memset(names, ' ', (size_t)len * PZARR_MAX_NDIM);
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(v[n - 1 - i]);
        memcpy(names + i * (size_t)len, v[n - 1 - i], k < (size_t)len ? k : (size_t)len);
    }
    *count = (int)n;
    pzarr_free_list(v, n);
    return 0;
}
