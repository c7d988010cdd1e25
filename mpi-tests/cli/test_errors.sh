#!/bin/bash
# Errors: "pzarr: error: ..." on stderr, exit 1 (2 for usage), and nothing
# created or changed.
NAME=errors
source "$(dirname "$0")/lib.sh"

SHAPE=12,10
N=$((12 * 10))
np gen float64 $N in.bin 5
ok pz create a --dtype float64 --shape $SHAPE --chunks 5,4
ok pz put a -i in.bin
cp a/zarr.json meta.before

# wrong input sizes: nothing written
head -c $((N * 8 - 8)) /dev/urandom >short.bin
head -c $((N * 8 + 1)) /dev/urandom >long.bin
bad 1 "short.bin holds $((N * 8 - 8)) bytes but the region '\(all\)' of the float64 array of shape 12x10 needs exactly $((N * 8)) bytes" pz put a -i short.bin
bad 1 "long.bin holds $((N * 8 + 1)) bytes .*needs exactly $((N * 8)) bytes" pz put a -i long.bin
bad 1 "holds $((N * 8)) bytes but the region '0:2,:' .*needs exactly 160 bytes" pz put a --region 0:2,: -i in.bin
: >empty.bin
bad 1 "empty.bin holds 0 bytes" pz put a -i empty.bin
for n in 2 3; do
    bad 1 "short.bin holds $((N * 8 - 8)) bytes" mpz $n put a -i short.bin
    CHECKS=$((CHECKS + 1))
    [ "$(grep -c '^pzarr: error:' "$T/err")" -eq 1 ] || fail "error printed $(grep -c '^pzarr: error:' "$T/err") times under $n ranks"
done
ok pz get a -o after.bin && same in.bin after.bin "array unchanged after wrong-size puts"

# regions
bad 2 "dimension 0: '1:2:3' has more than one ':'" pz get a --region 1:2:3,: -o x
bad 2 "dimension 1: index 'b' is not an integer in \[0, 10\)" pz get a --region 0,b -o x
bad 2 "region '1,2,3' has more dimensions than the array's 2" pz get a --region 1,2,3 -o x
bad 2 "region '1' has 1 dimension, the array has 2" pz get a --region 1 -o x
bad 2 "dimension 0: stop '13' is not an integer in \[0, 12\]" pz get a --region 0:13,: -o x
bad 2 "dimension 1: index '10' is not an integer in \[0, 10\)" pz get a --region 0,10 -o x
bad 2 "dimension 1: index '-11' is not" pz get a --region 0,-11 -o x
bad 2 "dimension 0: start 5 is past stop 3" pz get a --region 5:3,: -o x
bad 2 "stop '99999999999999999999999'" pz put a --region 0:99999999999999999999999,: -i in.bin
expect_absent x "no output after a region error"
ok pz get a -o after.bin && same in.bin after.bin "array unchanged after region errors"

# paths
bad 2 'missing PATH' pz get
bad 1 'nope: No such file or directory' pz get nope -o x
bad 1 'nope: No such file or directory' pz info nope
bad 1 'nope: No such file or directory' pz put nope -i in.bin
expect_absent nope "put does not create a missing array directory"
bad 1 'in.bin: not a directory' pz info in.bin
mkdir -p plain
bad 1 'plain' pz get plain -o x
bad 1 'no Zarr array or group' pz info plain
bad 2 'missing -i FILE' pz put a
bad 1 'cannot read input missing.bin: No such file or directory' pz put a -i missing.bin
bad 1 'cannot write nodir/x' pz get a -o nodir/x
expect_absent x "no output after path errors"

