/* Errors: the per-handle record, and the names and texts of the codes. */
#include "base.h"

#include <stdio.h>

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

const char *pzarr_errname(int code)
{
    switch (code) {
#define PZARR_X_NAME(name, value, text) \
    case value:                         \
        return "PZARR_" #name;
        PZARR_ERRNO_MAP(PZARR_X_NAME)
#undef PZARR_X_NAME
    default:
        return "PZARR_UNKNOWN";
    }
}

unsigned pzarr_version_number(void) { return PZARR_VERSION_NUMBER; }
