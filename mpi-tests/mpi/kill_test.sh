#!/bin/bash
# A flush is all or nothing (see mpi_kill.c), whenever the job dies.
#
#   kill_test.sh MPIEXEC MPI_KILL MODE NP WORKDIR [RANDOM_KILLS] [SECONDS] [PZARR_CLI]
#
# 1. Random kills: an NP-rank writer rewrites the array generation after
#    generation; the whole job (mpiexec, the proxy, the ranks) gets SIGKILL
#    after a random 0.05-0.5 s. A 1-rank read-only reader must then see one
#    generation in every element: the one before the writer ran, or one the
#    writer was flushing or had flushed.
# 2. Kills at fixed points of the commit (PZARR_TEST_KILL_AT, one rank exits
#    there): before the commit record (the reader sees the old generation),
#    just after it, before and during the publishing (the new one, read
#    through the record, then finished by pzarr_clean or by the next open
#    for writing).
# 3. A complete run, then pzarr_clean: no temporary file or record is left.
set -u
MPIEXEC=$1
BIN=$2
MODE=$3
NP=$4
WORK=$5
KILLS=${6:-8}
BUDGET=${7:-60}
CLI=${8:-}

die() {
    echo "kill test $MODE np$NP: FAILED: $*"
    exit 1
}

# Every descendant of process $1 (hydra's proxy puts each rank in a session
# of its own, so the job is killed by the ids of its processes).
descendants() {
    local kids
    kids=$(ps -eo pid=,ppid= | awk -v p="$1" '$2 == p { print $1 }')
    for k in $kids; do
        echo "$k"
        descendants "$k"
    done
}

mpid=""
cleanup() {
    [ -n "$mpid" ] && kill -9 "$mpid" $(descendants "$mpid") 2>/dev/null
}
trap cleanup EXIT

kill_job() {
    local job
    job="$mpid $(descendants "$mpid")"
    kill -9 $job 2>/dev/null
    wait "$mpid" 2>/dev/null
    for ((w = 0; w < 100; w++)); do
        alive=""
        for p in $job; do
            st=$(ps -o stat= -p "$p" 2>/dev/null)
            [ -n "$st" ] && [ "${st#Z}" = "$st" ] && alive="$alive $p"
        done
        [ -z "$alive" ] && break
        sleep 0.05
    done
    [ -n "$alive" ] && die "processes$alive outlived SIGKILL"
    mpid=""
}

ARR=$WORK/store
rm -rf "$WORK"
mkdir -p "$WORK" || die "cannot create $WORK"
"$MPIEXEC" -n "$NP" "$BIN" "$MODE" init "$ARR" || die "init failed"

# check: sets gen, len, tmp, record from the reader's line.
check() {
    out=$("$MPIEXEC" -n 1 "$BIN" "$MODE" check "$ARR" 2>&1) || die "$1: $out"
    line=$(echo "$out" | grep '^gen=')
    gen=$(echo "$line" | sed 's/gen=\([0-9]*\).*/\1/')
    len=$(echo "$line" | sed 's/.*len=\([0-9]*\).*/\1/')
    tmp=$(echo "$line" | sed 's/.*tmp=\([0-9]*\).*/\1/')
    record=$(echo "$line" | sed 's/.*record=\([0-9]*\).*/\1/')
    [ -n "$gen" ] || die "$1: no generation in: $out"
}

check "after init"
prev=$gen
prevlen=$len
kills=0
start=$SECONDS
for ((it = 1; it <= KILLS; it++)); do
    ((SECONDS - start > BUDGET)) && break
    # Generations of run it start at it * 10^6: a fast run's thousands of
    # flushes before its kill never reach the next run's.
    base=$((it * 1000000))
    log=$WORK/writer.$it.log
    "$MPIEXEC" -n "$NP" "$BIN" "$MODE" writer "$ARR" "$base" >"$log" 2>&1 &
    mpid=$!
    for ((w = 0; w < 400; w++)); do
        grep -q '^ready' "$log" 2>/dev/null && break
        kill -0 "$mpid" 2>/dev/null || break
        sleep 0.025
    done
    grep -q '^ready' "$log" || die "iteration $it: the writer did not start: $(cat "$log")"
    delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.3f", 0.05 + 0.45 * r / 32767 }')
    sleep "$delay"
    kill_job
    kills=$((kills + 1))
    flushed=$(grep -c '^flushed' "$log")
    check "random kill $it after ${delay}s"
    # One generation everywhere (the reader checked); which one: the old, or
    # one of this run. (The "flushed" lines are a lower bound: hydra forwards
    # the ranks' output, and the kill can drop what is still on its way.)
    if [ "$gen" != "$prev" ]; then
        ((gen > base && gen >= base + flushed)) ||
            die "random kill $it: generation $gen, before $prev, this run flushed $flushed from $base"
    fi
    ((len >= prevlen)) || die "random kill $it: the array shrank from $prevlen to $len steps"
    echo "random kill $it after ${delay}s ($flushed flushes done): gen=$gen len=$len tmp=$tmp record=$record"
    prev=$gen
    prevlen=$len
