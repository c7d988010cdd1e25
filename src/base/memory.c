/* The allocation funnel, checked arithmetic and byte buffers. */
#include "base.h"

#include <stdlib.h>
#include <string.h>

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

void pzarr_free_list(char **names, size_t count)
{
    if (!names)
        return;
    for (size_t i = 0; i < count; i++)
        pz_free(names[i]);
    pz_free(names);
}

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
