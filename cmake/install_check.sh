#!/usr/bin/env bash
# Installs the build into a scratch prefix and builds a consumer program with
# the CMake package (find_package(pzarr)) and with pkg-config (through mpicc,
# as the .pc file says); the installed CLI runs from its prefix alone.
set -euo pipefail
build=$1 tmp=$2
rm -rf "$tmp" && mkdir -p "$tmp/consumer"
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
LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/consumer/build/consumer"
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
mpicc -std=c11 "$tmp/consumer/main.c" $(pkg-config --cflags --libs pzarr) -o "$tmp/consumer/pc"
LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/consumer/pc"
mpi=$(pkg-config --variable=mpi pzarr)
[ -n "$mpi" ] || { echo "pzarr.pc names no MPI"; exit 1; }
! grep -q '^Requires:' "$tmp/prefix/lib/pkgconfig/pzarr.pc" || { echo "pzarr.pc requires an MPI package"; exit 1; }
# The CLI from the prefix, without LD_LIBRARY_PATH (RPATH $ORIGIN/../lib).
env -u LD_LIBRARY_PATH "$tmp/prefix/bin/pzarr" --version
env -u LD_LIBRARY_PATH "$tmp/prefix/bin/pzarr" create "$tmp/cli.zarr/a" --dtype int8 --shape 4 --dims n
echo "install: CMake package and pzarr.pc (MPI: $mpi) work; the installed CLI runs"
