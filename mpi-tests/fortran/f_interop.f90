! The Fortran side of interop.fortran (fortran_interop.py):
!
!   f_interop write DIR FORMAT   every rank writes x-y planes of ten arrays
!                                (one per type) in Zarr FORMAT (2 or 3)
!   f_interop check DIR          reads those of them that DIR holds (as
!                                another tool wrote them) and compares;
!                                prints how many it read
!
! Each array is u(7, 5, 3) in Fortran, Zarr shape [3, 5, 7]; element
! (i, j, k) holds a function of v = i + 10 j + 100 k (see fortran_interop.py,
! which writes and checks the same values in C order).
program f_interop
    use mpi_f08
    use pzarr
    use, intrinsic :: iso_fortran_env
    implicit none
    integer, parameter :: NX = 7, NY = 5, NZ = 3
    type(pzarr_store) :: s
    integer :: rank, nranks, fmt, wrong, nread, i, j, k
    integer :: v(NX, NY, NZ), ii(NX, NY, NZ), jj(NX, NY, NZ), kk(NX, NY, NZ)
    character(len=256) :: mode, dir, arg
    logical :: writing

    call MPI_Init()
    call MPI_Comm_rank(MPI_COMM_WORLD, rank)
    call MPI_Comm_size(MPI_COMM_WORLD, nranks)
    call get_command_argument(1, mode)
    call get_command_argument(2, dir)
    writing = mode == 'write'
    fmt = 3
    if (writing) then
        call get_command_argument(3, arg)
        read (arg, *) fmt
    end if
    do k = 1, NZ
        do j = 1, NY
            do i = 1, NX
                v(i, j, k) = i + 10 * j + 100 * k
                ii(i, j, k) = i
                jj(i, j, k) = j
                kk(i, j, k) = k
            end do
        end do
    end do
    wrong = 0
    nread = 0
    if (writing) then
        call ok(pzarr_open(MPI_COMM_WORLD, trim(dir), &
                           PZARR_CREATE + merge(PZARR_FORMAT_V2, 0, fmt == 2), s), 'open')
    else
        call ok(pzarr_open(MPI_COMM_WORLD, trim(dir), PZARR_RDONLY, s), 'open')
    end if
    call a_int8()
    call a_int16()
    call a_uint16()
    call a_int32()
    call a_int64()
    call a_real32()
    call a_real64()
    call a_complex64()
    call a_complex128()
    call a_bool()
    call ok(pzarr_close(s), 'close')
    call MPI_Allreduce(MPI_IN_PLACE, wrong, 1, MPI_INTEGER, MPI_SUM, MPI_COMM_WORLD)
    if (rank == 0) print '(3a, i0, a, i0, a)', 'f_interop ', trim(mode), ': ', nread, &
        ' arrays read, ', wrong, ' wrong'
    call MPI_Finalize()
    if (wrong /= 0) error stop 1

