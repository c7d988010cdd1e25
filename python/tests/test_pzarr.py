#!/usr/bin/python3
"""python.api: the pzarr package under mpiexec -n 1, 2, 3.

With PZARR_TEST_MPI4PY=1 the communicator comes from mpi4py (the build's MPI
must be mpi4py's: Open MPI on Debian); otherwise pzarr initializes MPI
itself and uses MPI_COMM_WORLD. Every test asserts values; collective calls
are made by every rank; a failure on one rank must raise on all.

Usage: mpiexec -n N python3 test_pzarr.py WORKDIR
"""
import os
import shutil
import sys
import traceback

import numpy as np

USE_MPI4PY = os.environ.get("PZARR_TEST_MPI4PY") == "1"
if USE_MPI4PY:
    from mpi4py import MPI
    COMM = MPI.COMM_WORLD
else:
    COMM = None

import pzarr  # noqa: E402

WORK = sys.argv[1]
os.makedirs(WORK, exist_ok=True)
st0 = pzarr.open(os.path.join(WORK, "probe.zarr"), "a", comm=COMM)
RANK, SIZE = st0.rank, st0.size
st0.close()


def fresh(name):
    """A store path of this run (rank 0 removes an old one; every rank
    waits for it through the open, which is collective)."""
    p = os.path.join(WORK, f"{name}-np{SIZE}.zarr")
    if RANK == 0 and os.path.exists(p):
        shutil.rmtree(p)
    return p


def barrier_open(path, mode="a", **kw):
    # the removal above must happen before any rank opens: a collective open
    # of a probe store orders it
    pzarr.open(os.path.join(WORK, "probe.zarr"), "a", comm=COMM).close()
    return pzarr.open(path, mode, comm=COMM, **kw)


def test_blocks_and_read_all():
    """Each rank writes its rows across shared chunks; read_all of different
    boxes per rank, empty on rank 0; out= is filled in place (no copy)."""
    p = fresh("blocks")
    with barrier_open(p, "w") as st:
        a = st.create_array("t", shape=(12, 10), dtype="f8", chunks=(5, 4), codec="zstd:1",
                            dims=("y", "x"))
        rows = np.array_split(np.arange(12), SIZE)[RANK]
        want = np.arange(120, dtype="f8").reshape(12, 10) * 1.5
        if len(rows):
            a[rows[0]:rows[-1] + 1, :] = want[rows[0]:rows[-1] + 1]
        # local read sees this rank's unflushed write
        if len(rows):
            assert np.array_equal(a[rows[0]:rows[-1] + 1], want[rows[0]:rows[-1] + 1])
        a.flush()
        box = (slice(0, 0), slice(None)) if RANK == 0 and SIZE > 1 else \
            (slice(RANK, 12), slice(2, 9))
        got = a.read_all(box)
        assert np.array_equal(got, want[box]), (got, want[box])
        out = np.empty((12, 10), dtype="f8")
        r = a.read_all((), out=out)
        assert r is out and np.array_equal(out, want)
        # integer indexing drops the axis; negative indices count from the end
        assert np.array_equal(a[-1], want[-1])
        assert a[3, 4] == want[3, 4]
        assert a.read((slice(1, 3), 5)).shape == (2,)


def test_error_on_one_rank_raises_everywhere():
    """read_all with a box outside the array on the last rank only: every
    rank raises OutOfBounds, nobody hangs; the array works afterwards."""
    p = fresh("errors")
    with barrier_open(p, "w") as st:
        a = st.create_array("a", shape=(8,), dtype="i4", chunks=(3,))
        if RANK == 0:
            a[:] = np.arange(8, dtype="i4")
        a.flush()
        bad = slice(6, 8) if RANK != SIZE - 1 else slice(0, 8)
        box = (bad,)
        try:
            if RANK == SIZE - 1:
                # a box the Python layer cannot catch: straight to the C call
                out = np.empty(9, dtype="i4")
                pzarr._call(pzarr._pzarr.read_all, a._handle(), [0], [9], out)
            else:
                a.read_all(box)
            raised = None
        except pzarr.Error as e:
            raised = e
        assert isinstance(raised, pzarr.OutOfBounds), repr(raised)
        assert raised.name == "PZARR_EBOUNDS" and raised.code == -10
        assert np.array_equal(a.read_all(), np.arange(8))
        # local errors: a step, a wrong type, a closed array
        for bad_key, exc in (((slice(0, 8, 2),), IndexError), ((10,), IndexError),
                             (([1, 2],), IndexError)):
            try:
                a[bad_key]
                raise AssertionError(f"{bad_key} was accepted")
            except exc:
                pass
        try:
            st["missing"]
            raise AssertionError("opened a missing array")
        except pzarr.NotFound as e:
            assert "missing" in e.message
    try:
        a[0]
        raise AssertionError("read from a closed array")
    except pzarr.InvalidArgument:
        pass


