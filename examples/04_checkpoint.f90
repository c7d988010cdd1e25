! 04_checkpoint: the heat-diffusion stencil of 02_checkpoint.c in Fortran.
! It appends a checkpoint to a growing array every few steps and restarts
! from the last complete one, possibly on a different number of ranks.
!
!   mpiexec -n 3 build/bin/04_checkpoint /tmp/heat.zarr --steps 10 --every 5
!   mpiexec -n 2 build/bin/04_checkpoint /tmp/heat.zarr --steps 20 --restart
!   mpiexec -n 2 build/bin/04_checkpoint /tmp/heat.zarr --steps 20 --async
!
! --async: each checkpoint starts with pzarr_array_iflush and is waited for
! (pzarr_wait) at the next one or at the end, and only then listed in
! "steps"; the store is opened with PZARR_ASYNC (writing the slice is a copy).
!
! The store is Zarr v2, which every xarray opens (Debian 12's, on zarr-python
! 2.13, included); --v3 makes it Zarr v3.
!
! The field is u(x, y, z) with a ghost layer, n points a side. The array
! "heat" is declared in Fortran order as (x, y, z, t): xarray and zarr-python
! see it as [t, z, y, x], float64, with chunks of one time slice and one
! subdomain. Each checkpoint grows t by one (pzarr_array_resize), every rank
! writes its own box and pzarr_array_flush commits the slice; only then is
! the step appended to the attribute "steps", so a crash in between leaves a
! slice that the restart simply overwrites.
!
! The processes form an MPI_Cart_create grid whose dimension 1 is z (the
! slowest axis of the array): pzarr's block ownership then gives every rank
! the chunks of its own subdomain. The update of each point reads its six
! neighbours in a fixed order, so the bits do not depend on the rank count.
program checkpoint
    use mpi_f08
    use pzarr
    use, intrinsic :: iso_fortran_env, only: int64, real64, error_unit
    implicit none
    real(real64), parameter :: ALPHA = 0.125d0 ! stable below 1/6
    character(len=*), parameter :: ARRAY = 'heat'

    type(MPI_Comm) :: cart
    type(pzarr_store) :: st
    type(pzarr_array) :: a
    integer :: rank, nranks, n, steps, every, step, first, pdims(3), coords(3), fmt
    integer :: lo(3), cnt(3), d
    integer, allocatable :: done(:)         ! steps of the complete checkpoints
    real(real64), allocatable :: u(:, :, :), v(:, :, :)
    character(len=4096) :: path
    logical :: restart, async
    type(pzarr_request) :: pending          ! a checkpoint in the background
    integer :: pending_step, provided, nbg = 0
    logical :: inflight = .false.

    ! FUNNELED: pzarr's background threads (--async) make no MPI calls
    call MPI_Init_thread(MPI_THREAD_FUNNELED, provided)
    call MPI_Comm_rank(MPI_COMM_WORLD, rank)
    call MPI_Comm_size(MPI_COMM_WORLD, nranks)
    call options(path, n, steps, every, restart, fmt, async)

    if (restart) then
        call check(pzarr_open(MPI_COMM_WORLD, trim(path), &
                              PZARR_RDWR + merge(PZARR_ASYNC, 0, async), st), 'open')
        call reopen()
    else
        call check(pzarr_open(MPI_COMM_WORLD, trim(path), PZARR_CREATE + &
                              merge(PZARR_FORMAT_V2, 0, fmt == 2) + merge(PZARR_ASYNC, 0, async), &
                              st), 'open')
        call decompose()
        call create()
        call initial_field()
        allocate (done(0))
    end if
    ! Chunk owners follow the process grid (x first: px, py, pz, then t).
    call check_a(pzarr_array_set_owner(a, PZARR_OWNER_BLOCK, [pdims(3), pdims(2), pdims(1), 1]), &
                 'set_owner')

    first = 0
    if (size(done) > 0) first = done(size(done))
    if (first > steps) call fail('the last checkpoint is past --steps')
    if (rank == 0) then
        print '(a, i0, a, i0, 4(a, i0), a)', '04_checkpoint: ', n, '^3 grid on ', nranks, &
            ' ranks (', pdims(3), ' x ', pdims(2), ' x ', pdims(1), '), to step ', steps, ','
        if (size(done) > 0) print '(a, i0)', 'restarted from step ', first
        if (size(done) == 0) print '(a, i0)', 'starting at step ', first
    end if
    if (size(done) == 0) call save(0)
    do step = first + 1, steps
        call advance()
        if (mod(step, every) == 0 .or. step == steps) call save(step)
    end do
    call settle()
    if (async .and. rank == 0) print '(a, i0, a)', 'in the background: ', nbg, ' checkpoints'
    call checksum(size(done), done(size(done)))

    call check_a(pzarr_array_close(a), 'close array')
    call check(pzarr_close(st), 'close')
    call MPI_Comm_free(cart)
    call MPI_Finalize()

