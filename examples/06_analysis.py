#!/usr/bin/python3
"""06_analysis: post-processing in Python, in parallel.

Reads the checkpoints that 02_checkpoint wrote ("heat", [t, z, y, x]),
reduces each complete step over y and x with the collective read_all (each
chunk read and decoded once, by its owner rank, whatever slabs the ranks
ask for), and writes the profiles as a new dataset that xarray opens:

    mpiexec -n 3 build/bin/02_checkpoint /tmp/heat.zarr --steps 20 --every 5
    mpiexec -n 3 python3 examples/06_analysis.py /tmp/heat.zarr /tmp/profile.zarr
    python3 -c 'import xarray as xr; print(xr.open_dataset("/tmp/profile.zarr", engine="pzarr"))'

With mpi4py imported first, pass comm=MPI.COMM_WORLD (or any communicator);
without it pzarr uses MPI_COMM_WORLD. Each rank takes a slab of z-planes and
sums every plane whole, so the numbers do not depend on the rank count.
"""
import sys

import numpy as np

import pzarr


def main(src, dst):
    with pzarr.open(src, "r") as ck:
        heat = ck["heat"]
        steps = list(heat.attrs.get("steps", []))
        nt, nz = len(steps), heat.shape[1]
        rank, size = ck.rank, ck.size
        # this rank's z-planes (some ranks may have none: an empty box)
        lo = nz * rank // size
        hi = nz * (rank + 1) // size
        with pzarr.open(dst, "w", format=2) as out:
            out.attrs.update({"source": src, "reduced_over": ["y", "x"]})
            t = out.create_array("t", shape=(nt,), dtype="i8", dims=("t",),
                                 attrs={"long_name": "step"})
            z = out.create_array("z", shape=(nz,), dtype="i4", dims=("z",))
            prof = out.create_array("mean", shape=(nt, nz), dtype="f8", chunks=(1, nz),
                                    dims=("t", "z"), attrs={"long_name": "mean over y, x"})
            tmax = out.create_array("max", shape=(nt, nz), dtype="f8", chunks=(1, nz),
                                    dims=("t", "z"))
            if rank == 0:
                t[:] = np.array(steps, dtype="i8")
                z[:] = np.arange(nz, dtype="i4")
            for k in range(nt):
                slab = heat.read_all((k, slice(lo, hi)))  # (hi - lo, ny, nx)
                if hi > lo:
                    prof[k:k + 1, lo:hi] = slab.mean(axis=(1, 2))[None, :]
                    tmax[k:k + 1, lo:hi] = slab.max(axis=(1, 2))[None, :]
            for a in (t, z, prof, tmax):
                a.flush()
            # every rank's rows are in; rank 0 reads the whole result back
            if rank == 0:
                m = prof[:]
                print(f"06_analysis: {nt} complete checkpoints of {src} on {size} ranks")
                for k in range(nt):
                    print(f"t={k} step {steps[k]}: mean {m[k].mean():.12e} "
                          f"max {tmax[k].max():.12e}")
                print(f"wrote {dst}: mean(t, z), max(t, z) for xarray")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: 06_analysis.py CHECKPOINT.zarr OUT.zarr")
    main(sys.argv[1], sys.argv[2])