# create: bad arguments create nothing
c() { bad 2 "$1" pz create new "${@:2}"; expect_absent new "create with bad arguments ($1)"; }
c "--dtype 'float65' is not a data type" --dtype float65 --shape 4
c "missing --dtype" --shape 4
c "missing --shape" --dtype int8
c "--shape '4,-1' is not" --dtype int8 --shape 4,-1
c "--chunks '2' has 1 dimensions, --shape '4,4' has 2" --dtype int8 --shape 4,4 --chunks 2
c "--chunks: dimension 1 is 0" --dtype int8 --shape 4,4 --chunks 2,0
c "unknown codec 'snappy'" --dtype int8 --shape 4 --codec snappy
c "codec lzma is a Zarr v2 \(numcodecs\) compressor" --dtype int8 --shape 4 --codec lzma
c "codec zstd: level '99' is not in" --dtype int8 --shape 4 --codec zstd:99
c "codec gzip: level '10' is not in 0..9" --dtype int8 --shape 4 --codec gzip:10
c "codec blosc: unknown compressor 'foo'" --dtype int8 --shape 4 --codec blosc:foo
c "codec blosc: unknown shuffle 'mix'" --dtype int8 --shape 4 --codec blosc:lz4:5:mix
c "codec crc32c needs format 3" --dtype int8 --shape 4 --format 2 --codec zstd+crc32c
c "codec zlib exists in Zarr v2 only" --dtype int8 --shape 4 --codec zlib:3
c "Zarr v2 arrays take a single compressor" --dtype int8 --shape 4 --format 2 --codec zstd+gzip
c "fill value 'abc' is not a valid float32 value" --dtype float32 --shape 4 --fill abc
c "fill value '256' is not a valid uint8 value" --dtype uint8 --shape 4 --fill 256
c "fill value '-129' is not a valid int8 value" --dtype int8 --shape 4 --fill -129
c "fill value '1e39' is not a valid float32 value" --dtype float32 --shape 4 --fill 1e39
c "fill value 'maybe' is not a valid bool value" --dtype bool --shape 4 --fill maybe
c "fill value null needs format 2" --dtype int8 --shape 4 --fill null
c "--format '4' is neither 3 nor 2" --dtype int8 --shape 4 --format 4
c "--order 'X' is neither C nor F" --dtype int8 --shape 4 --order X
c "--separator ':' is neither / nor ." --dtype int8 --shape 4 --separator :
c "--endian 'middle' is neither little nor big" --dtype int8 --shape 4 --endian middle
c "attributes '\[1\]' are not a JSON object" --dtype int8 --shape 4 --attrs '[1]'
c "--dims 'x' has 1 names, the array has 2" --dtype int8 --shape 4,4 --dimension-names x
c "--dims 'y,,x': dimension 1 has no name" --dtype int8 --shape 4,4,4 --format 2 --dims y,,x
c "unknown option '--colour'" --dtype int8 --shape 4 --colour red

# create over an existing array fails and leaves it alone
bad 1 'a' pz create a --dtype int8 --shape 3
same meta.before a/zarr.json "existing array metadata unchanged"
ok pz get a -o after.bin && same in.bin after.bin "existing array data unchanged"

# a corrupt chunk: get fails, names the problem, and leaves no output file
ok pz create z --dtype int32 --shape 8 --chunks 4 --codec zstd:1
np gen int32 8 z.in 6
ok pz put z -i z.in
printf 'garbage!' >z/c/1
bad 1 'z: reading' pz get z -o z.out
expect_absent z.out "failed get removes the output it created"
bad 1 'z: reading' mpz 2 get z -o z.out
expect_absent z.out "failed parallel get removes the output it created"
bad 1 'z: reading' mpz 2 get z -o -

# Malformed settings in the environment are refused, naming the variable.
ok pz create envarr --dtype int32 --shape 4 --chunks 2
head -c 16 /dev/zero >four.bin
PZARR_WRITE_LIMIT=banana bad 1 'PZARR_WRITE_LIMIT="banana"' pz put envarr -i four.bin
PZARR_WRITE_LIMIT=12Q bad 1 'PZARR_WRITE_LIMIT="12Q"' pz put envarr -i four.bin
PZARR_WRITE_LIMIT=0 bad 1 'PZARR_WRITE_LIMIT="0"' pz put envarr -i four.bin
PZARR_WRITE_LIMIT=64K ok pz put envarr -i four.bin
PZARR_CHUNK_IO=bogus bad 1 'PZARR_CHUNK_IO="bogus"' pz get envarr -o out.bin

# Sizes from metadata are checked: a huge sparse array's byte count is not
# wrapped around 2^64.
ok pz create huge --dtype float64 --shape 99999999999999,99999999999 --chunks 10000,10000
ok pz info huge
has '^logical bytes: +8e\+25 \(more than 2\^64\)$' "info shows the size past 2^64"
finish
