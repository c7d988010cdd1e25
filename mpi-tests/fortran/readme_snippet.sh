#!/bin/bash
# The README's Fortran program, as a reader would paste it: the first
# ```fortran block of README.md, compiled with mpif90 against the build
# tree, run on 2 ranks; then xarray (Debian's python) opens what it wrote.
#
#   readme_snippet.sh README MPIF90 MODULE_DIR LIB_DIR MPIEXEC WORK PYTHON
set -euo pipefail
readme=$1 fc=$2 moddir=$3 libdir=$4 mpiexec=$5 work=$6 python=$7
rm -rf "$work" && mkdir -p "$work" && cd "$work"
awk '/^```fortran$/ { on = 1; next } on && /^```$/ { exit } on { print }' "$readme" > snapshot.f90
[ -s snapshot.f90 ] || { echo "no \`\`\`fortran block in $readme"; exit 1; }
"$fc" snapshot.f90 -I"$moddir" -L"$libdir" -lpzarr_fortran -lpzarr -Wl,-rpath,"$libdir" -o snapshot
"$mpiexec" -n 2 ./snapshot
"$python" - <<'PY'
import numpy as np
import xarray as xr
ds = xr.open_zarr("out.zarr", consolidated=True)
t = ds.temperature
assert t.dims == ("y", "x"), t.dims
assert t.shape == (48, 64), t.shape
assert t.attrs.get("units") == "K", t.attrs
v = t.values
for j in range(48):  # row j + 1 was written by the rank that owns it
    r = 0 if j + 1 <= 24 else 1
    assert np.all(v[j] == 273.15 + r), (j, v[j][:3])
print("readme snippet: xarray sees temperature (y, x) = (48, 64), each rank's rows")
PY
