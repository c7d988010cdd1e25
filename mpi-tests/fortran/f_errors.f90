! Errors come back as codes with messages, on a program that uses the `mpi`
! module (an integer communicator): a missing store, a buffer of the wrong
! type, starts that are not 1-based, out of bounds or of the wrong length, a
! buffer of too many dimensions, a wrong buffer on one rank of a collective
! read. Around them the calls that work: groups, attributes, resize, the
! dimension names, round-robin ownership.
program f_errors
    use mpi
    use pzarr
    use, intrinsic :: iso_fortran_env, only: int64, real64
    implicit none
    type(pzarr_store) :: s, missing
    type(pzarr_array) :: a
    type(pzarr_spec) :: sp
    integer :: rank, nranks, ierr, failures, rc, kind, info
    integer(int64) :: finished, removed
    integer :: box(4, 3), big(4, 3, 2), back(4, 3)
    integer(int64) :: shape(2)
    real(real64) :: wrong(4, 3)
    character(len=256) :: dir
    character(len=:), allocatable :: json, names(:), dnames(:)

    call MPI_Init(ierr)
    call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
    call MPI_Comm_size(MPI_COMM_WORLD, nranks, ierr)
    call get_command_argument(1, dir)
    failures = 0

    ! A store that is not there.
    rc = pzarr_open(MPI_COMM_WORLD, trim(dir)//'/nothing/here', PZARR_RDONLY, missing)
    call expect(rc == PZARR_ENOENT, 'open of a missing store gives PZARR_ENOENT')
    call expect(index(pzarr_errmsg(missing), 'nothing/here') > 0, &
                'its message names the path: '//pzarr_errmsg(missing))
    rc = pzarr_close(missing)
    call expect(pzarr_strerror(PZARR_ENOENT) == 'no such node or file', 'pzarr_strerror')

    call ok(pzarr_open(MPI_COMM_WORLD, trim(dir)//'/store', PZARR_CREATE, s), 'open')
    call ok(pzarr_group_create(s, 'run/fields', '{"title": "errors"}'), 'group_create')
    sp%dtype = PZARR_INT32
    rc = pzarr_array_create(s, 'run/fields/t', sp, a)
    call expect(rc == PZARR_EINVAL .and. index(pzarr_errmsg(s), 'ndim is not set') > 0, &
                'a spec without ndim is refused: '//pzarr_errmsg(s))
    sp%ndim = 2
    sp%shape(1:2) = [8, 3]       ! Fortran (x = 8, y = 3): Zarr [3, 8]
    sp%chunks(1:2) = [4, 2]
    sp%dims(1:2) = [character(len=3) :: 'x', 'y']
    sp%attributes = '{"units": "K"}'
    call ok(pzarr_array_create(s, 'run/fields/t', sp, a), 'create')
    call ok(pzarr_node_kind_of(s, 'run/fields/t', kind), 'kind_of')
    call expect(kind == PZARR_NODE_ARRAY, 'the node is an array')
    call ok(pzarr_group_list(s, 'run', names), 'group_list')
    call expect(size(names) == 1 .and. names(1) == 'fields', 'the group lists its child')

    ! Wrong type: real(real64) into int32.
    wrong = 1
    rc = pzarr_array_write(a, [1, 1], wrong)
    call expect(rc == PZARR_EINVAL, 'a real(real64) buffer into int32 gives PZARR_EINVAL')
    call expect(index(pzarr_array_errmsg(a), 'real(real64)') > 0 .and. &
                index(pzarr_array_errmsg(a), 'int32') > 0, &
                'the message names both types: '//pzarr_array_errmsg(a))
    ! Starts: 0 (not 1-based), too many values, past the end.
    box = 7
    rc = pzarr_array_write(a, [0, 1], box)
    call expect(rc == PZARR_EBOUNDS .and. index(pzarr_array_errmsg(a), '1-based') > 0, &
                'start 0 is refused as not 1-based: '//pzarr_array_errmsg(a))
    rc = pzarr_array_write(a, [1, 1, 1], box)
    call expect(rc == PZARR_EINVAL .and. index(pzarr_array_errmsg(a), 'start has 3') > 0, &
                'a start of 3 values for 2 dimensions: '//pzarr_array_errmsg(a))
    rc = pzarr_array_write(a, [6_int64, 1_int64], box)
    call expect(rc == PZARR_EBOUNDS, 'x 6..9 of 8 is out of bounds: '//pzarr_array_errmsg(a))
    rc = pzarr_array_write(a, [1, 1], big)
    call expect(rc == PZARR_EINVAL .and. index(pzarr_array_errmsg(a), 'rank 3') > 0, &
                'a rank-3 buffer of extent 2 for 2 dimensions: '//pzarr_array_errmsg(a))

    ! What works: each rank its own x range at the ragged edge.
    box = reshape([(rank * 100 + ierr, ierr = 1, 12)], [4, 3])
    if (rank == nranks - 1) call ok(pzarr_array_write(a, [5, 1], box), 'write')
    call ok(pzarr_array_flush(a), 'flush')
    call ok(pzarr_array_read(a, [5, 1], back), 'read')
    call expect(all(back == reshape([((nranks - 1) * 100 + ierr, ierr = 1, 12)], [4, 3])), &
                'the box read back')

    ! A wrong buffer on the last rank of a collective read: every rank fails.
    if (rank == nranks - 1) then
        rc = pzarr_array_read_all(a, [1, 1], wrong)
    else
        rc = pzarr_array_read_all(a, [1, 1], back)
    end if
    call expect(rc == PZARR_EINVAL, 'read_all with a wrong buffer somewhere fails everywhere: '// &
                pzarr_array_errmsg(a))

    ! Resize (Fortran order), info, names, attributes, ownership.
    call ok(pzarr_array_resize(a, [8, 5]), 'resize')
    call ok(pzarr_array_get_info(a, shape=shape), 'info')
    call expect(all(shape == [8, 5]), 'the new shape, x first')
    call ok(pzarr_array_dimension_names(a, dnames), 'dimension names')
    call expect(dnames(1) == 'x' .and. dnames(2) == 'y', 'dimension names x first')
    call ok(pzarr_array_set_owner(a, PZARR_OWNER_ROUND_ROBIN), 'set_owner')
    rc = pzarr_array_set_owner(a, PZARR_OWNER_BLOCK, [1, 1, nranks])
    call expect(rc == PZARR_EINVAL, 'set_owner with 3 dims for 2 dimensions')
    call ok(pzarr_array_close(a), 'close')
    call ok(pzarr_attrs_update(s, 'run/fields/t', '{"step": 3, "units": null}'), 'attrs_update')
    call ok(pzarr_attrs_get(s, 'run/fields/t', json), 'attrs_get')
    call expect(index(json, '"step"') > 0 .and. index(json, '"units"') == 0, &
                'attributes merged: '//json)
    call ok(pzarr_attrs_set(s, 'run', '{"a": 1}'), 'attrs_set')
    call ok(pzarr_attrs_get(s, 'run', json), 'attrs_get group')
    call expect(index(json, '"a"') > 0, 'group attributes replaced: '//json)
    rc = pzarr_array_open(s, 'run/none', a)
    call expect(rc == PZARR_ENOENT .and. index(pzarr_errmsg(s), 'run/none') > 0, &
                'opening a missing array names it: '//pzarr_errmsg(s))
    call ok(pzarr_clean(s, '', finished, removed), 'clean')
    call expect(finished == 0 .and. removed == 0, 'nothing to clean after complete flushes')
    call ok(pzarr_close(s), 'close store')

    ! MPI-IO hints as an integer MPI_Info: the chunk files go through MPI-IO.
    call MPI_Info_create(info, ierr)
    call MPI_Info_set(info, 'romio_cb_write', 'disable', ierr)
    call ok(pzarr_open(MPI_COMM_WORLD, trim(dir)//'/hinted', PZARR_CREATE, s, info), 'open hinted')
    call MPI_Info_free(info, ierr)
    sp%attributes = '{}'
    call ok(pzarr_array_create(s, 'h', sp, a), 'create hinted')
    if (rank == 0) call ok(pzarr_array_write(a, [1, 1], box), 'write hinted')
    call ok(pzarr_array_flush(a), 'flush hinted')
    call ok(pzarr_array_read(a, [1, 1], back), 'read hinted')
    call expect(all(back == box) .or. rank /= 0, 'the box through MPI-IO')
    call ok(pzarr_close(s), 'close hinted')

    call MPI_Allreduce(MPI_IN_PLACE, failures, 1, MPI_INTEGER, MPI_SUM, MPI_COMM_WORLD, ierr)
    if (rank == 0 .and. failures == 0) print '(a)', 'f_errors: every error came back as expected'
    if (rank == 0 .and. failures /= 0) print '(a, i0, a)', 'f_errors: ', failures, ' failures'
    call MPI_Finalize(ierr)
    if (failures /= 0) error stop 1

contains

    subroutine ok(code, what)
        integer, intent(in) :: code
        character(len=*), intent(in) :: what
        if (code /= 0) then
            print '(a, i0, 5a)', 'rank ', rank, ': ', what, ' failed: ', pzarr_strerror(code), &
                ' | '//pzarr_errmsg(s)//' | '//pzarr_array_errmsg(a)
            failures = failures + 1
        end if
    end subroutine

    subroutine expect(cond, what)
        logical, intent(in) :: cond
        character(len=*), intent(in) :: what
        if (.not. cond) then
            print '(a, i0, 2a)', 'rank ', rank, ': not so: ', what
            failures = failures + 1
        end if
    end subroutine

end program
