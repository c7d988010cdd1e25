#!/bin/bash
# put and get under mpiexec -n 2 and -n 3 give the same bytes, and the same
# stored files, as -n 1; also with tiny blocks (many rounds and flushes) and
# sub-regions checked against numpy.
NAME=parallel
source "$(dirname "$0")/lib.sh"

SHAPE=23,9,7
N=$((23 * 9 * 7))
np gen float64 $N in.bin 11
for fmt in 3 2; do
    for n in 1 2 3; do
        a=p$fmt-n$n
        ok mpz $n create $a --format $fmt --dtype float64 --shape $SHAPE --chunks 5,4,3 --codec zstd:3 || continue
        ok mpz $n put $a -i in.bin
        ok mpz $n get $a -o $a.file && same in.bin $a.file "v$fmt: get -o under $n ranks"
        ok_to $a.stdout mpz $n get $a -o - && same in.bin $a.stdout "v$fmt: get -o - under $n ranks"
        if [ $n -gt 1 ]; then
            CHECKS=$((CHECKS + 1))
            diff -r p$fmt-n1 $a >/dev/null || fail "v$fmt: stored files written by $n ranks differ from 1 rank's"
        fi
        # read what another rank count wrote
        ok mpz $n get p$fmt-n1 -o $a.cross && same in.bin $a.cross "v$fmt: $n ranks read 1 rank's array"
    done
done

# tiny blocks: many rounds, blocks split inside rows, F order and blosc
export PZARR_CLI_BLOCK_BYTES=40
np gen int16 $N in16.bin 12
for n in 1 2 3; do
    a=tiny-n$n
    ok pz create $a --dtype int16 --shape $SHAPE --chunks 4,4,4 --codec blosc:lz4:5:shuffle --order F
    ok mpz $n put $a -i in16.bin
    ok mpz $n get $a -o $a.file && same in16.bin $a.file "tiny blocks: get -o under $n ranks"
    ok_to $a.stdout mpz $n get $a && same in16.bin $a.stdout "tiny blocks: get to stdout under $n ranks"
    # the stored files, before the region put below changes them
    if [ $n = 1 ]; then
        cp -r $a tiny-ref
    else
        CHECKS=$((CHECKS + 1))
        diff -r tiny-ref $a >/dev/null || fail "tiny blocks: stored files of $n ranks differ from 1 rank's"
    fi
    for region in "3:20,2:7,1:6" "22,:,:" "0:2,8,:" "-5:,:-2,3:"; do
        np slice in16.bin int16 $SHAPE "$region" want
        ok mpz $n get $a --region "$region" -o got && same want got "tiny blocks, $n ranks, get --region $region"
        ok_to got mpz $n get $a --region "$region" && same want got "tiny blocks, $n ranks, get --region $region to stdout"
    done
    # put a sub-region in parallel
    np gen int16 $((17 * 5 * 5)) patch.bin $((20 + n))
    ok mpz $n put $a --region "3:20,2:7,1:6" -i patch.bin
    np patch in16.bin int16 $SHAPE "3:20,2:7,1:6" patch.bin want
    ok mpz $n get $a -o got && same want got "tiny blocks: put --region under $n ranks"
done
unset PZARR_CLI_BLOCK_BYTES

# blocks smaller than a row (split along the last axis) and than an element
np gen int16 $((4 * 3 * 5)) small.bin 14
for bytes in 6 1; do
    a=sub-$bytes
    ok pz create $a --dtype int16 --shape 4,3,5 --chunks 3,2,2 --codec gzip:1
    ok env PZARR_CLI_BLOCK_BYTES=$bytes timeout 120 "$MPIEXEC" $NPFLAG 3 "$PZARR" put $a -i small.bin
    ok pz get $a -o got && same small.bin got "blocks of $bytes bytes: put under 3 ranks"
    np slice small.bin int16 4,3,5 "1:4,1:3,1:4" want
    ok env PZARR_CLI_BLOCK_BYTES=$bytes timeout 120 "$MPIEXEC" $NPFLAG 2 "$PZARR" get $a --region 1:4,1:3,1:4 -o got &&
        same want got "blocks of $bytes bytes: get --region under 2 ranks"
    ok_to got env PZARR_CLI_BLOCK_BYTES=$bytes timeout 120 "$MPIEXEC" $NPFLAG 3 "$PZARR" get $a --region 1:4,1:3,1:4 &&
        same want got "blocks of $bytes bytes: get --region to stdout under 3 ranks"
done

# more ranks than rows: some ranks have no data
ok pz create few --dtype uint32 --shape 2,50 --chunks 1,16
np gen uint32 100 few.in 13
ok mpz 3 put few -i few.in
ok mpz 3 get few -o few.out && same few.in few.out "3 ranks, 2 rows"
ok mpz 3 get few --region 1,10:20 -o few.sub
np slice few.in uint32 2,50 1,10:20 few.want && same few.want few.sub "3 ranks, one row region"

finish