contains

    subroutine ok(code, what)
        integer, intent(in) :: code
        character(len=*), intent(in) :: what
        if (code /= 0) then
            print '(a, i0, 5a)', 'rank ', rank, ': ', what, ': ', pzarr_strerror(code), &
                ' | ' // pzarr_errmsg(s)
            wrong = wrong + 1
        end if
    end subroutine

    ! Opens (check) or creates (write) the array name; false when checking
    ! and the store has no such array.
    logical function start(name, dtype, a)
        character(len=*), intent(in) :: name
        integer, intent(in) :: dtype
        type(pzarr_array), intent(out) :: a
        type(pzarr_spec) :: sp
        integer :: kind
        start = .true.
        if (.not. writing) then
            call ok(pzarr_node_kind_of(s, name, kind), 'kind of '//name)
            start = kind == PZARR_NODE_ARRAY
            if (start) call ok(pzarr_array_open(s, name, a), 'open '//name)
            if (start) nread = nread + 1
            return
        end if
        sp%zarr_format = fmt
        sp%dtype = dtype
        sp%ndim = 3
        sp%shape(1:3) = [NX, NY, NZ]
        sp%chunks(1:3) = [3, 2, 2]
        sp%dims(1:3) = [character(len=1) :: 'x', 'y', 'z']
        sp%codec = merge('zstd:3  ', 'gzip:5  ', mod(dtype, 2) == 0)
        call ok(pzarr_array_create(s, name, sp, a), 'create '//name)
    end function

    subroutine finish(name, a, same)
        character(len=*), intent(in) :: name
        type(pzarr_array), intent(inout) :: a
        logical, intent(in) :: same
        if (writing) call ok(pzarr_array_flush(a), 'flush '//name)
        if (.not. writing .and. .not. same) then
            print '(a, i0, 3a)', 'rank ', rank, ': ', name, ': values differ'
            wrong = wrong + 1
        end if
        call ok(pzarr_array_close(a), 'close '//name)
    end subroutine

    subroutine a_int8()
        type(pzarr_array) :: a
        integer(int8) :: w(NX, NY, NZ), u(NX, NY, NZ)
        w = int(mod(v, 127), int8)
        if (.not. start('int8', PZARR_INT8, a)) return
        if (writing) then
            do k = rank + 1, NZ, nranks
                call ok(pzarr_array_write(a, [1, 1, k], w(:, :, k)), 'write int8')
            end do
        else
            call ok(pzarr_array_read(a, [1, 1, 1], u), 'read int8')
        end if
        call finish('int8', a, all(u == w))
    end subroutine

    subroutine a_int16()
        type(pzarr_array) :: a
        integer(int16) :: w(NX, NY, NZ), u(NX, NY, NZ)
        w = int(-v, int16)
        if (.not. start('int16', PZARR_INT16, a)) return
        if (writing) then
            do k = rank + 1, NZ, nranks
                call ok(pzarr_array_write(a, [1, 1, k], w(:, :, k)), 'write int16')
            end do
        else
            call ok(pzarr_array_read(a, [1, 1, 1], u), 'read int16')
        end if
        call finish('int16', a, all(u == w))
    end subroutine

    subroutine a_uint16()
        type(pzarr_array) :: a
        integer(int16) :: w(NX, NY, NZ), u(NX, NY, NZ)
        w = int(v, int16)
        if (.not. start('uint16', PZARR_UINT16, a)) return
        if (writing) then
            do k = rank + 1, NZ, nranks
                call ok(pzarr_array_write(a, [1, 1, k], w(:, :, k)), 'write uint16')
            end do
        else
            call ok(pzarr_array_read(a, [1, 1, 1], u), 'read uint16')
        end if
        call finish('uint16', a, all(u == w))
    end subroutine

    subroutine a_int32()
        type(pzarr_array) :: a
        integer(int32) :: w(NX, NY, NZ), u(NX, NY, NZ)
        w = v
        if (.not. start('int32', PZARR_INT32, a)) return
        if (writing) then
            do k = rank + 1, NZ, nranks
                call ok(pzarr_array_write(a, [1, 1, k], w(:, :, k)), 'write int32')
            end do
        else
            call ok(pzarr_array_read(a, [1, 1, 1], u), 'read int32')
        end if
        call finish('int32', a, all(u == w))
    end subroutine

    subroutine a_int64()
        type(pzarr_array) :: a
        integer(int64) :: w(NX, NY, NZ), u(NX, NY, NZ)
        w = int(v, int64) * 10000000000_int64
        if (.not. start('int64', PZARR_INT64, a)) return
        if (writing) then
            do k = rank + 1, NZ, nranks
                call ok(pzarr_array_write(a, [1_int64, 1_int64, int(k, int64)], w(:, :, k)), &
                        'write int64')
            end do
        else
            call ok(pzarr_array_read(a, [1_int64, 1_int64, 1_int64], u), 'read int64')
        end if
        call finish('int64', a, all(u == w))
    end subroutine

    subroutine a_real32()
        type(pzarr_array) :: a
        real(real32) :: w(NX, NY, NZ), u(NX, NY, NZ)
        w = real(v, real32) / 8
        if (.not. start('float32', PZARR_FLOAT32, a)) return
        if (writing) then
            do k = rank + 1, NZ, nranks
                call ok(pzarr_array_write(a, [1, 1, k], w(:, :, k)), 'write float32')
            end do
        else
            call ok(pzarr_array_read(a, [1, 1, 1], u), 'read float32')
        end if
        call finish('float32', a, all(u == w))
    end subroutine

    subroutine a_real64()
        type(pzarr_array) :: a
        real(real64) :: w(NX, NY, NZ), u(NX, NY, NZ)
        w = 1d0 / v
        if (.not. start('float64', PZARR_FLOAT64, a)) return
        if (writing) then
            do k = rank + 1, NZ, nranks
                call ok(pzarr_array_write(a, [1, 1, k], w(:, :, k)), 'write float64')
            end do
        else
            call ok(pzarr_array_read(a, [1, 1, 1], u), 'read float64')
        end if
        call finish('float64', a, all(u == w))
    end subroutine

    subroutine a_complex64()
        type(pzarr_array) :: a
        complex(real32) :: w(NX, NY, NZ), u(NX, NY, NZ)
        w = cmplx(v, -kk, real32)
        if (.not. start('complex64', PZARR_COMPLEX64, a)) return
        if (writing) then
            do k = rank + 1, NZ, nranks
                call ok(pzarr_array_write(a, [1, 1, k], w(:, :, k)), 'write complex64')
            end do
        else
            call ok(pzarr_array_read(a, [1, 1, 1], u), 'read complex64')
        end if
        call finish('complex64', a, all(u == w))
    end subroutine

    subroutine a_complex128()
        type(pzarr_array) :: a
        complex(real64) :: w(NX, NY, NZ), u(NX, NY, NZ)
        w = cmplx(1d0 / v, jj, real64)
        if (.not. start('complex128', PZARR_COMPLEX128, a)) return
        if (writing) then
            do k = rank + 1, NZ, nranks
                call ok(pzarr_array_write(a, [1, 1, k], w(:, :, k)), 'write complex128')
            end do
        else
            call ok(pzarr_array_read(a, [1, 1, 1], u), 'read complex128')
        end if
        call finish('complex128', a, all(u == w))
    end subroutine

    subroutine a_bool()
        type(pzarr_array) :: a
        logical :: w(NX, NY, NZ), u(NX, NY, NZ)
        w = mod(v, 3) == 0
        if (.not. start('bool', PZARR_BOOL, a)) return
        if (writing) then
            do k = rank + 1, NZ, nranks
                call ok(pzarr_array_write(a, [1, 1, k], w(:, :, k)), 'write bool')
            end do
        else
            call ok(pzarr_array_read(a, [1, 1, 1], u), 'read bool')
        end if
        call finish('bool', a, all(u .eqv. w))
    end subroutine

end program
