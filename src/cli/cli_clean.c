/*
 * pzarr clean: removes the temporary files that a killed writer left beside
 * chunks and shards (names containing ".pzarr-tmp"). Readers never look at
 * them; this only gives the space back. Rank 0 walks the tree.
 */
#define _XOPEN_SOURCE 700

#include "cli.h"

#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static unsigned long clean_removed, clean_failed;

static int clean_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    const char *base = path + ftw->base;
    if (type == FTW_F && strstr(base, ".pzarr-tmp") != NULL) {
        if (unlink(path) == 0)
            clean_removed++;
        else
            clean_failed++;
    }
    return 0;
}

int cli_cmd_clean(cli *c, int argc, char **argv)
{
    cli_opt opts[] = {{"quiet", 'q', false, NULL, false}};
    const char *path = NULL;
    int rc = cli_parse_args(c, argc, argv, opts, 1, &path);
    if (rc)
        return rc;
    int status = CLI_OK;
    if (c->rank == 0) {
        clean_removed = clean_failed = 0;
        if (nftw(path, clean_one, 32, FTW_PHYS) != 0)
            status = cli_fail(c, "cannot walk %s", path);
        else if (clean_failed)
            status = cli_fail(c, "%lu temporary files could not be removed", clean_failed);
        else if (!opts[0].seen)
            printf("removed %lu temporary files under %s\n", clean_removed, path);
    }
    return cli_agree(c, status);
}
