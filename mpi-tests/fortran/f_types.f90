! Every Fortran type pzarr stores round-trips through an array of the
! matching data type, written by every rank (mpi_f08), with 1-based starts
! in Fortran order at ragged chunk edges: the array u(7, 5, 3) has chunks
! (3, 2, 2), so every chunk grid dimension ends with a partial chunk. Rank r
! of n writes the x-y planes k = r+1, r+1+n, ... and then reads the whole
! array back. Also: the Zarr shape is the reverse of the Fortran one, and
! the values land where C order puts them (checked in C order through a
! document-made twin array).
program f_types
    use mpi_f08
    use pzarr
    use, intrinsic :: iso_fortran_env
    use, intrinsic :: iso_c_binding, only: c_bool
    implicit none
    integer, parameter :: NX = 7, NY = 5, NZ = 3
    type(pzarr_store) :: s
    integer :: rank, nranks, failures
    type(MPI_Info) :: info
    character(len=256) :: dir

    call MPI_Init()
    call MPI_Comm_rank(MPI_COMM_WORLD, rank)
    call MPI_Comm_size(MPI_COMM_WORLD, nranks)
    call get_command_argument(1, dir)
    failures = 0

    ! With MPI-IO hints (type(MPI_Info)): chunk files go through MPI-IO.
    call MPI_Info_create(info)
    call MPI_Info_set(info, 'romio_cb_read', 'disable')
    call check(pzarr_open(MPI_COMM_WORLD, trim(dir), PZARR_CREATE, s, info), 'open')
    call MPI_Info_free(info)
    call t_int8()
    call t_int16()
    call t_int32()
    call t_int64()
    call t_real32()
    call t_real64()
    call t_complex32()
    call t_complex64()
    call t_logical()
    call t_logical_c()
    call t_strings()
    call t_ranks_0_and_7()
    call t_shape_and_order()
    call check(pzarr_close(s), 'close')

    call MPI_Allreduce(MPI_IN_PLACE, failures, 1, MPI_INTEGER, MPI_SUM, MPI_COMM_WORLD)
    if (rank == 0) then
        if (failures == 0) then
            print '(a)', 'f_types: every type round-trips'
        else
            print '(a, i0, a)', 'f_types: ', failures, ' failures'
        end if
    end if
    call MPI_Finalize()
    if (failures /= 0) error stop 1

