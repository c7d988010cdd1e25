/* The one-sided exchange: a slot window for (count, address) pairs and a
 * dynamic window for the memory ranks expose to each other. */
#include "parallel.h"

#include <stdint.h>
#include <string.h>

int pz_xchg_create(pz_xchg *x, MPI_Comm comm)
{
    memset(x, 0, sizeof *x);
    x->comm = comm;
    MPI_Comm_rank(comm, &x->rank);
    MPI_Comm_size(comm, &x->size);
    x->slots = pz_calloc((size_t)x->size * 2, sizeof(uint64_t));
    /* One process has no remote owner: no window at all (Open MPI's default
     * one-sided component refuses MPI_Win_create in a single process), its
     * "remote" operations are loads and stores of its own memory. */
    if (x->size == 1) {
        x->local = true;
        return x->slots ? 0 : PZARR_ENOMEM;
    }
    /* Window creation is collective: a rank without memory still takes
     * part (with an empty window), so that nobody hangs. */
    int rc = x->slots ? 0 : PZARR_ENOMEM;
    MPI_Aint bytes = x->slots ? (MPI_Aint)((size_t)x->size * 2 * sizeof(uint64_t)) : 0;
    if (MPI_Win_create(x->slots, bytes, (int)sizeof(uint64_t), MPI_INFO_NULL, comm,
                       &x->win_slots) != MPI_SUCCESS)
        return PZARR_EMPI;
    if (MPI_Win_create_dynamic(MPI_INFO_NULL, comm, &x->win_data) != MPI_SUCCESS) {
        MPI_Win_free(&x->win_slots);
        return PZARR_EMPI;
    }
    x->created = true;
    return rc;
}

void pz_xchg_free(pz_xchg *x)
{
    if (x->created) {
        MPI_Win_free(&x->win_slots);
        MPI_Win_free(&x->win_data);
        x->created = false;
    }
    pz_free(x->slots);
    x->slots = NULL;
}

int pz_xchg_attach(pz_xchg *x, void *p, size_t n)
{
    if (!x->created) /* also the local exchange: its memory is its own */
        return 0;
    return MPI_Win_attach(x->win_data, p, (MPI_Aint)n) == MPI_SUCCESS ? 0 : PZARR_EMPI;
}

void pz_xchg_detach(pz_xchg *x, void *p)
{
    if (x->created && p)
        MPI_Win_detach(x->win_data, p);
}

void pz_xchg_publish(pz_xchg *x, const uint64_t *cnt, const uint64_t *off, const void *base,
                     size_t entry_bytes, bool ok)
{
    memset(x->slots, 0, (size_t)x->size * 2 * sizeof(uint64_t));
    if (x->local) {
        if (ok && cnt && cnt[0]) {
            x->slots[0] = cnt[0];
            x->slots[1] = pz_xchg_address((const unsigned char *)base + off[0] * entry_bytes);
        }
        return;
    }
    MPI_Win_fence(0, x->win_slots);
    for (int o = 0; ok && cnt && o < x->size; o++) {
        if (cnt[o] == 0)
            continue;
        uint64_t v[2] = {cnt[o],
                         pz_xchg_address((const unsigned char *)base + off[o] * entry_bytes)};
        MPI_Put(v, 2, MPI_UINT64_T, o, (MPI_Aint)x->rank * 2, 2, MPI_UINT64_T, x->win_slots);
    }
    MPI_Win_fence(0, x->win_slots);
}

uint64_t pz_xchg_total(const pz_xchg *x)
{
    uint64_t n = 0;
    for (int s = 0; s < x->size; s++)
        n += pz_xchg_count(x, s);
    return n;
}

int pz_xchg_get(pz_xchg *x, void *dst, uint64_t n, int src, uint64_t addr)
{
    unsigned char *d = dst;
    if (x->local) {
        if (n)
            memcpy(d, (const void *)(uintptr_t)addr, (size_t)n);
        return 0;
    }
    while (n > 0) {
        int part = n > (1u << 30) ? (1 << 30) : (int)n;
        if (MPI_Get(d, part, MPI_BYTE, src, (MPI_Aint)addr, part, MPI_BYTE, x->win_data) !=
            MPI_SUCCESS)
            return PZARR_EMPI;
        d += part;
        addr += (uint64_t)part;
        n -= (uint64_t)part;
    }
    return 0;
}

int pz_xchg_put_u64(pz_xchg *x, const uint64_t *v, int dst, uint64_t addr)
{
    if (x->local) {
        memcpy((void *)(uintptr_t)addr, v, sizeof *v);
        return 0;
    }
    return MPI_Put(v, 1, MPI_UINT64_T, dst, (MPI_Aint)addr, 1, MPI_UINT64_T, x->win_data) ==
                   MPI_SUCCESS
               ? 0
               : PZARR_EMPI;
}

uint64_t pz_xchg_address(const void *p)
{
    MPI_Aint a;
    MPI_Get_address(p, &a);
    return (uint64_t)a;
}

void pz_xchg_lock_all(pz_xchg *x)
{
    if (!x->local)
        MPI_Win_lock_all(0, x->win_data);
}

void pz_xchg_unlock_all(pz_xchg *x)
{
    if (!x->local)
        MPI_Win_unlock_all(x->win_data);
}

void pz_xchg_flush(pz_xchg *x)
{
    if (!x->local)
        MPI_Win_flush_all(x->win_data);
}

void pz_xchg_flush_one(pz_xchg *x, int target)
{
    if (!x->local)
        MPI_Win_flush(target, x->win_data);
}

void pz_xchg_sync(pz_xchg *x)
{
    if (!x->local)
        MPI_Win_sync(x->win_data);
}
