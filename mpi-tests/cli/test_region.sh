#!/bin/bash
# Region syntax: sub-regions of get and put checked against numpy, fill values
# of unwritten chunks, empty regions and 0-d arrays.
NAME=region
source "$(dirname "$0")/lib.sh"

SHAPE=11,9,6
N=$((11 * 9 * 6))
np gen int32 $N base.in 7
for fmt in 3 2; do
    a=r$fmt
    ok pz create $a --format $fmt --dtype int32 --shape $SHAPE --chunks 4,4,4 --fill 5
    # nothing written yet: everything is the fill value
    np full int32 $SHAPE 5 $a.fill.want
    ok pz get $a -o $a.fill && same $a.fill.want $a.fill "v$fmt: unwritten array reads the fill value"
    ok pz put $a -i base.in
    for region in "0:11,0:9,0:6" ":,:,:" ",," "3,4,5" "-1,-9,-6" "1:-1,:,2:" ":3,8:,:1" \
        "10,0:9,5" "4:4,:,:" "0:0,0:0,0:0" "-3:,-4:-1,"; do
        w=$a.want.$CHECKS
        np slice base.in int32 $SHAPE "$region" $w
        ok pz get $a --region="$region" -o $a.got && same $w $a.got "v$fmt: get --region $region"
    done
    # put into sub-regions, then compare the whole array with numpy
    cp base.in $a.state
    for region in "2:7,1:8,0:3" "0,:,:" "10,8,5" ":,4,:" "5:5,:,:"; do
        np slice base.in int32 $SHAPE "$region" $a.patch.tmp
        # the patch: the region's bytes of another random array
        np gen int32 $(($(stat -c %s $a.patch.tmp) / 4)) $a.patch $CHECKS
        ok pz put $a --region "$region" -i $a.patch
        np patch $a.state int32 $SHAPE "$region" $a.patch $a.state.next && mv $a.state.next $a.state
        ok pz get $a -o $a.after && same $a.state $a.after "v$fmt: after put --region $region"
    done
done

# empty regions give empty output and take empty input
ok pz create e --dtype float64 --shape 4,0,3 --chunks 2,1,2
ok pz get e -o e.out
CHECKS=$((CHECKS + 1))
[ -f e.out ] && [ ! -s e.out ] || fail "empty array: output not an empty file"
: >empty.in
ok pz put e -i empty.in
ok pz put r3 --region 2:2,:,: -i empty.in

# 0-d arrays
ok pz create s --dtype float64 --shape "" --fill 2.5
np full float64 "" 2.5 s.want
ok pz get s -o s.out && same s.want s.out "0-d: fill"
np gen float64 1 s.in 3
ok pz put s -i s.in
ok pz get s --region "" -o s.out && same s.in s.out "0-d: round trip"
bad 2 'takes no region' pz get s --region 0 -o s.out
ok pz create s2 --dtype int16 --shape "" --format 2
np gen int16 1 s2.in 4
ok pz put s2 -i s2.in && ok pz get s2 -o s2.out && same s2.in s2.out "0-d v2: round trip"
bad 1 'needs exactly 2 bytes' mpz 3 put s2 -i s.in
ok mpz 3 get s2 -o s2.out3 && same s2.in s2.out3 "0-d v2 under 3 ranks"

finish
