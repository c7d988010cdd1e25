#!/bin/bash
# put -i -: from a regular file, from a pipe (spooled in memory or in a
# temporary file), alone and under mpiexec (rank 0 reads and scatters).
NAME=stdin
source "$(dirname "$0")/lib.sh"

SHAPE=17,6,4
N=$((17 * 6 * 4))
np gen float32 $N in.bin 31
np gen float32 $N in2.bin 32

ok pz create s --dtype float32 --shape $SHAPE --chunks 5,5,5
ok sh -c "\"$PZARR\" put s -i - < in.bin"
ok pz get s -o out && same in.bin out "stdin from a regular file"
ok sh -c "cat in2.bin | \"$PZARR\" put s -i -"
ok pz get s -o out && same in2.bin out "stdin from a pipe"
ok sh -c "cat in.bin | PZARR_CLI_SPOOL_MEM=10 \"$PZARR\" put s -i -"
ok pz get s -o out && same in.bin out "stdin from a pipe, spooled to a file"
# a regular stdin already partly read: the rest is the input
head -c 3 /dev/zero >pre.bin
cat pre.bin in2.bin >pre-in2.bin
ok sh -c "{ dd bs=3 count=1 of=/dev/null 2>/dev/null; \"$PZARR\" put s -i -; } < pre-in2.bin"
ok pz get s -o out && same in2.bin out "stdin from a regular file at an offset"

for n in 2 3; do
    for blocks in "" 64; do
        what="stdin under $n ranks${blocks:+, blocks of $blocks bytes}"
        ok sh -c "PZARR_CLI_BLOCK_BYTES=$blocks timeout 120 \"$MPIEXEC\" $NPFLAG $n \"$PZARR\" put s -i - < in.bin"
        ok pz get s -o out && same in.bin out "$what"
        ok sh -c "cat in2.bin | PZARR_CLI_BLOCK_BYTES=$blocks PZARR_CLI_SPOOL_MEM=100 timeout 120 \"$MPIEXEC\" $NPFLAG $n \"$PZARR\" put s -i -"
        ok pz get s -o out && same in2.bin out "$what, pipe spooled to a file"
    done
    np gen float32 $((10 * 6 * 2)) patch.bin $n
    ok sh -c "timeout 120 \"$MPIEXEC\" $NPFLAG $n \"$PZARR\" put s --region 4:14,:,1:3 -i - < patch.bin"
    np patch in2.bin float32 $SHAPE 4:14,:,1:3 patch.bin want
    ok pz get s -o out && same want out "stdin into a region under $n ranks"
    ok pz put s -i in2.bin
done

# wrong sizes through stdin: nothing written
ok pz get s -o before
head -c $((N * 4 - 1)) in.bin >short.bin
cat in.bin in.bin >long.bin
bad 1 "standard input holds $((N * 4 - 1)) bytes.*needs exactly $((N * 4)) bytes" sh -c "cat short.bin | \"$PZARR\" put s -i -"
bad 1 "standard input holds more than $((N * 4)) bytes" sh -c "cat long.bin | \"$PZARR\" put s -i -"
bad 1 "standard input holds more than $((N * 4)) bytes" sh -c "cat long.bin | PZARR_CLI_SPOOL_MEM=1 \"$PZARR\" put s -i -"
bad 1 "standard input holds $((N * 4 - 1)) bytes" sh -c "\"$PZARR\" put s -i - < short.bin"
bad 1 "standard input holds more than $((N * 4)) bytes" sh -c "cat long.bin | timeout 120 \"$MPIEXEC\" $NPFLAG 3 \"$PZARR\" put s -i -"
ok pz get s -o after && same before after "array unchanged after wrong-size stdin"

finish
