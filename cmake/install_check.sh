#!/usr/bin/env bash
# Installs the build into a scratch prefix and builds a consumer program with
# the CMake package (find_package(pzarr)) and with pkg-config (through mpicc,
# as the .pc file says); the installed CLI runs from its prefix alone.
set -euo pipefail
build=$1 tmp=$2
rm -rf "$tmp" && mkdir -p "$tmp/consumer"
# The compilers of the MPI this build used (Debian's mpicc/mpif90 follow
# whichever MPI was installed last).
cache_var() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" 2>/dev/null | head -n 1; }
MPICC=$(cache_var MPI_C_COMPILER); MPICC=${MPICC:-mpicc}
MPIF90=$(cache_var MPI_Fortran_COMPILER); MPIF90=${MPIF90:-mpif90}
lib="$tmp/prefix/lib"
# Every consumer runs as a user's would: no LD_LIBRARY_PATH, the run path
# the README gives (or CMake's).
unset LD_LIBRARY_PATH
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cat > "$tmp/consumer/main.c" <<'C'
#include <pzarr.h>
#include <stdio.h>
int main(void)
{
    printf("pzarr %u %s\n", pzarr_version_number(), pzarr_strerror(PZARR_ECORRUPT));
    return pzarr_version_number() == PZARR_VERSION_NUMBER ? 0 : 1;
}
C
cat > "$tmp/consumer/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(consumer C)
find_package(pzarr REQUIRED)
add_executable(consumer main.c)
target_link_libraries(consumer PRIVATE pzarr::pzarr)
CM
cmake -S "$tmp/consumer" -B "$tmp/consumer/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/consumer/build" >/dev/null
"$tmp/consumer/build/consumer"
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
"$MPICC" -std=c11 "$tmp/consumer/main.c" $(pkg-config --cflags --libs pzarr) -Wl,-rpath,"$lib" \
    -o "$tmp/consumer/pc"
"$tmp/consumer/pc"
mpi=$(pkg-config --variable=mpi pzarr)
[ -n "$mpi" ] || { echo "pzarr.pc names no MPI"; exit 1; }
! grep -q '^Requires:' "$tmp/prefix/lib/pkgconfig/pzarr.pc" || { echo "pzarr.pc requires an MPI package"; exit 1; }
# The CLI from the prefix, without LD_LIBRARY_PATH (RPATH $ORIGIN/../lib).
"$tmp/prefix/bin/pzarr" --version
"$tmp/prefix/bin/pzarr" create "$tmp/cli.zarr/a" --dtype int8 --shape 4 --dims n
# The Fortran module, when built: pzarr.mod beside pzarr.h; pzarr-fortran.pc
# (through mpif90) and the CMake package's pzarr::pzarr_fortran.
fortran=""
if [ -f "$tmp/prefix/include/pzarr.mod" ]; then
    cat > "$tmp/consumer/main.f90" <<'F'
program consumer
    use mpi_f08
    use pzarr
    implicit none
    type(pzarr_store) :: s
    type(pzarr_array) :: a
    type(pzarr_spec) :: sp
    character(len=4096) :: dir
    integer :: rc, back(3)
    call MPI_Init()
    call get_command_argument(1, dir)
    sp%dtype = PZARR_INT32
    sp%ndim = 1
    sp%shape(1) = 3
    rc = pzarr_open(MPI_COMM_WORLD, trim(dir), PZARR_CREATE, s)
    if (rc == 0) rc = pzarr_array_create(s, 'v', sp, a)
    if (rc == 0) rc = pzarr_array_write(a, [1], [7, 8, 9])
    if (rc == 0) rc = pzarr_array_read(a, [1], back)
    if (rc == 0) rc = pzarr_close(s)
    if (rc /= 0 .or. any(back /= [7, 8, 9])) error stop 'the Fortran consumer failed'
    print '(a)', 'fortran consumer: ok'
    call MPI_Finalize()
end program
F
    mkdir -p "$tmp/fconsumer"
    cp "$tmp/consumer/main.f90" "$tmp/fconsumer/"
    cat > "$tmp/fconsumer/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(fconsumer C Fortran)
find_package(pzarr REQUIRED)
add_executable(fconsumer main.f90)
target_link_libraries(fconsumer PRIVATE pzarr::pzarr_fortran)
CM
    cmake -S "$tmp/fconsumer" -B "$tmp/fconsumer/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
    cmake --build "$tmp/fconsumer/build" >/dev/null
    "$tmp/fconsumer/build/fconsumer" "$tmp/f-cmake.zarr"
    # As the README says: libpzarr_fortran finds libpzarr by its own run path.
    "$MPIF90" "$tmp/consumer/main.f90" $(pkg-config --cflags --libs pzarr-fortran) \
        -Wl,-rpath,"$lib" -o "$tmp/consumer/fpc"
    "$tmp/consumer/fpc" "$tmp/f-pc.zarr"
    fortran="; Fortran: pzarr.mod, pzarr-fortran.pc and pzarr::pzarr_fortran work"
fi
# The Python package, when built: where Debian's python3 looks for the
# prefix's packages, found with no LD_LIBRARY_PATH; xarray's engine
# registered by its metadata.
python=""
pydir=$(ls -d "$tmp"/prefix/lib/python3*/dist-packages 2>/dev/null | head -n 1 || true)
if [ -n "$pydir" ] && [ -d "$pydir/pzarr" ]; then
    (cd "$tmp" && PYTHONPATH="$pydir" /usr/bin/python3 - "$tmp/py.zarr" <<'PY'
import sys
from importlib.metadata import entry_points
import numpy as np
import pzarr
with pzarr.open(sys.argv[1], "w") as st:
    a = st.create_array("a", shape=(3,), dtype="i4")
    a[:] = [1, 2, 3]
    a.flush()
    assert list(a[:]) == [1, 2, 3]
eps = [e.name for e in entry_points(group="xarray.backends")]
assert "pzarr" in eps, eps
assert pzarr.__file__.startswith(sys.argv[1].rsplit("/", 1)[0]), pzarr.__file__
print("python consumer: ok")
PY
    )
    python="; Python: the package and its xarray engine"
fi
echo "install: CMake package and pzarr.pc (MPI: $mpi) work; the installed CLI runs$fortran$python"
