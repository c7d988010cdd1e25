#!/bin/bash
# create -> put -> get gives back the same bytes, for v2 and v3, every codec,
# both orders, both separators, both byte orders and many data types. Zarr v2
# arrays are also read back with zarr-python when it is importable.
NAME=roundtrip
source "$(dirname "$0")/lib.sh"

SHAPE=13,7,5
CHUNKS=4,3,2
N=$((13 * 7 * 5))
DTYPES=(float64 int16 uint8 complex64 int32 float32 uint64 bool int8 float16 complex128 uint16 int64 uint32)
CODECS3=(none zstd:3 blosc:lz4:5:shuffle blosc:zstd:3:bitshuffle blosc:blosclz:1:noshuffle gzip:6 zstd:1+crc32c)
CODECS2=(none zstd:3 blosc:lz4:5:shuffle blosc:zlib:2:bitshuffle gzip:6 zlib:4)
have_zarr=1
np zarr2 /nonexistent /nonexistent 2>/dev/null
[ $? -eq 3 ] && have_zarr=0

i=0
for fmt in 3 2; do
    if [ $fmt = 3 ]; then codecs=("${CODECS3[@]}"); else codecs=("${CODECS2[@]}"); fi
    for codec in "${codecs[@]}"; do
        for variant in 0 1; do
            dt=${DTYPES[$((i % ${#DTYPES[@]}))]}
            order=C; [ $(((i + variant) % 2)) = 1 ] && order=F
            sep=/; [ $(((i / 2 + variant) % 2)) = 1 ] && sep=.
            endian=little; [ $(((i / 3 + variant) % 2)) = 1 ] && endian=big
            a="a$i-v$fmt-$dt-$order-$endian"
            i=$((i + 1))
            what="v$fmt $dt codec=$codec order=$order sep=$sep endian=$endian"
            np gen "$(npdtype $dt)" $N "$a.in" $i || { fail "gen $what"; continue; }
            ok pz create "$a" --format $fmt --dtype $dt --shape $SHAPE --chunks $CHUNKS \
                --codec "$codec" --order $order --separator "$sep" --endian $endian || continue
            ok pz put "$a" -i "$a.in" || continue
            ok pz get "$a" -o "$a.out" && same "$a.in" "$a.out" "$what: get after put"
            ok_to "$a.stdout" pz get "$a" && same "$a.in" "$a.stdout" "$what: get to stdout"
            # chunk files use the separator asked for
            CHECKS=$((CHECKS + 1))
            if [ $fmt = 3 ] && [ "$sep" = / ]; then key="$a/c/1/2/0"
            elif [ $fmt = 3 ]; then key="$a/c.1.2.0"
            elif [ "$sep" = / ]; then key="$a/1/2/0"
            else key="$a/1.2.0"; fi
            [ -f "$key" ] || fail "$what: chunk file $key missing"
            # a sub-region, checked against numpy
            np slice "$a.in" "$(npdtype $dt)" $SHAPE "2:11,1:,3" "$a.sub.want"
            ok pz get "$a" --region 2:11,1:,3 -o "$a.sub" && same "$a.sub.want" "$a.sub" "$what: sub-region"
            if [ $fmt = 2 ] && [ $have_zarr = 1 ]; then
                ok np zarr2 "$a" "$a.in" || cat "$T/out" >&2
            fi
        done
    done
done

# big-endian, F-order v2 arrays written by zarr-python read back through pzarr
if [ $have_zarr = 1 ]; then
    ok "$PY" -c '
import numpy as np, zarr
a = np.arange(13*7*5, dtype=">f8").reshape(13, 7, 5)
z = zarr.open_array("zp", mode="w", shape=a.shape, chunks=(4, 3, 2), dtype=">f8", order="F")
z[...] = a
a.astype("=f8").tofile("zp.want")'
    ok pz get zp -o zp.out && same zp.want zp.out "zarr-python v2 array read by pzarr"
fi

finish
