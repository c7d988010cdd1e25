#!/bin/bash
# Crash safety of sharded writes (see mpi_shard_kill.c).
#
#   shard_kill.sh MPIEXEC MPI_SHARD_CRASH WORKDIR [ITERATIONS] [SECONDS]
#
# Starts a 2-rank writer that rewrites every shard generation after
# generation, kills the whole job (mpiexec and every descendant: the proxy
# and the ranks) with SIGKILL after a random 0.05-0.5 s, and checks with a
# 1-rank reader that every shard decodes and holds one generation, old or
# new. Leftover *.pzarr-tmp-shard
# files must never exceed one per shard, and a final writer run that is not
# killed must leave none. Stops early after SECONDS (default 75).
set -u
MPIEXEC=$1
BIN=$2
WORK=$3
ITER=${4:-30}
BUDGET=${5:-75}
NSHARDS=6

# Every descendant of process $1. (MPICH's hydra_pmi_proxy puts itself and
# each rank into a session of its own, so killing mpiexec's process group
# would leave the ranks running: the job is killed by the ids of its
# processes.)
descendants() {
    local kids
    kids=$(ps -eo pid=,ppid= | awk -v p="$1" '$2 == p { print $1 }')
    for k in $kids; do
        echo "$k"
        descendants "$k"
    done
}

mpid=""
# On any exit, no writer of ours may survive.
cleanup() {
    [ -n "$mpid" ] && kill -9 "$mpid" $(descendants "$mpid") 2>/dev/null
}
trap cleanup EXIT

die() {
    echo "shard crash: FAILED: $*"
    exit 1
}

rm -rf "$WORK"
mkdir -p "$WORK" || die "cannot create $WORK"
ARR=$WORK/store
STATE=$WORK/state

"$MPIEXEC" -n 2 "$BIN" init "$ARR" || die "init failed"

start=$SECONDS
kills=0
gens=0
with_tmp=0
base=0
for ((it = 1; it <= ITER; it++)); do
    ((SECONDS - start > BUDGET)) && break
    base=$((it * 100000))
    # A fresh log per run: the child truncates its log only after the fork,
    # so a reused log could show the previous run's "ready".
    log=$WORK/writer.$it.log
    rm -f "$WORK/writer.$((it - 1)).log"
    "$MPIEXEC" -n 2 "$BIN" writer "$ARR" "$base" >"$log" 2>&1 &
    mpid=$!
    # The random delay counts from the moment the writer has the array open
    # (MPI start-up alone can take longer than 0.5 s on a loaded machine).
    for ((w = 0; w < 400; w++)); do
        grep -q '^ready' "$log" 2>/dev/null && break
        kill -0 "$mpid" 2>/dev/null || break
        sleep 0.025
    done
    grep -q '^ready' "$log" || die "iteration $it: the writer did not start: $(cat "$log")"
    delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.3f", 0.05 + 0.45 * r / 32767 }')
    job="$mpid $(descendants "$mpid")"
    sleep "$delay"
    # The whole job at once: mpiexec, the proxy, the ranks.
    job="$job $(descendants "$mpid")"
    kill -9 $job 2>/dev/null
    wait "$mpid" 2>/dev/null
    mpid=""
    for ((w = 0; w < 100; w++)); do
        alive=""
        for p in $job; do
            # A zombie no longer runs.
            st=$(ps -o stat= -p "$p" 2>/dev/null)
            [ -n "$st" ] && [ "${st#Z}" = "$st" ] && alive="$alive $p"
        done
        [ -z "$alive" ] && break
        sleep 0.05
    done
    [ -n "$alive" ] && die "iteration $it: processes$alive outlived SIGKILL"
    # No writer may have escaped (started after the list was taken).
    stray=$(pgrep -f -- "$BIN writer $ARR " || true)
    if [ -n "$stray" ]; then
        for p in $stray; do kill -9 "$p" 2>/dev/null; done
        die "iteration $it: writer processes $stray escaped the kill"
    fi
    kills=$((kills + 1))
    flushed=$(grep -c '^flushed' "$log")
    gens=$((gens + flushed))
    out=$("$MPIEXEC" -n 1 "$BIN" check "$ARR" "$STATE" "$base" 2>&1) ||
        die "iteration $it (killed after ${delay}s): $out"
    tmp=${out##*tmp=}
    echo "kill $it after ${delay}s ($flushed generations flushed): $out"
    ((tmp > NSHARDS)) && die "iteration $it: $tmp leftover temporary shard files (at most $NSHARDS)"
    ((tmp > 0)) && with_tmp=$((with_tmp + 1))
done
((kills > 0)) || die "no kill happened"

# A writer run that completes removes every leftover temporary file.
base=$(((ITER + 1) * 100000))
"$MPIEXEC" -n 2 "$BIN" writer "$ARR" "$base" 2 || die "final writer failed"
out=$("$MPIEXEC" -n 1 "$BIN" check "$ARR" "$STATE" "$base" 2>&1) || die "final check: $out"
case "$out" in
*"gens=$((base + 2)),$((base + 2)),$((base + 2)),$((base + 2)),$((base + 2)),$((base + 2)) tmp=0"*) ;;
*) die "after a complete run: $out (want every shard at generation $((base + 2)) and tmp=0)" ;;
esac
echo "($gens generations flushed in all; $with_tmp of $kills kills left temporary shard files," \
    "all removed by the next complete run)"
echo "shard crash: $kills kills, all shards old-or-new"
