/* Errors, the allocation funnel, checked arithmetic and byte buffers. */
#include "pz_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pz_err_set(pz_err *e, int code, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        e->code = code;
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void pz_err_clear(pz_err *e)
{
    if (e) {
        e->code = 0;
        e->msg[0] = '\0';
    }
}

const char *pzarr_strerror(int code)
{
    switch (code) {
#define PZARR_X_STR(name, value, text) \
    case value:                        \
        return text;
        PZARR_ERRNO_MAP(PZARR_X_STR)
#undef PZARR_X_STR
    default:
        return "unknown error code";
    }
}

unsigned pzarr_version_number(void) { return PZARR_VERSION_NUMBER; }

static long alloc_countdown = -1;

void pz_alloc_fail_after(long n) { alloc_countdown = n; }

static bool alloc_should_fail(void)
{
    if (alloc_countdown < 0)
        return false;
    if (alloc_countdown == 0)
        return true;
    alloc_countdown--;
    return false;
}

void *pz_malloc(size_t n)
{
    if (alloc_should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *pz_calloc(size_t count, size_t size)
{
    if (alloc_should_fail())
        return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *pz_realloc(void *p, size_t n)
{
    if (alloc_should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

void pz_free(void *p) { free(p); }
void pzarr_free(void *p) { free(p); }

char *pz_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = pz_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

bool pz_mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

bool pz_add_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}

int pz_buf_reserve(pz_buf *b, size_t cap)
{
    if (cap <= b->cap)
        return 0;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < cap)
        ncap = ncap > SIZE_MAX / 2 ? cap : ncap * 2;
    unsigned char *d = pz_realloc(b->data, ncap);
    if (!d)
        return PZARR_ENOMEM;
    b->data = d;
    b->cap = ncap;
    return 0;
}

int pz_buf_append(pz_buf *b, const void *p, size_t n)
{
    if (n > SIZE_MAX - b->size)
        return PZARR_ENOMEM;
    PZ_TRY(pz_buf_reserve(b, b->size + n));
    if (n)
        memcpy(b->data + b->size, p, n);
    b->size += n;
    return 0;
}

void pz_buf_free(pz_buf *b)
{
    pz_free(b->data);
    b->data = NULL;
    b->size = b->cap = 0;
}
