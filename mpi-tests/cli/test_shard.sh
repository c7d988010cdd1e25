#!/bin/bash
# Sharded arrays through the CLI: create --shard, put/get at several rank
# counts, info shows shards, clean removes a killed writer's temporaries.
NAME=shard
source "$(dirname "$0")/lib.sh"

ok pz create s --dtype int32 --shape 60,44 --chunks 6,4 --shard 30,24 --codec zstd:1
grep -q sharding_indexed s/zarr.json || fail "zarr.json lacks sharding_indexed"
head -c $((60 * 44 * 4)) /dev/urandom > in.bin
ok mpz 3 put s -i in.bin
ok pz get s -o out1.bin
same in.bin out1.bin "3-rank put, 1-rank get"
ok mpz 2 get s -o out2.bin
same in.bin out2.bin "2-rank get"
[ "$(find s/c -type f | wc -l)" -eq 4 ] || fail "expected 4 shard files, found $(find s/c -type f | wc -l)"
ok pz info s
has '^shards: +\[30, 24\]' "info shows the shard shape"
has '^chunks: +\[6, 4\]' "info shows the inner chunks"
has '^shards stored: +4 of 4' "info counts the shard files"

# A killed writer's leftover is ignored by readers and removed by clean.
echo junk > s/c/0/0.pzarr-tmp-shard
ok pz get s -o out3.bin
same in.bin out3.bin "read with a leftover temporary"
ok pz clean s
has 'removed 1 temporary files' "clean reports the removal"
[ ! -e s/c/0/0.pzarr-tmp-shard ] || fail "clean left the temporary file"

bad 2 'shard' pz create t --dtype int32 --shape 10 --chunks 4 --shard 6
bad 2 'format 3' pz create t --dtype int32 --shape 10 --chunks 5 --shard 10 --format 2
finish
