#!/bin/bash
# info: data type, shape, chunks, codecs, chunks stored, bytes and ratio, for
# v3 and v2 arrays and for groups; only rank 0 prints under mpiexec.
NAME=info
source "$(dirname "$0")/lib.sh"

ok pz create a3 --dtype float32 --shape 100,200 --chunks 10,20 --codec zstd:5 --attrs '{"units":"m"}' --fill 1.5
ok pz info a3
has '^node type: +array$' "v3 node type"
has '^zarr format: +3$' "v3 format"
has '^data type: +float32$' "v3 dtype"
has '^shape: +\[100, 200\]$' "v3 shape"
has '^chunks: +\[10, 20\]$' "v3 chunks"
has '^chunk grid: +\[10, 10\] = 100 chunks$' "v3 grid"
has '^codecs: +bytes\(endian=little\) zstd\(level=5, checksum=false\)$' "v3 codecs"
has '^fill value: +1.5$' "v3 fill"
has '^chunks stored: +0 of 100$' "v3 nothing stored"
has '^logical bytes: +80000 ' "v3 logical bytes"
has '^ratio: +-$' "v3 ratio without data"
has '^attributes: +\{"units": ?"m"\}$' "v3 attributes"

np gen float32 $((10 * 40)) part.bin 1
ok pz put a3 --region 0:10,0:40 -i part.bin
stored=$(find a3/c -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
ok pz info a3
has '^chunks stored: +2 of 100$' "v3 two chunks stored"
has "^stored bytes: +$stored " "v3 stored bytes"
ratio=$(awk -v s="$stored" 'BEGIN {printf "%.2f", 80000 / s}')
has "^ratio: +$ratio$" "v3 ratio"
# temporary files and keys outside the grid are not chunks
mkdir -p a3/c/10 && echo x >a3/c/10/0 && echo x >a3/c/0/1.pzarr-tmp.7 && echo x >a3/c/0/01
ok pz info a3 && has '^chunks stored: +2 of 100$' "stray files are not chunks"

ok pz info --json a3
cp "$T/out" a3.json
jcheck a3.json 'd["zarr_format"]==3 and d["shape"]==[100,200] and d["data_type"]=="float32"' "info --json"

# v2, F order, blosc, '/' separator
ok pz create a2 --format 2 --dtype int16 --shape 30,7 --chunks 8,7 --codec blosc:lz4:4:bitshuffle --order F --separator / --endian big
np gen int16 $((30 * 7)) a2.in 2
ok pz put a2 -i a2.in
ok pz info a2
has '^zarr format: +2$' "v2 format"
has '^data type: +int16 \(>i2\)$' "v2 dtype"
has '^shape: +\[30, 7\]$' "v2 shape"
has '^chunk grid: +\[4, 1\] = 4 chunks$' "v2 grid"
has "^codecs: +blosc\\(" "v2 codecs" && has "^codecs: .*cname=lz4" "v2 cname" && has "^codecs: .*clevel=4" "v2 clevel" && has "^codecs: .*shuffle=2" "v2 shuffle"
has '^order: +F$' "v2 order"
has '^chunks stored: +4 of 4$' "v2 chunks stored"
has '^logical bytes: +420 ' "v2 logical bytes"

# v3 with a transpose and crc32c, '.' keys
ok pz create t3 --dtype uint8 --shape 6,6,6 --chunks 3,3,3 --order F --codec gzip:2+crc32c --separator .
np gen uint8 216 t3.in 3
ok pz put t3 -i t3.in
ok pz info t3
has '^codecs: +transpose\(order=\[2,1,0\]\) bytes gzip\(level=2\) crc32c$' "v3 transpose chain (uint8: no endian)"
has '^chunks stored: +8 of 8$' "dot-separated keys counted"

# 0-d
ok pz create s --dtype complex64 --shape "" --fill 1,2
ok pz info s && has '^shape: +\[\]$' "0-d shape" && has '^chunk grid: +\[\] = 1 chunks$' "0-d grid" &&
    has '^fill value: +\[1, ?2\]$' "complex fill"

# a group and its children
mkdir -p grp
echo '{"zarr_format":3,"node_type":"group","attributes":{"title":"demo"}}' >grp/zarr.json
ok pz create grp/x --dtype int8 --shape 4 --chunks 2
mkdir -p grp/sub && echo '{"zarr_format":3,"node_type":"group","attributes":{}}' >grp/sub/zarr.json
ok pz info grp
has '^node type: +group$' "group node type"
has '^zarr format: +3$' "group format"
has '^attributes: +\{"title": ?"demo"\}$' "group attributes"
has '^  sub/$' "group lists its subgroup"
has '^  x  array int8 v3 \[4\] chunks \[2\]$' "group lists its array"

# sharded arrays and a hierarchy written by zarr-python 3 (zarrita.js fixtures)
FIX=${PZARR_FIXTURES:-}/zarrita-js/v3/data.zarr
if [ -d "$FIX" ]; then
    ok pz info "$FIX/2d.chunked.ragged.compressed.sharded.i2"
    has '^chunks: +\[1, 1\]$' "sharded: inner chunks"
    has '^shards: +\[2, 2\]$' "sharded: shard shape"
    has '^shard grid: +\[2, 2\] = 4 shards$' "sharded: shard grid"
    has '^codecs: +sharding_indexed\(chunk_shape=\[1,1\], codecs=\[bytes\(endian=little\) gzip\(level=5\)\], index_codecs=\[bytes\(endian=little\) crc32c\], index_location=end\)$' "sharded: codecs"
    has '^shards stored: +4 of 4$' "sharded: shards stored"
    ok pz info "$FIX/1d.chunked.filled.compressed.sharded.i2" && has '^shards stored: +1 of 2$' "sharded: absent shard"
    printf '\001\000\002\000\003\000\004\000\005\000\006\000\007\000\010\000\011\000' >sharded.want
    ok pz get "$FIX/2d.chunked.ragged.compressed.sharded.i2" -o sharded.got && same sharded.want sharded.got "sharded fixture values"
    ok pz info "$FIX/3d.chunked.mixed.i2.F" && has '^codecs: +transpose\(order=\[2,1,0\]\) bytes\(endian=little\) blosc\(' "fixture F order codecs"
    ok pz ls "$FIX" && has '1d.chunked.string.vlen  array' "ls lists string arrays"
    ok pz info "$FIX/1d.chunked.string.vlen" && has '^data type: +string' "info names the string type"
    ok pz ls "$FIX/../../v2/data.zarr" && has '1d.contiguous.json2.O  array \(unsupported: ' "ls marks unsupported arrays"
    ok pz info "$FIX" && has '^  consolidated/$' "info of the fixture root lists its groups"
fi

# only rank 0 prints
ok mpz 2 info a3
CHECKS=$((CHECKS + 1))
[ "$(grep -c '^node type:' "$T/out")" -eq 1 ] || fail "info under 2 ranks printed $(grep -c '^node type:' "$T/out") descriptions"
has '^chunks stored: +2 of 100$' "info under 2 ranks"

finish