done

# Kills at fixed points: WHERE:RANK, the generation the reader must see, then
# how the flush gets finished.
fixed=0
fixed_kills=0
last=$((NP - 1))
specs=("record:0 old clean" "committed:$last new clean" "publish:0 new clean"
       "publishing:$last new writer" "publishing:0 new clean")
# A checkpoint in the background: killed while a worker writes, and after
# the workers, inside pzarr_wait before the commit: the old generation.
[ "$MODE" = async ] && specs+=("background:$last old clean" "background:0 old clean"
                               "waiting:0 old clean")
for spec in "${specs[@]}"; do
    set -- $spec
    point=$1 want=$2 finish=$3
    base=$(((KILLS + 1 + fixed) * 1000000))
    PZARR_TEST_KILL_AT=$point "$MPIEXEC" -n "$NP" "$BIN" "$MODE" writer "$ARR" "$base" 1 \
        >"$WORK/fixed.$fixed.log" 2>&1 &
    mpid=$!
    for ((w = 0; w < 600; w++)); do
        kill -0 "$mpid" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$mpid" 2>/dev/null && kill_job
    wait "$mpid" 2>/dev/null
    status=$?
    mpid=""
    fixed=$((fixed + 1))
    check "kill at $point"
    if [ "$status" = 0 ]; then
        # That rank staged nothing in this layout: the point was never
        # reached and the flush completed.
        [ "$gen" = "$((base + 1))" ] && [ "$record" = 0 ] ||
            die "writer not killed at $point: gen=$gen (want $((base + 1))) record=$record"
        echo "kill at $point: not reached (nothing staged there), the flush completed"
        prev=$gen
        prevlen=$len
        continue
    fi
    kills=$((kills + 1))
    fixed_kills=$((fixed_kills + 1))
    if [ "$want" = old ]; then
        [ "$gen" = "$prev" ] || die "kill at $point: generation $gen, want the old $prev"
    else
        [ "$gen" = "$((base + 1))" ] || die "kill at $point: generation $gen, want the new $((base + 1))"
        [ "$record" = 1 ] || die "kill at $point: no commit record left (record=$record)"
    fi
    echo "kill at $point: gen=$gen (the $want one) tmp=$tmp record=$record"
    # pzarr info tells a pending commit left by the killed job
    if [ -n "$CLI" ] && [ "$want" = new ]; then
        "$CLI" info "$ARR/a" | grep -q '^pending commit: *a flush committed but not published' ||
            die "kill at $point: pzarr info does not show the pending commit"
    fi
    before=$gen
    if [ "$finish" = clean ]; then
        out=$("$MPIEXEC" -n "$NP" "$BIN" "$MODE" clean "$ARR" 2>&1) || die "clean after $point: $out"
        check "after clean ($point)"
        [ "$gen" = "$before" ] && [ "$tmp" = 0 ] && [ "$record" = 0 ] ||
            die "after clean ($point): gen=$gen (want $before) tmp=$tmp record=$record ($out)"
    else
        # The next open for writing finishes the committed flush first.
        "$MPIEXEC" -n "$NP" "$BIN" "$MODE" writer "$ARR" "$((base + 500))" 1 >/dev/null 2>&1 ||
            die "writer after $point failed"
        check "after a writer ($point)"
        [ "$gen" = "$((base + 501))" ] && [ "$record" = 0 ] ||
            die "after a writer ($point): gen=$gen (want $((base + 501))) record=$record"
    fi
    prev=$gen
    prevlen=$len
done

# A complete run, then clean: nothing temporary is left.
base=$(((KILLS + 10) * 1000000))
"$MPIEXEC" -n "$NP" "$BIN" "$MODE" writer "$ARR" "$base" 2 >/dev/null || die "final writer failed"
"$MPIEXEC" -n "$NP" "$BIN" "$MODE" clean "$ARR" >/dev/null || die "final clean failed"
check "final"
[ "$gen" = "$((base + 2))" ] && [ "$tmp" = 0 ] && [ "$record" = 0 ] ||
    die "final: gen=$gen (want $((base + 2))) tmp=$tmp record=$record"
echo "kill test $MODE np$NP: $kills kills ($fixed_kills at fixed points), every reader saw one generation"