contains

    subroutine fail(msg)
        character(len=*), intent(in) :: msg
        write (error_unit, '(2a)') '04_checkpoint: ', msg
        call MPI_Abort(MPI_COMM_WORLD, 1)
    end subroutine

    subroutine check(rc, what)
        integer, intent(in) :: rc
        character(len=*), intent(in) :: what
        if (rc /= 0) call fail(what//': '//pzarr_strerror(rc)//': '//pzarr_errmsg(st))
    end subroutine

    subroutine check_a(rc, what)
        integer, intent(in) :: rc
        character(len=*), intent(in) :: what
        if (rc /= 0) call fail(what//': '//pzarr_strerror(rc)//': '//pzarr_array_errmsg(a))
    end subroutine

    subroutine options(path, n, steps, every, restart, fmt, async)
        character(len=*), intent(out) :: path
        integer, intent(out) :: n, steps, every, fmt
        logical, intent(out) :: restart, async
        character(len=256) :: arg, val
        integer :: i, ios
        n = 32
        steps = 20
        every = 5
        restart = .false.
        async = .false.
        fmt = 2
        path = ''
        i = 1
        do while (i <= command_argument_count())
            call get_command_argument(i, arg)
            ios = 0
            if (arg == '--restart') then
                restart = .true.
            else if (arg == '--async') then
                async = .true.
            else if (arg == '--v3') then
                fmt = 3
            else if (arg == '--n' .or. arg == '--steps' .or. arg == '--every') then
                i = i + 1
                call get_command_argument(i, val)
                if (arg == '--n') read (val, *, iostat=ios) n
                if (arg == '--steps') read (val, *, iostat=ios) steps
                if (arg == '--every') read (val, *, iostat=ios) every
            else if (arg(1:1) /= '-' .and. path == '') then
                path = arg
            else
                ios = 1
            end if
            if (ios /= 0) call fail('bad argument "'//trim(arg)//'"; usage: 04_checkpoint '// &
                                    'PATH [--n SIZE] [--steps N] [--every K] [--restart] [--v3] [--async]')
            i = i + 1
        end do
        if (path == '' .or. n < 3 .or. steps < 0 .or. every < 1) &
            call fail('usage: 04_checkpoint PATH [--n SIZE] [--steps N] [--every K] [--restart] '// &
                      '[--v3]')
    end subroutine

    ! The process grid (dimension 1 is z), this rank's box and its field.
    ! chunk: the chunk extents (x, y, z), or absent for one chunk per rank.
    subroutine decompose(chunk)
        integer, intent(in), optional :: chunk(3)
        integer :: c(3), g
        pdims = 0
        call MPI_Dims_create(nranks, 3, pdims)
        call MPI_Cart_create(MPI_COMM_WORLD, 3, pdims, [.false., .false., .false.], .false., cart)
        call MPI_Cart_coords(cart, rank, 3, coords)
        do d = 1, 3 ! d: x, y, z; the grid's dimension 4 - d
            if (n < pdims(4 - d)) call fail('grid too small for this many ranks')
            c(d) = (n + pdims(4 - d) - 1) / pdims(4 - d)
            if (present(chunk)) c(d) = chunk(d)
            ! Whole chunks per rank when there are enough, else an even split.
            g = (n + c(d) - 1) / c(d)
            if (g >= pdims(4 - d)) then
                lo(d) = g * coords(4 - d) / pdims(4 - d) * c(d)
                cnt(d) = min(g * (coords(4 - d) + 1) / pdims(4 - d) * c(d), n) - lo(d)
            else
                lo(d) = n * coords(4 - d) / pdims(4 - d)
                cnt(d) = n * (coords(4 - d) + 1) / pdims(4 - d) - lo(d)
            end if
        end do
        allocate (u(0:cnt(1) + 1, 0:cnt(2) + 1, 0:cnt(3) + 1))
        allocate (v(0:cnt(1) + 1, 0:cnt(2) + 1, 0:cnt(3) + 1))
        u = 0
        v = 0
    end subroutine

    ! The array: (x, y, z, t) in Fortran order, no time slice yet.
    subroutine create()
        type(pzarr_spec) :: spec
        spec%zarr_format = fmt
        spec%dtype = PZARR_FLOAT64
        spec%ndim = 4
        spec%shape(1:4) = [n, n, n, 0]
        spec%chunks(1:4) = [(n + pdims(3) - 1) / pdims(3), (n + pdims(2) - 1) / pdims(2), &
                            (n + pdims(1) - 1) / pdims(1), 1]
        spec%codec = 'zstd:1'
        spec%fill = 'nan' ! xarray masks values equal to the fill value: not 0
        spec%dims(1:4) = [character(len=1) :: 'x', 'y', 'z', 't']
        spec%attributes = '{"steps": []}'
        call check(pzarr_array_create(st, ARRAY, spec, a), 'create')
    end subroutine

    ! A hot plate at z = 0 (held fixed, like every boundary point) and a hot
    ! ball in the middle; global indices from 0 as in 02_checkpoint.c.
    subroutine initial_field()
        integer :: i, j, k, x, y, z, r
        r = n / 4
        do k = 1, cnt(3)
            do j = 1, cnt(2)
                do i = 1, cnt(1)
                    x = lo(1) + i - 1 - n / 2
                    y = lo(2) + j - 1 - n / 2
                    z = lo(3) + k - 1
                    u(i, j, k) = 0
                    if ((z - n / 2)**2 + y**2 + x**2 < r * r) u(i, j, k) = 2
                    if (z == 0) u(i, j, k) = 1
                end do
            end do
        end do
        v = u
    end subroutine

    ! Restart: shape and chunks from the array, the field from the last
    ! slice listed in "steps" (none listed: the initial field).
    subroutine reopen()
        integer(int64) :: shape(4), chunks(4)
        integer :: ndim, dtype
        character(len=:), allocatable :: attrs
        real(real64), allocatable :: box(:, :, :)
        call check(pzarr_array_open(st, ARRAY, a), 'open '//ARRAY)
        call check_a(pzarr_array_get_info(a, ndim=ndim, dtype=dtype, shape=shape, chunks=chunks), &
                     'info')
        if (ndim /= 4 .or. dtype /= PZARR_FLOAT64 .or. shape(1) /= shape(2) .or. &
            shape(1) /= shape(3) .or. shape(1) < 3) &
            call fail('"'//ARRAY//'" is not an (n, n, n, t) float64 array')
        n = int(shape(1))
        call check(pzarr_attrs_get(st, ARRAY, attrs), 'attributes')
        call parse_steps(attrs, done)
        if (size(done) > shape(4)) call fail('attribute "steps" does not match the array')
        call decompose(int(chunks(1:3)))
        if (size(done) == 0) then
            call initial_field()
            return
        end if
        allocate (box(cnt(1), cnt(2), cnt(3)))
        call check_a(pzarr_array_read_all(a, [lo + 1, size(done)], box), 'read')
        u(1:cnt(1), 1:cnt(2), 1:cnt(3)) = box
        v = u
    end subroutine

    ! The integers of "steps": [a, b, ...] in a JSON object text.
    subroutine parse_steps(json, out)
        character(len=*), intent(in) :: json
        integer, allocatable, intent(out) :: out(:)
        integer :: p, q, m, ios, i
        p = index(json, '"steps"')
        if (p == 0) then
            allocate (out(0))
            return
        end if
        p = p + index(json(p:), '[')
        q = p + index(json(p:), ']') - 2
        if (q < p - 1) call fail('attribute "steps" is not a list')
        m = 0
        if (len_trim(json(p:q)) > 0) m = count([(json(i:i) == ',', i = p, q)]) + 1
        allocate (out(m))
        if (m > 0) then
            read (json(p:q), *, iostat=ios) out
            if (ios /= 0) call fail('attribute "steps" holds something else than integers')
        end if
    end subroutine

    ! Fills the ghost layers from the neighbours, one axis at a time.
    subroutine halo()
        integer :: lower, upper, dim
        do d = 1, 3
            dim = 4 - d ! the cartesian dimension of axis d (counted from 0: 3 - d)
            call MPI_Cart_shift(cart, dim - 1, 1, lower, upper)
            select case (d)
            case (1)
                call exchange(u(1, :, :), u(cnt(1) + 1, :, :), upper, lower)
                call exchange(u(cnt(1), :, :), u(0, :, :), lower, upper)
            case (2)
                call exchange(u(:, 1, :), u(:, cnt(2) + 1, :), upper, lower)
                call exchange(u(:, cnt(2), :), u(:, 0, :), lower, upper)
            case (3)
                call exchange(u(:, :, 1), u(:, :, cnt(3) + 1), upper, lower)
                call exchange(u(:, :, cnt(3)), u(:, :, 0), lower, upper)
            end select
        end do
    end subroutine

    ! Sends plane `out` to rank `to`, receives `in` from rank `from`.
    subroutine exchange(out, in, from, to)
        real(real64), intent(in) :: out(:, :)
        real(real64), intent(inout) :: in(:, :)
        integer, intent(in) :: from, to
        real(real64) :: sbuf(size(out, 1), size(out, 2)), rbuf(size(in, 1), size(in, 2))
        sbuf = out
        rbuf = in
        call MPI_Sendrecv(sbuf, size(sbuf), MPI_DOUBLE_PRECISION, to, 0, &
                          rbuf, size(rbuf), MPI_DOUBLE_PRECISION, from, 0, cart, &
                          MPI_STATUS_IGNORE)
        in = rbuf
    end subroutine

    ! One explicit step of du/dt = laplace(u); boundary points stay.
    subroutine advance()
        integer :: i, j, k, a(3), b(3)
        real(real64) :: lap
        call halo()
        do d = 1, 3 ! the interior points of this box, in local indices
            a(d) = max(lo(d), 1) - lo(d) + 1
            b(d) = min(lo(d) + cnt(d), n - 1) - lo(d)
        end do
        do k = a(3), b(3)
            do j = a(2), b(2)
                do i = a(1), b(1)
                    lap = u(i, j, k - 1) + u(i, j, k + 1) + u(i, j - 1, k) + u(i, j + 1, k) + &
                          u(i - 1, j, k) + u(i + 1, j, k) - 6 * u(i, j, k)
                    v(i, j, k) = u(i, j, k) + ALPHA * lap
                end do
            end do
        end do
        call swap()
    end subroutine

    subroutine swap()
        real(real64), allocatable :: t(:, :, :)
        call move_alloc(u, t)
        call move_alloc(v, u)
        call move_alloc(t, v)
    end subroutine

    ! Appends time slice size(done) + 1 holding the current field.
    subroutine save(step)
        integer, intent(in) :: step
        integer :: t
        call settle()
        t = size(done) + 1
        call check_a(pzarr_array_resize(a, [n, n, n, t]), 'resize')
        ! The box without ghosts (a section: the module copies it).
        call check_a(pzarr_array_write(a, [lo + 1, t], u(1:cnt(1), 1:cnt(2), 1:cnt(3))), 'write')
        if (async) then
            call check_a(pzarr_array_iflush(a, pending), 'iflush')
            pending_step = step
            nbg = nbg + 1
            inflight = .true.
            return
        end if
        call check_a(pzarr_array_flush(a), 'flush')
        call record(step)
    end subroutine

    ! Waits for the checkpoint in the background, if any, and lists it.
    subroutine settle()
        logical :: done_here
        if (.not. inflight) return
        call check_a(pzarr_test(pending, done_here), 'test') ! this rank's part done yet?
        call check_a(pzarr_wait(pending), 'wait')
        inflight = .false.
        call record(pending_step)
    end subroutine

    ! Lists a published slice in "steps": complete from then on.
    subroutine record(step)
        integer, intent(in) :: step
        integer :: t
        character(len=:), allocatable :: list
        character(len=16) :: num
        t = size(done) + 1
        done = [done, step]
        list = ''
        do d = 1, size(done)
            write (num, '(i0)') done(d)
            list = list//merge(', ', '  ', d > 1)//trim(num)
        end do
        call check(pzarr_attrs_update(st, ARRAY, '{"steps": ['//list//']}'), 'attributes')
        if (rank == 0) print '(a, i0, a, i0)', 'checkpoint t=', t - 1, ' at step ', step
    end subroutine

    ! Rank 0 reads the stored slice t plane by plane: the sum of its values
    ! and of their squares, in global order.
    subroutine checksum(t, step)
        integer, intent(in) :: t, step
        real(real64), allocatable :: plane(:, :)
        real(real64) :: s1, s2
        integer :: k
        if (rank /= 0) return
        allocate (plane(n, n))
        s1 = 0
        s2 = 0
        do k = 1, n
            call check_a(pzarr_array_read(a, [1, 1, k, t], plane), 'read')
            s1 = s1 + sum(plane)
            s2 = s2 + sum(plane**2)
        end do
        print '(a, i0, 2(a, es25.17e3))', 'checksum: step ', step, ' sum ', s1, ' sumsq ', s2
    end subroutine

end program
