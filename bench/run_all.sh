#!/bin/bash
# Runs every benchmark (pzarr-bench patterns, h5bench, zp_bench.py) at 1, 2
# and 4 ranks and writes one Markdown report.
#
#   bash bench/run_all.sh [BUILD_DIR] [OUT]     (default: build, bench/results.md; OUT "-" = stdout)
#   RANKS="1 2" REPS=5 bash bench/run_all.sh build-bench
#   SCALE_RANKS="2 4 8" ...     (the scale pattern's rank counts; "" skips it)
#
# h5bench runs only if it was built (libhdf5-mpich-dev installed), zp_bench.py
# only if /usr/bin/python3 has zarr. A run that fails is listed in the report.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
out=${2:-$here/results.md}
bin=$build/bin
RANKS=${RANKS-"1 2 4"}
REPS=${REPS:-3}
PY=${PY:-/usr/bin/python3}
MPIEXEC=${MPIEXEC:-mpiexec}

if [ ! -x "$bin/pzarr-bench" ]; then
    echo "run_all.sh: $bin/pzarr-bench not found; build first:" >&2
    echo "  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j" >&2
    exit 2
fi
res=$(mktemp -d /tmp/pzarr-bench-results.XXXXXX)
trap 'rm -rf "$res"' EXIT

# run NAME CMD...: CMD's JSON goes to $res/NAME.json; a failure is recorded.
run() {
    local name=$1
    shift
    echo "[run_all] $name: $*" >&2
    "$@" --json >"$res/$name.json" 2>"$res/$name.err"
    local st=$?
    if [ $st -ne 0 ]; then
        printf '{"failed": "%s: exit status %s: %s"}\n' "$*" "$st" \
            "$(tail -c 300 "$res/$name.err" | tr '\n"\\' '   ')" >"$res/$name.json"
    fi
}

load_start=$(uptime | sed 's/.*load average: //')
for n in $RANKS; do
    mpi="$MPIEXEC -n $n"
    for codec in none zstd:1 blosc:lz4:5:shuffle gzip:1; do
        run "ckpt-${codec//:/_}-np$n" $mpi "$bin/pzarr-bench" checkpoint --codec "$codec" --reps "$REPS"
    done
    run "ckpt-misaligned-np$n" $mpi "$bin/pzarr-bench" checkpoint --misaligned --reps "$REPS"
    # Sharded: 64 inner chunks of 32^3 in 8 shard files of 64^3.
    for codec in none zstd:1; do
        run "ckpt-shard-${codec//:/_}-np$n" $mpi "$bin/pzarr-bench" checkpoint --codec "$codec" \
            --shard 64,64,64 --reps "$REPS"
    done
    run "restart-none-np$n" $mpi "$bin/pzarr-bench" restart --reps "$REPS"
    # PZARR_DURABLE: every file synced before the commit.
    run "ckpt-none-durable-np$n" $mpi "$bin/pzarr-bench" checkpoint --durable --reps "$REPS"
    # The same on tmpfs, to separate the file system's cost of creating files.
    if [ -d /dev/shm ]; then
        run "ckpt-none-tmpfs-np$n" $mpi "$bin/pzarr-bench" checkpoint --reps "$REPS" \
            --dir "/dev/shm/pzarr-bench-$$-$n"
        run "ckpt-none-tmpfs-durable-np$n" $mpi "$bin/pzarr-bench" checkpoint --durable \
            --reps "$REPS" --dir "/dev/shm/pzarr-bench-$$-$n"
        run "ckpt-shard-tmpfs-np$n" $mpi "$bin/pzarr-bench" checkpoint --shard 64,64,64 \
            --reps "$REPS" --dir "/dev/shm/pzarr-bench-$$-$n"
        run "restart-none-tmpfs-np$n" $mpi "$bin/pzarr-bench" restart --reps "$REPS" \
            --dir "/dev/shm/pzarr-bench-$$-$n"
    fi
    run "restart-blosc-np$n" $mpi "$bin/pzarr-bench" restart --codec blosc:lz4:5:shuffle --reps "$REPS"
    run "postproc-np$n" $mpi "$bin/pzarr-bench" postproc --reps "$REPS"
    run "small-np$n" $mpi "$bin/pzarr-bench" smallchunks --codec blosc:lz4:5:shuffle --reps "$REPS"
    run "open-np$n" $mpi "$bin/pzarr-bench" open --reps "$REPS"
    if [ -x "$bin/h5bench" ]; then
        run "h5-none-np$n" $mpi "$bin/h5bench" checkpoint --codec none --reps "$REPS"
        run "h5-gzip_1-np$n" $mpi "$bin/h5bench" checkpoint --codec gzip:1 --reps "$REPS"
    fi
    if "$PY" -c "import zarr" 2>/dev/null; then
        run "zp-np$n" "$PY" "$here/zarr_python/zp_bench.py" --procs "$n" --reps "$REPS" \
            --codec blosc:lz4:5:shuffle
    fi
