#!/bin/bash
# Mounts a 256 KiB tmpfs (root only; otherwise the test is skipped, exit 77)
# and runs mpi_enospc there at 1, 2 and 3 ranks.
#   enospc_test.sh MPIEXEC MPI_ENOSPC WORKDIR
set -u
MPIEXEC=$1
BIN=$2
MNT=$3
mkdir -p "$MNT"
umount "$MNT" 2>/dev/null
if ! mount -t tmpfs -o size=256k tmpfs "$MNT" 2>/dev/null; then
    echo "enospc: skipped: cannot mount a small tmpfs here (needs root)"
    exit 77
fi
trap 'umount "$MNT" 2>/dev/null' EXIT
for mode in "" async; do
    for np in 1 2 3; do
        rm -rf "${MNT:?}"/*
        "$MPIEXEC" -n "$np" "$BIN" "$MNT/store" $mode ||
            { echo "enospc: FAILED at $np ranks ${mode:+($mode)}"; exit 1; }
    done
done
echo "enospc: every overwrite that ran out of space (flushed, or in the background) failed alike everywhere and left the array as it was"
