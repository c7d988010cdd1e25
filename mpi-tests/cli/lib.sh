# Helpers sourced by the CLI test scripts. Each script sets NAME first.
set -u
PZARR=${PZARR:?PZARR must name the pzarr binary}
MPIEXEC=${MPIEXEC:-mpiexec}
NPFLAG=${MPIEXEC_NUMPROC_FLAG:--n}
PY=${PYTHON:-/usr/bin/python3}
HERE=${CLI_TEST_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
NP_HELPER="$HERE/cli_np.py"
T=${PZARR_TEST_TMP:?}/cli-$NAME
rm -rf "$T" && mkdir -p "$T" && cd "$T" || exit 1
unset PZARR_CLI_BLOCK_BYTES
CHECKS=0
FAILS=0

fail() {
    echo "FAIL: $*" >&2
    FAILS=$((FAILS + 1))
}

# ok CMD...: CMD must exit 0. Its stdout is in $T/out, its stderr in $T/err.
ok() {
    CHECKS=$((CHECKS + 1))
    "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    if [ $rc -ne 0 ]; then
        fail "exit $rc from: $*"
        sed 's/^/    /' "$T/err" >&2
        return 1
    fi
    return 0
}

# bad RC PATTERN CMD...: CMD must exit with RC and its stderr must start
# with "pzarr: error:" and match the extended regex PATTERN.
bad() {
    local want=$1 pattern=$2
    shift 2
    CHECKS=$((CHECKS + 1))
    "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    if [ $rc -ne "$want" ]; then
        fail "exit $rc (wanted $want) from: $*"
        sed 's/^/    /' "$T/err" >&2
        return 1
    fi
    if ! head -n 1 "$T/err" | grep -q '^pzarr: error: '; then
        fail "stderr of '$*' does not start with 'pzarr: error:'"
        sed 's/^/    /' "$T/err" >&2
        return 1
    fi
    if ! grep -Eq -- "$pattern" "$T/err"; then
        fail "stderr of '$*' does not match /$pattern/"
        sed 's/^/    /' "$T/err" >&2
        return 1
    fi
    return 0
}

# same FILE1 FILE2 WHAT
same() {
    CHECKS=$((CHECKS + 1))
    if ! cmp -s "$1" "$2"; then
        fail "$3: $1 and $2 differ ($(stat -c %s "$1" 2>/dev/null) vs $(stat -c %s "$2" 2>/dev/null) bytes)"
        return 1
    fi
    return 0
}

# has PATTERN WHAT: the last command's stdout matches the extended regex.
has() {
    CHECKS=$((CHECKS + 1))
    if ! grep -Eq -- "$1" "$T/out"; then
        fail "$2: output does not match /$1/"
        sed 's/^/    /' "$T/out" >&2
        return 1
    fi
    return 0
}

pz() { "$PZARR" "$@"; }
# mpz N ARGS...: the tool under mpiexec with N ranks
mpz() {
    local n=$1
    shift
    timeout 120 "$MPIEXEC" $NPFLAG "$n" "$PZARR" "$@"
}
np() { "$PY" "$NP_HELPER" "$@"; }

itemsize() {
    case $1 in
    bool | int8 | uint8) echo 1 ;;
    int16 | uint16 | float16) echo 2 ;;
    int32 | uint32 | float32) echo 4 ;;
    int64 | uint64 | float64 | complex64) echo 8 ;;
    complex128) echo 16 ;;
    esac
}

# numpy spelling of a CLI data type (native byte order)
npdtype() {
    case $1 in
    float16) echo "=f2" ;;
    complex64) echo "=c8" ;;
    complex128) echo "=c16" ;;
    *) echo "$1" ;;
    esac
}

finish() {
    echo "$NAME: $CHECKS checks, $FAILS failures"
    [ "$FAILS" -eq 0 ]
}

# ok_to FILE CMD...: like ok, with CMD's stdout into FILE.
ok_to() {
    local file=$1
    shift
    CHECKS=$((CHECKS + 1))
    "$@" >"$file" 2>"$T/err"
    local rc=$?
    if [ $rc -ne 0 ]; then
        fail "exit $rc from: $* > $file"
        sed 's/^/    /' "$T/err" >&2
        return 1
    fi
    return 0
}

# jcheck FILE EXPR WHAT: the JSON document FILE, as d, satisfies the Python
# expression EXPR.
jcheck() {
    CHECKS=$((CHECKS + 1))
    if ! "$PY" -c 'import json,sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" 2>"$T/jerr"; then
        fail "$3: $1 does not satisfy: $2"
        sed 's/^/    /' "$1" "$T/jerr" >&2
        return 1
    fi
    return 0
}

# expect_absent PATH WHAT
expect_absent() {
    CHECKS=$((CHECKS + 1))
    if [ -e "$1" ]; then
        fail "$2: $1 exists"
        return 1
    fi
    return 0
}
