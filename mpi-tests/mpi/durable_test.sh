#!/bin/bash
# PZARR_DURABLE (pzarr put --durable), checked under strace at 2 ranks, for
# a chunked and a sharded array: every file the flush publishes was synced
# (fdatasync, or fsync through MPI-IO) before the commit record was renamed
# into place, and its directory was fsync'ed after the file was renamed.
#   durable_test.sh MPIEXEC PZARR_CLI WORKDIR
set -u
MPIEXEC=$1
PZARR=$2
WORK=$3
command -v strace >/dev/null || { echo "durable: skipped: no strace"; exit 77; }
rm -rf "$WORK"
mkdir -p "$WORK"
head -c $((64 * 64 * 8)) /dev/urandom >"$WORK/data.bin"

run() { # NAME CREATE-OPTIONS...
    local name=$1
    shift
    "$PZARR" create "$WORK/$name" --dtype float64 --shape 64,64 --chunks 16,16 --codec zstd:1 "$@" \
        >/dev/null || { echo "durable: FAILED: create $name"; exit 1; }
    strace -ff -ttt -o "$WORK/trace.$name" \
        -e trace=openat,open,fdatasync,fsync,rename,renameat,renameat2,close \
        "$MPIEXEC" -n 2 "$PZARR" put "$WORK/$name" -i "$WORK/data.bin" -q --durable ||
        { echo "durable: FAILED: put $name"; exit 1; }
    /usr/bin/env python3 - "$WORK" "$name" <<'EOF' || exit 1
import glob, os, re, sys
work, name = sys.argv[1], sys.argv[2]
arr = os.path.join(work, name)
line_re = re.compile(r'^(\d+\.\d+) (\w+)\((.*)\) += (-?\d+)')
synced = {}      # path -> earliest sync time
dir_synced = []  # (time, dir)
renames = []     # (time, from, to)
for f in glob.glob(os.path.join(work, 'trace.%s.*' % name)):
    fds = {}
    for line in open(f):
        m = line_re.match(line)
        if not m:
            continue
        t, call, args, ret = float(m.group(1)), m.group(2), m.group(3), int(m.group(4))
        paths = re.findall(r'"((?:[^"\\]|\\.)*)"', args)
        if call in ('openat', 'open') and ret >= 0 and paths:
            fds[ret] = paths[0]
        elif call == 'close':
            fds.pop(int(args.split(',')[0]), None)
        elif call in ('fdatasync', 'fsync') and ret == 0:
            p = fds.get(int(args.split(',')[0]))
            if p is None:
                continue
            if os.path.isdir(p):
                dir_synced.append((t, os.path.normpath(p)))
            synced.setdefault(p, t)
            synced[p] = min(synced[p], t)
        elif call.startswith('rename') and ret == 0 and len(paths) == 2:
            renames.append((t, paths[0], paths[1]))
record = [r for r in renames if r[2].endswith('/.pzarr-commit')]
if len(record) != 1:
    sys.exit('durable: FAILED: %s: %d commit records renamed into place, want 1' % (name, len(record)))
tc = record[0][0]
checked = 0
for t, src, dst in renames:
    if not dst.startswith(arr) or '.pzarr-tmp' not in src:
        continue
    if dst.endswith('/.pzarr-commit') or dst.endswith('zarr.json'):
        limit = t  # the record and documents: synced before their own rename
    else:
        limit = tc  # data: synced before the commit
        if t < tc:
            sys.exit('durable: FAILED: %s published before the commit' % dst)
    if src not in synced or synced[src] > limit:
        sys.exit('durable: FAILED: %s was not synced before %s' % (src, 'its rename' if limit == t else 'the commit'))
    d = os.path.normpath(os.path.dirname(dst))
    if not any(ts >= t and dd == d for ts, dd in dir_synced):
        sys.exit('durable: FAILED: directory %s not fsync\'ed after %s was renamed' % (d, dst))
    checked += 1
if checked < 2:
    sys.exit('durable: FAILED: %s: only %d published files seen' % (name, checked))
print('durable %s: %d published files, each synced before the commit and its directory after' % (name, checked))
EOF
}
run chunked
run sharded --shard 32,32
echo "durable: ok"