contains

    subroutine check(code, what)
        integer, intent(in) :: code
        character(len=*), intent(in) :: what
        if (code /= 0) then
            print '(a, i0, 4a)', 'rank ', rank, ': ', what, ' failed: ', pzarr_strerror(code)
            print '(2a)', '  store: ', pzarr_errmsg(s)
            failures = failures + 1
        end if
    end subroutine

    subroutine expect(ok, what)
        logical, intent(in) :: ok
        character(len=*), intent(in) :: what
        if (.not. ok) then
            print '(a, i0, 3a)', 'rank ', rank, ': ', what, ': wrong values'
            failures = failures + 1
        end if
    end subroutine

    ! A new array of dtype named name, shape (NX, NY, NZ) chunks (3, 2, 2).
    subroutine make(name, dtype, a)
        character(len=*), intent(in) :: name
        integer, intent(in) :: dtype
        type(pzarr_array), intent(out) :: a
        type(pzarr_spec) :: sp
        sp%dtype = dtype
        sp%ndim = 3
        sp%shape(1:3) = [NX, NY, NZ]
        sp%chunks(1:3) = [3, 2, 2]
        sp%dims(1:3) = [character(len=1) :: 'x', 'y', 'z']
        call check(pzarr_array_create(s, name, sp, a), 'create '//name)
    end subroutine

    ! The value of element (i, j, k), distinct everywhere.
    pure integer function val(i, j, k)
        integer, intent(in) :: i, j, k
        val = i + 10 * j + 100 * k
    end function

    subroutine t_int8()
        type(pzarr_array) :: a
        integer(int8) :: u(NX, NY, NZ), plane(NX, NY)
        integer :: i, j, k
        call make('int8', PZARR_INT8, a)
        do k = rank + 1, NZ, nranks
            do j = 1, NY
                do i = 1, NX
                    plane(i, j) = int(mod(val(i, j, k), 127), int8)
                end do
            end do
            call check(pzarr_array_write(a, [1, 1, k], plane), 'write int8')
        end do
        call check(pzarr_array_flush(a), 'flush int8')
        u = 0
        call check(pzarr_array_read(a, [1, 1, 1], u), 'read int8')
        call expect(all(u == reshape([(((int(mod(val(i, j, k), 127), int8), i = 1, NX), &
                        j = 1, NY), k = 1, NZ)], [NX, NY, NZ])), 'int8')
        call check(pzarr_array_close(a), 'close int8')
    end subroutine

    subroutine t_int16()
        type(pzarr_array) :: a
        integer(int16) :: u(NX, NY, NZ), plane(NX, NY)
        integer :: i, j, k
        call make('int16', PZARR_INT16, a)
        do k = rank + 1, NZ, nranks
            plane = reshape([((int(-val(i, j, k), int16), i = 1, NX), j = 1, NY)], [NX, NY])
            call check(pzarr_array_write(a, [1_int64, 1_int64, int(k, int64)], plane), 'write int16')
        end do
        call check(pzarr_array_flush(a), 'flush int16')
        call check(pzarr_array_read(a, [1, 1, 1], u), 'read int16')
        call expect(all(u == reshape([(((int(-val(i, j, k), int16), i = 1, NX), j = 1, NY), &
                        k = 1, NZ)], [NX, NY, NZ])), 'int16')
        call check(pzarr_array_close(a), 'close int16')
    end subroutine

    subroutine t_int32()
        type(pzarr_array) :: a
        integer(int32) :: u(NX, NY, NZ), plane(NX, NY), box(2, 3, 2)
        integer :: i, j, k
        call make('int32', PZARR_INT32, a)
        do k = rank + 1, NZ, nranks
            plane = reshape([((val(i, j, k), i = 1, NX), j = 1, NY)], [NX, NY])
            call check(pzarr_array_write(a, [1, 1, k], plane), 'write int32')
        end do
        call check(pzarr_array_flush(a), 'flush int32')
        call check(pzarr_array_read(a, [1, 1, 1], u), 'read int32')
        call expect(all(u == reshape([(((val(i, j, k), i = 1, NX), j = 1, NY), k = 1, NZ)], &
                        [NX, NY, NZ])), 'int32')
        ! A box at the far ragged corner: x 6..7, y 3..5, z 2..3.
        call check(pzarr_array_read(a, [6, 3, 2], box), 'read int32 corner')
        call expect(all(box == u(6:7, 3:5, 2:3)), 'int32 corner box')
        call t_copy(a, u)
        call check(pzarr_array_close(a), 'close int32')
    end subroutine

    ! pzarr_array_copy from Fortran: new chunks (x first) and codec, then
    ! the same values through the copy; a second copy onto it is refused.
    subroutine t_copy(a, u)
        type(pzarr_array), intent(in) :: a
        integer(int32), intent(in) :: u(NX, NY, NZ)
        type(pzarr_array) :: c
        integer(int32) :: v(NX, NY, NZ)
        integer(int64) :: ch(3)
        integer :: nd
        call check(pzarr_array_copy(a, s, 'int32_copy', chunks=[NX, 1, 2], codec='zstd:1', &
                                    memory=1048576_int64), 'copy int32')
        call check(pzarr_array_open(s, 'int32_copy', c), 'open the copy')
        call check(pzarr_array_get_info(c, ndim=nd, chunks=ch), 'info of the copy')
        call expect(nd == 3 .and. all(ch == [int(NX, int64), 1_int64, 2_int64]), &
                    'the copy''s chunks, x first')
        call check(pzarr_array_read_all(c, [1, 1, 1], v), 'read the copy')
        call expect(all(v == u), 'the copy''s values')
        call check(pzarr_array_close(c), 'close the copy')
        call expect(pzarr_array_copy(a, s, 'int32_copy') == PZARR_EEXIST, 'a copy onto it refused')
    end subroutine

    subroutine t_int64()
        type(pzarr_array) :: a
        integer(int64) :: u(NX, NY, NZ), line(NX)
        integer :: i, j, k
        call make('int64', PZARR_INT64, a)
        ! Rank-1 buffers: one x line at a time (the box is (NX, 1, 1)).
        do k = rank + 1, NZ, nranks
            do j = 1, NY
                line = [(int(val(i, j, k), int64) * 10000000000_int64, i = 1, NX)]
                call check(pzarr_array_write(a, [1, j, k], line), 'write int64')
            end do
        end do
        call check(pzarr_array_flush(a), 'flush int64')
        call check(pzarr_array_read_all(a, [1, 1, 1], u), 'read_all int64')
        call expect(all(u == reshape([(((int(val(i, j, k), int64) * 10000000000_int64, &
                        i = 1, NX), j = 1, NY), k = 1, NZ)], [NX, NY, NZ])), 'int64')
        call check(pzarr_array_close(a), 'close int64')
    end subroutine

    subroutine t_real32()
        type(pzarr_array) :: a
        real(real32) :: u(NX, NY, NZ), v(NX, NY, NZ)
        integer :: i, j, k
        call make('real32', PZARR_FLOAT32, a)
        v = reshape([(((real(val(i, j, k), real32) / 8, i = 1, NX), j = 1, NY), k = 1, NZ)], &
                    [NX, NY, NZ])
        ! A non-contiguous section: the compiler copies it in.
        do k = rank + 1, NZ, nranks
            call check(pzarr_array_write(a, [1, 1, k], v(:, :, k:k)), 'write real32')
        end do
        call check(pzarr_array_flush(a), 'flush real32')
        call check(pzarr_array_read(a, [1, 1, 1], u), 'read real32')
        call expect(all(u == v), 'real32')
        ! Read into a strided section: copied out again.
        u = -1
        call check(pzarr_array_read(a, [1, 1, 1], u(1:NX:2, :, :)), 'read real32 strided')
        call expect(all(u(1:NX:2, :, :) == v(1:4, :, :)) .and. all(u(2:NX:2, :, :) == -1), &
                    'real32 strided section')
        call check(pzarr_array_close(a), 'close real32')
    end subroutine

    subroutine t_real64()
        type(pzarr_array) :: a
        real(real64) :: u(NX, NY, NZ), v(NX, NY, NZ)
        integer :: i, j, k
        call make('real64', PZARR_FLOAT64, a)
        v = reshape([(((1d0 / val(i, j, k), i = 1, NX), j = 1, NY), k = 1, NZ)], [NX, NY, NZ])
        do k = rank + 1, NZ, nranks
            call check(pzarr_array_write(a, [1, 1, k], v(:, :, k)), 'write real64')
        end do
        call check(pzarr_array_flush(a), 'flush real64')
        call check(pzarr_array_read(a, [1, 1, 1], u), 'read real64')
        call expect(all(u == v), 'real64')
        call check(pzarr_array_close(a), 'close real64')
    end subroutine

    subroutine t_complex32()
        type(pzarr_array) :: a
        complex(real32) :: u(NX, NY, NZ), v(NX, NY, NZ)
        integer :: i, j, k
        call make('complex64', PZARR_COMPLEX64, a)
        v = reshape([(((cmplx(val(i, j, k), -k, real32), i = 1, NX), j = 1, NY), k = 1, NZ)], &
                    [NX, NY, NZ])
        do k = rank + 1, NZ, nranks
            call check(pzarr_array_write(a, [1, 1, k], v(:, :, k)), 'write complex64')
        end do
        call check(pzarr_array_flush(a), 'flush complex64')
        call check(pzarr_array_read(a, [1, 1, 1], u), 'read complex64')
        call expect(all(u == v), 'complex64')
        call check(pzarr_array_close(a), 'close complex64')
    end subroutine

    subroutine t_complex64()
        type(pzarr_array) :: a
        complex(real64) :: u(NX, NY, NZ), v(NX, NY, NZ)
        integer :: i, j, k
        call make('complex128', PZARR_COMPLEX128, a)
        v = reshape([(((cmplx(1d0 / val(i, j, k), j, real64), i = 1, NX), j = 1, NY), &
                    k = 1, NZ)], [NX, NY, NZ])
        do k = rank + 1, NZ, nranks
            call check(pzarr_array_write(a, [1, 1, k], v(:, :, k)), 'write complex128')
        end do
        call check(pzarr_array_flush(a), 'flush complex128')
        call check(pzarr_array_read(a, [1, 1, 1], u), 'read complex128')
        call expect(all(u == v), 'complex128')
        call check(pzarr_array_close(a), 'close complex128')
    end subroutine

    subroutine t_logical()
        type(pzarr_array) :: a
        logical :: u(NX, NY, NZ), v(NX, NY, NZ)
        integer :: i, j, k
        call make('bool', PZARR_BOOL, a)
        v = reshape([(((mod(val(i, j, k), 3) == 0, i = 1, NX), j = 1, NY), k = 1, NZ)], &
                    [NX, NY, NZ])
        do k = rank + 1, NZ, nranks
            call check(pzarr_array_write(a, [1, 1, k], v(:, :, k)), 'write logical')
        end do
        call check(pzarr_array_flush(a), 'flush logical')
        call check(pzarr_array_read(a, [1, 1, 1], u), 'read logical')
        call expect(all(u .eqv. v), 'logical')
        call check(pzarr_array_close(a), 'close logical')
    end subroutine

    subroutine t_logical_c()
        type(pzarr_array) :: a
        logical(c_bool) :: u(NX, NY, NZ), v(NX, NY, NZ)
        logical :: w(NX, NY, NZ)
        integer :: i, j, k
        ! The array written with default logicals, read as one-byte ones.
        call check(pzarr_array_open(s, 'bool', a), 'open bool')
        w = reshape([(((mod(val(i, j, k), 3) == 0, i = 1, NX), j = 1, NY), k = 1, NZ)], &
                    [NX, NY, NZ])
        v = w
        call check(pzarr_array_read(a, [1, 1, 1], u), 'read logical(c_bool)')
        call expect(logical(all(u .eqv. v)), 'logical(c_bool)')
        call check(pzarr_array_close(a), 'close bool')
    end subroutine

    ! character(len=4) into fixed-length byte strings (v2 "|S4").
    subroutine t_strings()
        type(pzarr_array) :: a
        type(pzarr_spec) :: sp
        character(len=4) :: w(5), u(5)
        character(len=2) :: short(5)
        integer :: rc
        w = [character(len=4) :: 'ab', 'cdef', 'g', '', 'hijk']
        sp%zarr_format = 2
        sp%dtype = pzarr_string_bytes(4)
        sp%ndim = 1
        sp%shape(1) = 5
        sp%chunks(1) = 2
        call check(pzarr_array_create(s, 'strings', sp, a), 'create strings')
        if (rank == 0) call check(pzarr_array_write(a, [1], w), 'write strings')
        call check(pzarr_array_flush(a), 'flush strings')
        u = 'xxxx'
        call check(pzarr_array_read(a, [1], u), 'read strings')
        ! Stored as bytes: the blanks Fortran pads with come back as written.
        call expect(all(u == w), 'strings')
        rc = pzarr_array_read(a, [1], short)
        call expect(rc == PZARR_EINVAL, 'character(len=2) for 4-byte strings is refused')
        call check(pzarr_array_close(a), 'close strings')
    end subroutine

    ! A scalar buffer is a box of one element; a rank-7 buffer a whole 7-D
    ! array.
    subroutine t_ranks_0_and_7()
        type(pzarr_array) :: a
        type(pzarr_spec) :: sp
        integer(int16) :: w(2, 1, 3, 1, 2, 1, 2), u(2, 1, 3, 1, 2, 1, 2), one
        integer :: i
        w = reshape([(int(i, int16), i = 1, size(w))], shape(w))
        sp%dtype = PZARR_INT16
        sp%ndim = 7
        sp%shape(1:7) = shape(w)
        sp%chunks(1:7) = [1, 1, 2, 1, 1, 1, 2]
        call check(pzarr_array_create(s, 'seven', sp, a), 'create seven')
        if (rank == 0) call check(pzarr_array_write(a, [1, 1, 1, 1, 1, 1, 1], w), 'write seven')
        call check(pzarr_array_flush(a), 'flush seven')
        call check(pzarr_array_read(a, [1, 1, 1, 1, 1, 1, 1], u), 'read seven')
        call expect(all(u == w), 'rank-7 buffer')
        call check(pzarr_array_read(a, [2, 1, 3, 1, 1, 1, 2], one), 'read a scalar')
        call expect(one == w(2, 1, 3, 1, 1, 1, 2), 'scalar at (2, 1, 3, 1, 1, 1, 2)')
        one = -5
        if (rank == nranks - 1) call check(pzarr_array_write(a, [1, 1, 2, 1, 2, 1, 1], one), &
                                           'write a scalar')
        call check(pzarr_array_flush(a), 'flush scalar')
        call check(pzarr_array_read(a, [1, 1, 1, 1, 1, 1, 1], u), 'read seven again')
        w(1, 1, 2, 1, 2, 1, 1) = -5
        call expect(all(u == w), 'the scalar landed at its element only')
        call check(pzarr_array_close(a), 'close seven')
    end subroutine

    ! The Zarr shape is (NZ, NY, NX): the same values through an array made
    ! from its C-order document, where element (i, j, k) sits at the C index
    ! [k-1, j-1, i-1].
    subroutine t_shape_and_order()
        type(pzarr_array) :: a, b
        integer(int64) :: shape(3), chunks(3)
        integer :: ndim, dtype, i, j, k
        integer(int32) :: u(NX, NY, NZ), one(1, 1, 1)
        character(len=:), allocatable :: names(:)
        call check(pzarr_array_open(s, 'int32', a), 'open int32')
        call check(pzarr_array_get_info(a, ndim=ndim, dtype=dtype, shape=shape, chunks=chunks), &
                   'info')
        call expect(ndim == 3 .and. dtype == PZARR_INT32 .and. all(shape == [NX, NY, NZ]) .and. &
                    all(chunks == [3, 2, 2]), 'info in Fortran order')
        call check(pzarr_array_dimension_names(a, names), 'dimension names')
        call expect(allocated(names), 'names present')
        if (allocated(names)) call expect(size(names) == 3 .and. names(1) == 'x' .and. &
                                          names(3) == 'z', 'dimension names x first')
        call check(pzarr_array_read(a, [1, 1, 1], u), 'read int32 again')
        call check(pzarr_array_close(a), 'close int32')
        ! The same bytes as a C-order array of shape [NZ, NY, NX]: the
        ! document below is that shape, and a Fortran read of it gives u.
        call check(pzarr_array_create(s, 'c_order', &
            '{"zarr_format":3,"node_type":"array","shape":[3,5,7],"data_type":"int32",' // &
            '"chunk_grid":{"name":"regular","configuration":{"chunk_shape":[2,2,3]}},' // &
            '"chunk_key_encoding":{"name":"default","configuration":{"separator":"/"}},' // &
            '"codecs":[{"name":"bytes","configuration":{"endian":"little"}}],' // &
            '"fill_value":0}', b), 'create c_order')
        if (rank == 0) call check(pzarr_array_write(b, [1, 1, 1], u), 'write c_order')
        call check(pzarr_array_flush(b), 'flush c_order')
        do k = 1, NZ
            do j = 1, NY
                do i = 1, NX
                    if (mod(i + j + k + rank, 4) /= 0) cycle
                    call check(pzarr_array_read(b, [i, j, k], one), 'read one')
                    call expect(one(1, 1, 1) == val(i, j, k), 'element at its C index')
                end do
            end do
        end do
        call check(pzarr_array_close(b), 'close c_order')
    end subroutine

end program
