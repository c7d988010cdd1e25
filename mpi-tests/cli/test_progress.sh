#!/bin/bash
# The progress bar: under mpiexec only with --progress (rank 0 draws it),
# alone when stderr is a terminal and the data large, never with -q; binary
# output refused when standard output is a terminal. The terminal is a pty
# (cli_np.py pty).
NAME=progress
source "$(dirname "$0")/lib.sh"

inpty() { "$PY" "$NP_HELPER" pty "$T/tty" "$@"; }
bar_in() { grep -q "pzarr $1.*100\.0%" "$T/tty"; }

ok pz create p.zarr --dtype float64 --shape 2048,1024 --chunks 256,1024 --codec none
ok "$PY" "$NP_HELPER" gen float64 $((2048 * 1024)) in.bin 7

CHECKS=$((CHECKS + 1))
inpty "$MPIEXEC" $NPFLAG 2 "$PZARR" put p.zarr -i in.bin --progress || fail "mpiexec put --progress failed"
bar_in "put (rank 0's part)" || fail "no bar under mpiexec with --progress: $(cat -v "$T/tty")"
CHECKS=$((CHECKS + 1))
inpty "$MPIEXEC" $NPFLAG 2 "$PZARR" get p.zarr -o out.bin --progress || fail "mpiexec get --progress failed"
bar_in "get (rank 0's part)" || fail "no get bar under mpiexec with --progress: $(cat -v "$T/tty")"
cmp -s in.bin out.bin || fail "get under a terminal returned other bytes"

CHECKS=$((CHECKS + 1))
inpty "$MPIEXEC" $NPFLAG 2 "$PZARR" put p.zarr -i in.bin || fail "mpiexec put failed"
! grep -q "pzarr put" "$T/tty" || fail "a bar under mpiexec without --progress"
CHECKS=$((CHECKS + 1))
inpty "$MPIEXEC" $NPFLAG 2 "$PZARR" put p.zarr -i in.bin --progress -q || fail "put -q failed"
! grep -q "pzarr put" "$T/tty" || fail "-q did not silence --progress"

# One rank, stderr a terminal: 16 MiB is below the automatic bar's size,
# --progress forces it.
CHECKS=$((CHECKS + 1))
inpty "$PZARR" put p.zarr -i in.bin || fail "put alone failed"
! grep -q "pzarr put" "$T/tty" || fail "a bar for a small put without --progress"
CHECKS=$((CHECKS + 1))
inpty "$PZARR" put p.zarr -i in.bin --progress || fail "put alone --progress failed"
bar_in "put \[" || fail "no bar alone with --progress: $(cat -v "$T/tty")"

# Binary data is not written to a terminal (one rank), unless -o - insists.
CHECKS=$((CHECKS + 1))
inpty "$PZARR" get p.zarr --region 0:1,0:4
rc=$?
[ $rc -eq 2 ] || fail "get to a terminal: exit $rc (wanted 2)"
grep -q "refusing to write binary data to a terminal" "$T/tty" || fail "no refusal message: $(cat -v "$T/tty")"
CHECKS=$((CHECKS + 1))
inpty "$PZARR" get p.zarr --region 0:1,0:4 -o - -q || fail "get -o - to a terminal failed"

finish