def test_types_attrs_groups_resize():
    p = fresh("types")
    with barrier_open(p, "w", format=2) as st:
        assert st.format == 2
        st.create_group("g", attrs={"title": "run"})
        t = st.create_array("g/time", shape=(5,), dtype="M8[s]", dims=("t",))
        s = st.create_array("g/station", shape=(5,), dtype=str, chunks=(2,), dims=("t",))
        b = st.create_array("g/blob", shape=(3,), dtype=bytes, chunks=(2,))
        c = st.create_array("g/z", shape=(2, 2), dtype="c16", fill=0)
        times = np.array(["2020-01-01", "NaT", "2021-06-01T12:00", "1970-01-01", "2000-02-29"],
                         dtype="M8[s]")
        names = ["Zürich", "", "a\nb", "x" * 100, "\u4e16"]
        if RANK == 0:
            t[:] = times
            b[:] = [b"\x00\x01", b"", b"\xff"]
            c[:] = np.array([[1 + 2j, 0], [3, -1j]])
        # each rank writes one name (chunks of 2 are shared), rank 0 the rest
        mine = [i for i in range(5) if i % SIZE == RANK]
        for i in mine:
            s[i] = names[i]
        for arr in (t, s, b, c):
            arr.flush()
        assert list(t[:].view("i8")) == list(times.view("i8"))
        assert list(s[:]) == names, list(s[:])
        assert list(b[:]) == [b"\x00\x01", b"", b"\xff"]
        assert np.array_equal(c[:], np.array([[1 + 2j, 0], [3, -1j]]))
        assert t.dtype == np.dtype("M8[s]") and s.dtype == np.dtype(object)
        assert st.attrs_of("g")["title"] == "run"
        st.attrs_of("g")["more"] = [1, 2]
        assert st.attrs_of("g").asdict() == {"title": "run", "more": [1, 2]}
        assert sorted(st.arrays("g")) == ["blob", "station", "time", "z"]
        assert st.groups() == ["g"]
        c.resize((4, 2))
        assert c.shape == (4, 2) and np.array_equal(c[2:], np.zeros((2, 2)))
        assert st.stats()["meta_reads"] >= 0


def test_zero_copy_and_gil():
    """a[...] = x and read(out=) pass numpy memory straight through; another
    thread runs while a rank waits inside a collective read."""
    import threading
    p = fresh("zerocopy")
    with barrier_open(p, "w") as st:
        a = st.create_array("a", shape=(64, 64), dtype="f4", chunks=(64, 64), codec="none")
        block = np.ones((64, 64), dtype="f4") * 3
        if RANK == 0:
            a[:] = block
        a.flush()
        out = np.zeros((64, 64), dtype="f4")
        got = a.read((), out=out)
        assert got is out and out.sum() == 3 * 64 * 64
        ticks = []
        stop = threading.Event()

        def spin():
            while not stop.is_set():
                ticks.append(1)
                stop.wait(0.001)

        th = threading.Thread(target=spin)
        th.start()
        for _ in range(20):
            a.read_all()
        stop.set()
        th.join()
        assert len(ticks) > 0


def test_iflush():
    """A checkpoint in the background: the same content as the writes; wait
    publishes it; a second wait is refused; test() polls."""
    p = fresh("iflush")
    with barrier_open(p, "w", background=True, hints={"pzarr_io_threads": "2"}) as st:
        a = st.create_array("a", shape=(16, 12), dtype="i8", chunks=(5, 5), codec="zstd:1")
        rows = np.array_split(np.arange(16), SIZE)[RANK]
        want = np.arange(16 * 12, dtype="i8").reshape(16, 12) * 7
        if len(rows):
            a[rows[0]:rows[-1] + 1] = want[rows[0]:rows[-1] + 1]
        r = a.iflush()
        if len(rows):  # the next checkpoint's write, while this one is in flight
            a[rows[0]:rows[0] + 1] = -1
        while not r.test():
            pass
        r.wait()
        try:
            r.wait()
            raise AssertionError("waited twice")
        except pzarr.InvalidArgument:
            pass
        got = a.read_all()
        # this rank's own row -1 is unflushed: the others' rows come from storage
        mine = np.zeros(16, dtype=bool)
        mine[rows] = True
        assert np.array_equal(got[~mine], want[~mine])
        a.flush()
        if len(rows):
            assert (a.read_all()[rows[0]] == -1).all()
        else:
            a.read_all((slice(0, 0),))
        assert st.stats()["iflushes"] == 1


TESTS = [test_iflush, test_blocks_and_read_all, test_error_on_one_rank_raises_everywhere,
         test_types_attrs_groups_resize, test_zero_copy_and_gil]


def main():
    failed = 0
    for t in TESTS:
        try:
            t()
            print(f"[rank {RANK}/{SIZE}] ok   {t.__name__}", flush=True)
        except Exception:
            failed += 1
            print(f"[rank {RANK}/{SIZE}] FAIL {t.__name__}\n{traceback.format_exc()}",
                  flush=True)
    print(f"[rank {RANK}/{SIZE}] {len(TESTS) - failed} passed, {failed} failed"
          f" ({'mpi4py' if USE_MPI4PY else 'no mpi4py'}; {pzarr.library_version().splitlines()[0].strip()})",
          flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
