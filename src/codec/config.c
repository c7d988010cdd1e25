/* Reading codec configurations, with messages that name codec and field;
 * and the size expectations that keep decoders within bounds. */
#include "codec_impl.h"

#include <stdio.h>
#include <string.h>

int pz_cfg_fields(const pz_cfg *c, const char *const *allowed, size_t n)
{
    const cJSON *it = c->obj ? c->obj->child : NULL;
    for (; it; it = it->next) {
        size_t i = 0;
        while (i < n && strcmp(it->string, allowed[i]) != 0)
            i++;
        if (i == n)
            return pz_err_set(c->e, PZARR_EMETA, "%s \"%s\": unknown field \"%s\"",
                              c->what, c->name, it->string);
    }
    return 0;
}

const cJSON *pz_cfg_get(const pz_cfg *c, const char *field)
{
    return c->obj ? cJSON_GetObjectItemCaseSensitive(c->obj, field) : NULL;
}

int pz_cfg_int(const pz_cfg *c, const char *field, int lo, int hi, int dflt, int *out)
{
    const cJSON *v = pz_cfg_get(c, field);
    if (!v) {
        *out = dflt;
        return 0;
    }
    double d = cJSON_IsNumber(v) ? v->valuedouble : 0.5;
    if (!(d >= lo && d <= hi) || (double)(int)d != d)
        return pz_err_set(c->e, PZARR_EMETA,
                          "%s \"%s\": field \"%s\" must be an integer in %d..%d",
                          c->what, c->name, field, lo, hi);
    *out = (int)d;
    return 0;
}

int pz_cfg_bool(const pz_cfg *c, const char *field, bool dflt, bool *out)
{
    const cJSON *v = pz_cfg_get(c, field);
    if (!v) {
        *out = dflt;
        return 0;
    }
    if (!cJSON_IsBool(v))
        return pz_err_set(c->e, PZARR_EMETA, "%s \"%s\": field \"%s\" must be true or false",
                          c->what, c->name, field);
    *out = cJSON_IsTrue(v);
    return 0;
}

int pz_cfg_enum(const pz_cfg *c, const char *field, const char *const *names, size_t n,
                int dflt, int *out)
{
    const cJSON *v = pz_cfg_get(c, field);
    if (!v) {
        *out = dflt;
        return 0;
    }
    for (size_t i = 0; cJSON_IsString(v) && i < n; i++) {
        if (strcmp(v->valuestring, names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    char list[128] = "";
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s\"%s\"", i ? ", " : "", names[i]);
    }
    return pz_err_set(c->e, PZARR_EMETA, "%s \"%s\": field \"%s\" must be one of %s",
                      c->what, c->name, field, list);
}

size_t pz_want_limit(pz_want w) { return w.exact != PZ_UNKNOWN_SIZE ? w.exact : w.cap; }

int pz_want_too_big(const char *nm, pz_want w, pz_err *e)
{
    if (w.exact != PZ_UNKNOWN_SIZE)
        return pz_err_set(e, PZARR_ECORRUPT, "%s: decodes to more than the expected %zu bytes",
                          nm, w.exact);
    return pz_err_set(e, PZARR_ECORRUPT, "%s: decodes to more than the limit of %zu bytes", nm,
                      w.cap);
}

int pz_want_check(const char *nm, size_t got, pz_want w, pz_err *e)
{
    if (w.exact != PZ_UNKNOWN_SIZE && got != w.exact)
        return pz_err_set(e, PZARR_ECORRUPT, "%s: decodes to %zu bytes, expected %zu", nm, got,
                          w.exact);
    return 0;
}

int pz_codec_reserve(pz_buf *b, size_t n, const char *what, pz_err *e)
{
    if (pz_buf_reserve(b, n) != 0)
        return pz_err_set(e, PZARR_ENOMEM, "%s: out of memory (%zu bytes)", what, n);
    return 0;
}
