/*
 * base: what every layer uses. Errors, the one allocation funnel, checked
 * arithmetic, byte buffers, data types, exact JSON output, node names and
 * chunk keys. Pure: no MPI, no files.
 */
#ifndef PZ_BASE_H
#define PZ_BASE_H

#include "pzarr.h" /* built with PZARR_WITHOUT_MPI: no <mpi.h> here */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define PZ_MAX_NDIM PZARR_MAX_NDIM
#define PZ_ERRMSG_MAX 1024
#define PZ_NAME_MAX 4096 /* a node name, canonical form included */
#define PZ_KEY_MAX 256   /* a chunk key */

#if defined(__GNUC__)
#define PZ_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define PZ_PRINTF(f, a)
#endif

/* ---------------------------------------------------------------- errors (error.c) */

typedef struct pz_err {
    int code;
    char msg[PZ_ERRMSG_MAX];
} pz_err;

/* Records code and message in e (which may be NULL); returns code. */
int pz_err_set(pz_err *e, int code, const char *fmt, ...) PZ_PRINTF(3, 4);
void pz_err_clear(pz_err *e);
/* Propagates a failing call: `PZ_TRY(f(...));` returns its code. */
#define PZ_TRY(expr)                  \
    do {                              \
        int pz_try_rc_ = (expr);      \
        if (pz_try_rc_ != 0)          \
            return pz_try_rc_;        \
    } while (0)

/* ---------------------------------------------------------------- memory (memory.c) */

/* The one allocation funnel. pz_alloc_fail_after(n) makes the n-th next
 * allocation fail (tests); n < 0 disables. */
void *pz_malloc(size_t n);
void *pz_calloc(size_t count, size_t size);
void *pz_realloc(void *p, size_t n);
void pz_free(void *p);
char *pz_strdup(const char *s);
void pz_alloc_fail_after(long n);

/* Overflow-checked arithmetic: false on overflow. */
bool pz_mul_u64(uint64_t a, uint64_t b, uint64_t *out);
bool pz_add_u64(uint64_t a, uint64_t b, uint64_t *out);

/* A growable byte buffer. */
typedef struct pz_buf {
    unsigned char *data;
    size_t size;
    size_t cap;
} pz_buf;

int pz_buf_reserve(pz_buf *b, size_t cap);
int pz_buf_append(pz_buf *b, const void *p, size_t n);
void pz_buf_free(pz_buf *b);

/* ---------------------------------------------------------------- data types (dtype.c) */

/* pzarr_dtype_size / pzarr_dtype_name are public. */
/* Parses a v3 data_type name; PZARR_EUNSUPPORTED for others. */
int pz_dtype_from_v3(const char *name, pzarr_dtype *t);
/* Parses a v2 dtype string ("<f8", "|b1", ">i2", ...); *big_endian is set
 * for '>' (multi-byte types only). */
int pz_dtype_from_v2(const char *s, pzarr_dtype *t, bool *big_endian);
/* Writes the v2 dtype string of t ("<f8", "|u1", ...). */
void pz_dtype_to_v2(pzarr_dtype t, bool big_endian, char out[32]);
/* 'S' or 'U' for a fixed-length string type, else 0; and its length
 * (bytes for S, code units for U). */
/* Variable-length strings or bytes. */
bool pz_dtype_is_vlen(pzarr_dtype t);
/* What one element occupies inside the engine: its size, or for a
 * variable-length type the PZ_VLEN_SLOT bytes its budgets count. */
#define PZ_VLEN_SLOT 16
size_t pz_dtype_slot(pzarr_dtype t);
char pz_dtype_string_kind(pzarr_dtype t);
size_t pz_dtype_string_length(pzarr_dtype t);
bool pz_dtype_is_int(pzarr_dtype t);
bool pz_dtype_is_signed(pzarr_dtype t);
/* float16/32/64 and complex64/128. */
bool pz_dtype_is_float(pzarr_dtype t);
/* 'M' for datetime64, 'm' for timedelta64, 0 for other types. */
char pz_dtype_time_kind(pzarr_dtype t);
pzarr_time_unit pz_dtype_time_unit(pzarr_dtype t);
unsigned pz_dtype_time_scale(pzarr_dtype t);
/* A unit's NumPy name ("ns"; "" for the generic unit), and back (-1). */
const char *pz_time_unit_name(pzarr_time_unit u);
int pz_time_unit_from(const char *s, size_t n);
/* Whether values of `from` convert to `to` (numbers to numbers; complex
 * only to complex; strings only to themselves). */
bool pz_dtype_convertible(pzarr_dtype from, pzarr_dtype to);
/* Converts n elements (native order) as C does, floats to integers
 * truncated and clamped, NaN to 0; float16 through its bits. */
void pz_dtype_convert(pzarr_dtype from, const void *in, pzarr_dtype to, void *out, uint64_t n);
/* Bytes of one float component: the itemsize, half of it for complex. */
size_t pz_dtype_component(pzarr_dtype t);
/* Whether a float component of w bytes (2, 4, 8) holds a NaN. */
bool pz_float_is_nan(const unsigned char *p, size_t w);
bool pz_host_big_endian(void);
/* Byte swapping of n elements of size itemsize (complex swaps each half). */
void pz_byteswap(void *buf, uint64_t n, size_t itemsize, pzarr_dtype t);

/* ---------------------------------------------------------------- JSON output (json.c) */

/* Prints a JSON value with every number written so that it reads back
 * exactly (cJSON_Print may drop digits: 2^53 prints as 9007199254740990,
 * 0.30000000000000004 as 0.3). Returns a pz_malloc'd string or NULL. */
char *pz_json_print(const cJSON *v, bool formatted);
/* Prints and releases o (NULL passes through). */
char *pz_json_print_take(cJSON *o, bool formatted);
/* Python's repr of a finite double (0.0, 1.5, 1e-05, 1e+16), as
 * zarr-python writes numbers. */
void pz_float_repr(double v, char *out, size_t cap);

/* ---------------------------------------------------------------- names and keys (names.c) */

/* Validates a node name; on success writes its canonical form (no trailing
 * '/'). */
int pz_name_check(const char *name, char *out, size_t cap, pz_err *e);
/* Joins two path parts with '/', into a pz_malloc'd string. */
char *pz_path_join(const char *a, const char *b);
/*
 * Writes the chunk key of grid coordinates cc: with prefix (v3 "default"),
 * "c" then sep-separated coordinates ("c/0/1", "c" for 0-d); without (v3
 * "v2" and Zarr v2), the coordinates alone ("0.1", "0" for 0-d).
 */
int pz_chunk_key(bool prefix, char sep, int ndim, const uint64_t *cc, char *out, size_t cap);

#endif /* PZ_BASE_H */
