#!/usr/bin/env bash
# pzarr takes no file locks: run parallel writes (chunked and sharded) under
# strace and count fcntl/flock lock calls. The renames that replace chunks
# atomically must show up, which proves the trace saw the writes.
set -euo pipefail
mpiexec=$1 hello=$2 cli=$3 dir=$4
rm -rf "$dir" && mkdir -p "$dir"
log=$dir/strace.log
strace -f -qq -e trace=fcntl,flock,rename -o "$log.1" \
    "$mpiexec" -n 3 "$hello" "$dir/hello.zarr" >/dev/null
"$cli" create "$dir/sharded" --dtype int32 --shape 64,48 --chunks 8,8 --shard 32,24 --codec zstd:1
head -c $((64 * 48 * 4)) /dev/urandom > "$dir/in.bin"
strace -f -qq -e trace=fcntl,flock,rename -o "$log.2" \
    "$mpiexec" -n 3 "$cli" put "$dir/sharded" -i "$dir/in.bin"
"$cli" get "$dir/sharded" -o "$dir/out.bin"
cmp "$dir/in.bin" "$dir/out.bin"
cat "$log.1" "$log.2" > "$log"
locks=$(grep -cE 'F_SETLK|F_SETLKW|F_OFD_SETLK|flock\(' "$log" || true)
renames=$(grep -c 'rename(' "$log" || true)
echo "nolocks: $renames renames, $locks lock calls"
[ "$renames" -gt 0 ] && [ "$locks" -eq 0 ]
