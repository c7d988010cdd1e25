"""Checks the v2 array that `mpi_write_then_read_elsewhere write` wrote with 3 ranks, using
zarr-python 2.13 (run with /usr/bin/python3). Usage: mpi_write_then_read_elsewhere.py DIR.
The formula must stay the same as f2 in mpi_write_then_read_elsewhere.c."""
import sys

import numpy as np
import zarr


def main():
    root = sys.argv[1]
    arr = zarr.open_array(root + "/v2/arr", mode="r")
    i, j = np.meshgrid(np.arange(41), np.arange(29), indexing="ij")
    want = i * 0.5 + j * 1000.0 + 0.25
    got = arr[...]
    problems = []
    if arr.shape != (41, 29) or arr.chunks != (8, 6) or arr.dtype != np.dtype("<f8"):
        problems.append("shape %s chunks %s dtype %s" % (arr.shape, arr.chunks, arr.dtype))
    if not np.array_equal(got, want):
        bad = np.argwhere(got != want)
        problems.append("%d elements differ, first at %s: %r vs %r"
                        % (len(bad), tuple(bad[0]), got[tuple(bad[0])], want[tuple(bad[0])]))
    if arr.attrs.get("written_by") != "mpi_write_then_read_elsewhere" or arr.attrs.get("ranks") != 3:
        problems.append("attributes %r" % dict(arr.attrs))
    # The group written by pzarr opens in zarr-python too.
    grp = zarr.open_group(root + "/v2", mode="r")
    if list(grp.array_keys()) != ["arr"]:
        problems.append("group lists %r" % list(grp.array_keys()))
    for p in problems:
        print("mpi_write_then_read_elsewhere.py: " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
