/*
 * pzarr clean: after a killed writer, finishes the flushes it committed but
 * did not publish, then removes the temporary files of those it never
 * committed (names containing ".pzarr-tmp"). Readers never need it; it
 * gives the space back and leaves the store as a finished flush would.
 * Only while no other job writes to the store.
 */
#include "cli.h"

#include <stdio.h>

int cli_cmd_clean(cli *c, int argc, char **argv)
{
    cli_opt opts[] = {{"quiet", 'q', false, NULL, false}};
    const char *path = NULL;
    int rc = cli_parse_args(c, argc, argv, opts, 1, &path);
    if (rc)
        return rc;
    rc = cli_require_dir(c, path);
    if (rc)
        return rc;
    pzarr_store *s = NULL;
    uint64_t finished = 0, removed = 0;
    int e = pzarr_open(c->comm, path, PZARR_RDWR, &s);
    if (e == 0)
        e = pzarr_clean(s, "", &finished, &removed);
    int status = e ? cli_lib_fail(c, e, s ? pzarr_errmsg(s) : NULL, "cannot clean %s", path)
                   : CLI_OK;
    pzarr_close(s);
    if (status == CLI_OK && c->rank == 0 && !opts[0].seen)
        printf("removed %llu temporary files under %s; finished %llu committed flushes\n",
               (unsigned long long)removed, path, (unsigned long long)finished);
    return status;
}
