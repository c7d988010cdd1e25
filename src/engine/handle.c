/* Handles: which are alive in this process, and how a store call records
 * and agrees on its outcome. */
#include "engine.h"

/* Handles alive in this process: a call on a handle already closed is
 * refused without touching its memory. */
static const void **live;
static size_t nlive, cap_live;

int pz_live_add(const void *h)
{
    if (nlive == cap_live) {
        size_t cap = cap_live ? 2 * cap_live : 16;
        const void **v = pz_realloc(live, cap * sizeof *v);
        if (!v)
            return PZARR_ENOMEM;
        live = v;
        cap_live = cap;
    }
    live[nlive++] = h;
    return 0;
}

bool pz_live_has(const void *h)
{
    for (size_t i = 0; h && i < nlive; i++)
        if (live[i] == h)
            return true;
    return false;
}

void pz_live_remove(const void *h)
{
    for (size_t i = 0; i < nlive; i++)
        if (live[i] == h) {
            live[i] = live[--nlive];
            break;
        }
    if (nlive == 0) {
        pz_free(live);
        live = NULL;
        cap_live = 0;
    }
}

int pz_store_fail(pzarr_store *s, const pz_err *e)
{
    s->err = *e;
    return e->code;
}

int pz_store_end(pzarr_store *s, pz_outcome from, pz_err *e)
{
    pz_collective_end(s->comm, from, e);
    return pz_store_fail(s, e);
}