done
# The data path (issue 10): a 512x256x256 float64 array (256 MiB), 2 ranks,
# tmpfs, each rank its x-slab; DP_SHAPE/DP_RANKS change it ("" skips).
DP_SHAPE=${DP_SHAPE-512,256,256}
DP_RANKS=${DP_RANKS:-2}
if [ -n "$DP_SHAPE" ] && [ -d /dev/shm ]; then
    mpi="$MPIEXEC -n $DP_RANKS"
    dp="--shape $DP_SHAPE --reps $REPS --dir /dev/shm/pzarr-bench-$$-dp"
    for spec in "8m:--chunks 16,256,256" "256k:--chunks 32,32,32" \
        "zstd:--chunks 32,32,32 --codec zstd:1" \
        "blosc:--chunks 32,32,32 --codec blosc:lz4:5:shuffle" \
        "shard:--chunks 32,32,32 --shard 64,256,256"; do
        name=${spec%%:*}
        # shellcheck disable=SC2086
        run "dp-ckpt-$name" $mpi "$bin/pzarr-bench" checkpoint $dp ${spec#*:}
        # shellcheck disable=SC2086
        run "dp-restart-$name" $mpi "$bin/pzarr-bench" restart --axis 0 $dp ${spec#*:}
    done
    # The 8 MiB chunks at 1 rank too: restart reads against POSIX at 1 and 2.
    if [ "$DP_RANKS" != 1 ]; then
        # shellcheck disable=SC2086
        run "dp1-ckpt-8m" $MPIEXEC -n 1 "$bin/pzarr-bench" checkpoint $dp --chunks 16,256,256
        # shellcheck disable=SC2086
        run "dp1-restart-8m" $MPIEXEC -n 1 "$bin/pzarr-bench" restart --axis 0 $dp \
            --chunks 16,256,256
    fi
    # Against parallel HDF5 on tmpfs: 256^3 (128 MiB), chunks 32x64x64.
    h5="--shape 256,256,256 --chunks 32,64,64 --reps $REPS --dir /dev/shm/pzarr-bench-$$-h5"
    for codec in none gzip:1; do
        # shellcheck disable=SC2086
        run "dp-h5pz-${codec//:/_}" $mpi "$bin/pzarr-bench" checkpoint --codec "$codec" $h5
        if [ -x "$bin/h5bench" ]; then
            # shellcheck disable=SC2086
            run "dp-h5-${codec//:/_}" $mpi "$bin/h5bench" checkpoint --codec "$codec" $h5
        fi
    done
fi
# Copy (issue 18): a 512x256x256 float64 checkpoint (256 MiB; 1024x512x256,
# 1 GiB) in 32^3 zstd:1 chunks rechunked to 512x16x16 zstd:1 and to v2 zfp
# accuracy 1e-3, beside pzarr's read_all + write floor and dask + zarr-python
# on the same store; the peak per rank at the same budget for 256 MiB and
# 4 GiB (CP_RANKS="" skips; CP_BIG=0 skips the 4 GiB case).
CP_RANKS=${CP_RANKS-1 2}
if [ -n "$CP_RANKS" ] && [ -d /dev/shm ]; then
    cpdir=/dev/shm/pzarr-bench-$$-cp
    for n in $CP_RANKS; do
        for shape in 512,256,256 1024,512,256; do
            tag=$([ "$shape" = 512,256,256 ] && echo 256m || echo 1g)
            run "copy-zstd-$tag-np$n" $MPIEXEC -n "$n" "$bin/pzarr-bench" copy --shape "$shape" \
                --codec zstd:1 --format 2 --reps "$REPS" --dir "$cpdir"
            run "copy-zfp-$tag-np$n" $MPIEXEC -n "$n" "$bin/pzarr-bench" copy --shape "$shape" \
                --codec zstd:1 --format 2 --to-codec zfp:accuracy:0.001 --to-format 2 \
                --reps "$REPS" --dir "$cpdir"
        done
    done
    # dask + zarr-python, 2 threads, on the source pzarr-bench leaves (--keep)
    if "$PY" -c "import dask, zarr" 2>/dev/null; then
        for shape in 512,256,256 1024,512,256; do
            tag=$([ "$shape" = 512,256,256 ] && echo 256m || echo 1g)
            mkdir -p "$cpdir-dask" # made here, so that pzarr-bench leaves it (and the source)
            run "copy-src-$tag" $MPIEXEC -n 1 "$bin/pzarr-bench" copy --shape "$shape" --codec zstd:1 \
                --format 2 --keep --reps 1 --no-floor --dir "$cpdir-dask"
            nx=${shape%%,*}
            for c in zstd:1 zfp:accuracy:0.001; do
                run "dask-${c//:/_}-$tag" "$PY" "$here/zarr_python/zp_rechunk.py" \
                    "$cpdir-dask/src.zarr/a" --to-chunks "$nx,16,16" --codec "$c" --threads 2 \
                    --reps "$REPS"
            done
            rm -rf "$cpdir-dask"
        done
    fi
    # memory: the same budget (256 MiB) for a 256 MiB and a 4 GiB array
    for n in $CP_RANKS; do
        run "copy-mem-256m-np$n" $MPIEXEC -n "$n" "$bin/pzarr-bench" copy --shape 512,256,256 \
            --codec zstd:1 --memory 256 --reps 1 --no-floor --dir "$cpdir"
        if [ "${CP_BIG:-1}" != 0 ]; then
            run "copy-mem-4g-np$n" $MPIEXEC -n "$n" "$bin/pzarr-bench" copy --shape 2048,512,512 \
                --codec zstd:1 --memory 256 --reps 1 --no-floor --dir "$cpdir"
        fi
    done
    rm -rf "$cpdir"
fi
# Python (issue 19): each rank's slab of the copy pattern's 256 MiB source
# (float64, 32^3 chunks, zstd:1, v2, tmpfs) read with read_all from Python
# into numpy and summed, beside the C API doing the same in the same run,
# and dask + zarr-python (2 threads); xarray open + load of 16 variables,
# engine="pzarr" against open_zarr. PY_RANKS="" skips.
PY_RANKS=${PY_RANKS-1 2}
if [ -n "$PY_RANKS" ] && [ -d "$build/python/pzarr" ] && [ -d /dev/shm ]; then
    pyd=/dev/shm/pzarr-bench-$$-py
    mkdir -p "$pyd"
    run "py-src" $MPIEXEC -n 1 "$bin/pzarr-bench" copy --shape 512,256,256 --codec zstd:1 \
        --format 2 --keep --reps 1 --no-floor --dir "$pyd"
    for i in 1 2; do
        for n in $PY_RANKS; do
            mkdir -p "$pyd/t$n-$i"
            run "py-read-np$n-$i" env PYTHONPATH="$build/python" $MPIEXEC -n "$n" "$PY" \
                "$here/python/py_read.py" pzarr "$pyd/src.zarr" a "$REPS" "$pyd/t$n-$i"
            run "c-read-np$n-$i" $MPIEXEC -n "$n" "$bin/pzarr-slab-read" "$pyd/src.zarr" a "$REPS"
        done
        if "$PY" -c "import dask, zarr" 2>/dev/null; then
            run "dask-read-$i" "$PY" "$here/python/py_read.py" dask "$pyd/src.zarr/a" "$REPS" 2
        fi
        run "codec-read-$i" "$PY" "$here/python/py_read.py" codec "$pyd/src.zarr/a" "$REPS"
        run "xr-open-$i" env PYTHONPATH="$build/python" "$PY" "$here/python/xr_open.py" "$pyd" \
            "$((REPS > 5 ? REPS : 5))"
    done
    rm -rf "$pyd"
fi
# Overlap (issue 20): compute (the heat stencil) + a checkpoint every
# interval, none / blocking / iflush, 128^3 float64; tmpfs at 1 rank (a spare
# core) and 2 (none), codecs none and zstd:1; ext4 (the default scratch
# directory) with --durable at 2 ranks. Twice each; 24 intervals a mode on
# tmpfs (this VM's host makes medians of fewer swing). OV_RANKS="" skips.
OV_RANKS=${OV_RANKS-1 2}
if [ -n "$OV_RANKS" ]; then
    for i in 1 2; do
        for n in $OV_RANKS; do
            for codec in none zstd:1; do
                [ -d /dev/shm ] && run "overlap-${codec//:/_}-np$n-$i" $MPIEXEC -n "$n" \
                    "$bin/pzarr-bench" overlap --codec "$codec" --intervals 24 \
                    --dir "/dev/shm/pzarr-bench-$$-ov"
            done
        done
        run "overlap-durable-np2-$i" $MPIEXEC -n 2 "$bin/pzarr-bench" overlap --codec zstd:1 --durable
    done
fi
# zfp inside pzarr's codec chain against libzfp alone, one core.
if [ -x "$bin/pzarr-zfp-bench" ]; then
    "$bin/pzarr-zfp-bench" --reps "$((REPS > 3 ? REPS : 3))" --json >"$res/zfp.json" 2>"$res/zfp.err" ||
        printf '{"failed": "pzarr-zfp-bench: %s"}\n' "$(tail -c 300 "$res/zfp.err" | tr '\n"' '  ')" >"$res/zfp.json"
fi
# Scale without a cluster: flush and read_all at 2-64 ranks, oversubscribed,
# small data, default ownership (SCALE_RANKS="" to skip; ~8 minutes here).
for n in ${SCALE_RANKS-2 4 8 16 32 64}; do
    for decomp in slab 2d 3d; do
        for layout in aligned misaligned; do
            run "scale-$decomp-$layout-np$n" $MPIEXEC -n "$n" "$bin/pzarr-bench" scale \
                --decomp "$decomp" --"$layout" --reps 1 --dir "/dev/shm/pzarr-bench-$$-scale"
        done
    done
done
echo "at start: $load_start; at end: $(uptime | sed 's/.*load average: //')" >"$res/loadavg.txt"

if [ "$out" = "-" ]; then
    "$PY" "$here/report.py" "$res"
else
    "$PY" "$here/report.py" "$res" >"$out" && echo "[run_all] wrote $out" >&2
fi
