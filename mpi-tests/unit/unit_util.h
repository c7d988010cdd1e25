/* Helpers shared by the unit tests (one process, MPI singleton). Include
 * after <cmocka.h> and "pzarr.h". */
#ifndef PZ_UNIT_UTIL_H
#define PZ_UNIT_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* MPICH leaks a little at MPI_Init (hwloc); tests switch LeakSanitizer off
 * around it. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define LSAN_OFF() __lsan_disable()
#define LSAN_ON() __lsan_enable()
#else
#define LSAN_OFF() ((void)0)
#define LSAN_ON() ((void)0)
#endif

/* rc must be 0; otherwise the message is printed. */
#define CHECK_OK(rc, msg)                                                          \
    do {                                                                           \
        int rc_ = (rc);                                                            \
        if (rc_ != 0)                                                              \
            print_error("%s:%d: rc %d (%s): %s\n", __FILE__, __LINE__, rc_,        \
                        pzarr_strerror(rc_), (msg));                               \
        assert_int_equal(rc_, 0);                                                  \
    } while (0)

/* rc must be `code` and msg must contain `needle`; rc is evaluated first
 * (msg may read a handle that the call fills in). */
#define CHECK_FAIL(rc, code, msg, needle)                                    \
    do {                                                                     \
        int cf_rc_ = (rc);                                                   \
        unit_check_fail(cf_rc_, (code), (msg), (needle), __FILE__, __LINE__); \
    } while (0)

static inline void unit_check_fail(int rc, int code, const char *msg, const char *needle,
                                   const char *file, int line)
{
    if (getenv("PZARR_TEST_VERBOSE"))
        print_message("  -> %d \"%s\"\n", rc, msg ? msg : "(null)");
    if (rc != code || !msg || !strstr(msg, needle))
        print_error("%s:%d: got %d (%s) \"%s\"; want %d (%s) naming \"%s\"\n", file, line,
                    rc, pzarr_strerror(rc), msg ? msg : "(null)", code,
                    pzarr_strerror(code), needle);
    assert_int_equal(rc, code);
    assert_non_null(msg);
    assert_non_null(strstr(msg, needle));
}

/* Every data type, in the order of the Zarr v3 spec: v3 name, item size and
 * numpy kind letter (the v2 dtype string is order, kind, size). The one
 * table the unit tests share. */
typedef struct unit_dtype {
    pzarr_dtype t;
    const char *name;
    size_t size;
    char kind;
} unit_dtype;

static const unit_dtype UNIT_DTYPES[] __attribute__((unused)) = {
    {PZARR_BOOL, "bool", 1, 'b'},           {PZARR_INT8, "int8", 1, 'i'},
    {PZARR_INT16, "int16", 2, 'i'},         {PZARR_INT32, "int32", 4, 'i'},
    {PZARR_INT64, "int64", 8, 'i'},         {PZARR_UINT8, "uint8", 1, 'u'},
    {PZARR_UINT16, "uint16", 2, 'u'},       {PZARR_UINT32, "uint32", 4, 'u'},
    {PZARR_UINT64, "uint64", 8, 'u'},       {PZARR_FLOAT16, "float16", 2, 'f'},
    {PZARR_FLOAT32, "float32", 4, 'f'},     {PZARR_FLOAT64, "float64", 8, 'f'},
    {PZARR_COMPLEX64, "complex64", 8, 'c'}, {PZARR_COMPLEX128, "complex128", 16, 'c'},
};
#define UNIT_NDTYPES (sizeof UNIT_DTYPES / sizeof UNIT_DTYPES[0])

/* Removes a directory tree. */
static inline void rmtree(const char *path)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", path);
}

/* A whole file, NUL-terminated (not counted in *len); NULL when absent. */
static inline unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return b;
}

#endif
