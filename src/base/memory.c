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

/* Blocks of a page or more start on a 64-byte boundary. glibc gives 16
 * (large blocks sit 16 bytes into a page), and the kernel's copy between
 * the page cache and user memory (rep movsb) runs at a third of its speed
 * on this class of AMD machine when the user side is not so aligned: a
 * 16 MiB pread from tmpfs 8-11 ms at 16 bytes into a page, 3 ms at 0 or 64
 * (bench/floors/scatter_floor.c prints both). Chunk buffers are such
 * blocks, and they meet the kernel on every read and write. */
enum { BIG = 4096, ALIGN = 64 };

static void *big_alloc(size_t n)
{
    if (n > SIZE_MAX - ALIGN)
        return NULL;
    return aligned_alloc(ALIGN, (n + ALIGN - 1) / ALIGN * ALIGN); /* C11: a multiple of ALIGN */
}

void *pz_malloc(size_t n)
{
    if (alloc_should_fail())
        return NULL;
    return n >= BIG ? big_alloc(n) : malloc(n ? n : 1);
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
    /* Not realloc: it would lose the alignment of pz_malloc. The whole old
     * capacity moves, as with realloc: some callers fill past size first. */
    unsigned char *d = pz_malloc(ncap);
    if (!d)
        return PZARR_ENOMEM;
    if (b->cap)
        memcpy(d, b->data, b->cap);
    pz_free(b->data);
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
