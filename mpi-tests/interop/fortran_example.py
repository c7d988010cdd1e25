#!/usr/bin/python3
"""interop.fortran_example: what examples/04_checkpoint.f90 wrote, as a
Python user opens it. The store comes from the restart chain of ctest (3
ranks to step 10, then 2 ranks to step 20): xarray's consolidated open must
show the variable heat with dimensions (t, z, y, x) and shape (5, n, n, n),
the attribute steps [0, 5, 10, 15, 20], and every time slice equal, bit for
bit, to the same stencil computed here with numpy.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from interop_common import Report  # noqa: E402


def initial(n):
    z, y, x = np.meshgrid(np.arange(n), np.arange(n), np.arange(n), indexing="ij")
    r = n // 4
    c = n // 2
    u = np.where((z - c) ** 2 + (y - c) ** 2 + (x - c) ** 2 < r * r, 2.0, 0.0)
    u[0] = 1.0
    return u


def advance(u):
    """One step with the example's order of operations: z-1, z+1, y-1, y+1,
    x-1, x+1, minus 6u; boundary points stay."""
    n = u.shape[0]
    i, lo, hi = slice(1, n - 1), slice(0, n - 2), slice(2, n)
    lap = (u[lo, i, i] + u[hi, i, i] + u[i, lo, i] + u[i, hi, i] + u[i, i, lo] + u[i, i, hi]
           - 6.0 * u[i, i, i])
    v = u.copy()
    v[i, i, i] = u[i, i, i] + 0.125 * lap
    return v


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--store", required=True)
    p.add_argument("--n", type=int, default=32)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--every", type=int, default=5)
    args = p.parse_args()
    import xarray as xr
    rep = Report("xarray and zarr-python open the Fortran example's checkpoints")
    ds = xr.open_zarr(args.store, consolidated=True)
    heat = ds["heat"]
    want_steps = list(range(0, args.steps + 1, args.every))
    n = args.n
    rep.check("dimensions (t, z, y, x)",
              None if heat.dims == ("t", "z", "y", "x") else f"dims {heat.dims}")
    rep.check(f"shape ({len(want_steps)}, {n}, {n}, {n})",
              None if heat.shape == (len(want_steps), n, n, n) else f"shape {heat.shape}")
    rep.check("attribute steps", None if list(heat.attrs.get("steps", [])) == want_steps
              else f"steps {heat.attrs.get('steps')}")
    values = heat.values
    u = initial(n)
    for step in range(args.steps + 1):
        if step > 0:
            u = advance(u)
        if step not in want_steps or heat.shape[0] <= want_steps.index(step):
            continue
        t = want_steps.index(step)
        got = values[t]
        msg = None
        if not np.array_equal(got, u):
            msg = f"max |difference| {np.max(np.abs(got - u)):.3g}"
        rep.check(f"slice t={t} (step {step}) equals numpy's stencil bit for bit", msg)
    rep.finish()


if __name__ == "__main__":
    main()
