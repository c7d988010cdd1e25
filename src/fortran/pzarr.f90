! The Fortran interface of pzarr: `use pzarr`.
!
! A thin layer over the C API (pzarr.h) through iso_c_binding; the C half,
! pzarr_fortran.c, handles buffers of any type and rank. Conventions:
!
! - every call is an integer function returning 0 or a negative PZARR_E*
!   code, named as in C; pzarr_strerror(code), pzarr_errmsg(store) and
!   pzarr_array_errmsg(array) give the messages;
! - Fortran order without a transpose, as netCDF-Fortran: an array declared
!   u(nx, ny, nz) is the Zarr array of shape [nz, ny, nx]. Shapes, chunks,
!   starts and dimension names are given x first; starts are 1-based; the
!   size of the box is the shape of the buffer (missing trailing dimensions
!   count as 1);
! - a buffer is any contiguous array (rank 0 to 7) of integer(int8/16/32/64),
!   real(real32/real64), complex(real32/real64), logical or character(len=n),
!   checked against the array's data type. Integers of a size also hold the
!   unsigned type of that size, integer(int16) the raw bits of float16; a
!   non-contiguous section is copied in (and out, for reads) by the compiler.
! - the communicator is type(MPI_Comm) (mpi_f08) or an integer (mpi).
module pzarr
    use, intrinsic :: iso_c_binding
    use, intrinsic :: iso_fortran_env, only: int64
    use mpi_f08, only: MPI_Comm, MPI_Info, MPI_INFO_NULL
    implicit none
    private

    integer, parameter, public :: PZARR_MAX_NDIM = 32

    ! Error codes (pzarr.h).
    integer, parameter, public :: PZARR_OK = 0, PZARR_EINVAL = -1, PZARR_ENOMEM = -2, &
        PZARR_EIO = -3, PZARR_ENOENT = -4, PZARR_EEXIST = -5, PZARR_EMETA = -6, &
        PZARR_EUNSUPPORTED = -7, PZARR_ECORRUPT = -8, PZARR_EPATH = -9, &
        PZARR_EBOUNDS = -10, PZARR_EMPI = -11, PZARR_EBUFFULL = -12, &
        PZARR_ERDONLY = -13, PZARR_ECODEC = -14, PZARR_ENOTARRAY = -15, &
        PZARR_ENOTGROUP = -16

    ! pzarr_open flags.
    integer, parameter, public :: PZARR_RDONLY = 0, PZARR_RDWR = 1, PZARR_CREATE = 2, &
        PZARR_FORMAT_V2 = 4, PZARR_DURABLE = 8, PZARR_NO_CONSOLIDATE = 16, &
        PZARR_EXCL = 64, PZARR_ASYNC = 128

    ! Data types.
    integer, parameter, public :: PZARR_BOOL = 0, PZARR_INT8 = 1, PZARR_INT16 = 2, &
        PZARR_INT32 = 3, PZARR_INT64 = 4, PZARR_UINT8 = 5, PZARR_UINT16 = 6, &
        PZARR_UINT32 = 7, PZARR_UINT64 = 8, PZARR_FLOAT16 = 9, PZARR_FLOAT32 = 10, &
        PZARR_FLOAT64 = 11, PZARR_COMPLEX64 = 12, PZARR_COMPLEX128 = 13

    ! Chunk ownership policies.
    integer, parameter, public :: PZARR_OWNER_BLOCK = 0, PZARR_OWNER_ROUND_ROBIN = 1

    ! What lives at a path.
    integer, parameter, public :: PZARR_NODE_NONE = 0, PZARR_NODE_GROUP = 1, &
        PZARR_NODE_ARRAY = 2

    type, public :: pzarr_store
        type(c_ptr) :: p = c_null_ptr
    end type

    type, public :: pzarr_array
        type(c_ptr) :: p = c_null_ptr
        type(c_ptr) :: s = c_null_ptr ! its store
    end type

    ! A checkpoint in the background (pzarr_array_iflush), like MPI_Request:
    ! waited with pzarr_wait, polled with pzarr_test.
    type, public :: pzarr_request
        type(c_ptr) :: p = c_null_ptr
    end type

    ! An array described without JSON, in Fortran order. ndim must be set
    ! (0 for a scalar array); blank strings and zero chunks take the
    ! defaults of the C spec: Zarr v3, one chunk, codec "zstd:3", fill value
    ! 0, no dimension names.
    type, public :: pzarr_spec
        integer :: zarr_format = 3
        integer :: dtype = PZARR_FLOAT64
        integer :: ndim = -1
        integer(int64) :: shape(PZARR_MAX_NDIM) = 0
        integer(int64) :: chunks(PZARR_MAX_NDIM) = 0
        integer(int64) :: shard(PZARR_MAX_NDIM) = 0   ! v3 shards; all 0: none
        character(len=64) :: codec = ''                ! "zstd:3", "blosc:lz4:5:shuffle", ...
        character(len=64) :: fill = ''                 ! "0", "nan", "-1.5", ...
        character(len=64) :: dims(PZARR_MAX_NDIM) = '' ! dimension names
        character(len=:), allocatable :: attributes    ! a JSON object
    end type

    public :: pzarr_open, pzarr_close, pzarr_errmsg, pzarr_strerror, pzarr_string_bytes
    public :: pzarr_clean
    public :: pzarr_array_create, pzarr_array_open, pzarr_array_close, pzarr_array_flush
    public :: pzarr_array_write, pzarr_array_read, pzarr_array_read_all
    public :: pzarr_array_errmsg, pzarr_array_get_info, pzarr_array_resize
    public :: pzarr_array_dimension_names, pzarr_array_set_owner
    public :: pzarr_group_create, pzarr_node_kind_of, pzarr_group_list
    public :: pzarr_attrs_get, pzarr_attrs_set, pzarr_attrs_update
    public :: pzarr_array_copy
    public :: pzarr_array_iflush, pzarr_wait, pzarr_test

    interface pzarr_open
        module procedure open_f08, open_int
    end interface
    interface pzarr_array_create
        module procedure create_spec, create_json
    end interface
    interface pzarr_array_write
        module procedure write_i4, write_i8
    end interface
    interface pzarr_array_read
        module procedure read_i4, read_i8
    end interface
    interface pzarr_array_read_all
        module procedure read_all_i4, read_all_i8
    end interface
    interface pzarr_array_resize
        module procedure resize_i4, resize_i8
    end interface

    integer(c_int), parameter :: OP_WRITE = 0, OP_READ = 1, OP_READ_ALL = 2

    interface
        integer(c_int) function c_open(comm, path, flags, info, out) bind(C, name="pzarr_f_open")
            import :: c_int, c_char, c_ptr
            integer(c_int), value :: comm, flags, info
            character(kind=c_char), intent(in) :: path(*)
            type(c_ptr), intent(out) :: out
        end function
        integer(c_int) function c_clean(s, name, finished, removed) bind(C, name="pzarr_clean")
            import :: c_int, c_char, c_ptr, c_int64_t
            type(c_ptr), value :: s
            character(kind=c_char), intent(in) :: name(*)
            integer(c_int64_t), intent(out) :: finished, removed
        end function
        integer(c_int) function c_close(s) bind(C, name="pzarr_close")
            import :: c_int, c_ptr
            type(c_ptr), value :: s
        end function
        pure type(c_ptr) function c_errmsg(s) bind(C, name="pzarr_errmsg")
            import :: c_ptr
            type(c_ptr), value :: s
        end function
        pure type(c_ptr) function c_array_errmsg(a) bind(C, name="pzarr_array_errmsg")
            import :: c_ptr
            type(c_ptr), value :: a
        end function
        pure type(c_ptr) function c_strerror(code) bind(C, name="pzarr_strerror")
            import :: c_ptr, c_int
            integer(c_int), value :: code
        end function
        integer(c_int) function c_array_create(s, name, json, out) &
                bind(C, name="pzarr_array_create")
            import :: c_int, c_char, c_ptr
            type(c_ptr), value :: s
            character(kind=c_char), intent(in) :: name(*), json(*)
            type(c_ptr), intent(out) :: out
        end function
        integer(c_int) function c_create_spec(s, name, zarr_format, dtype, ndim, shape, &
                chunks, shard, codec, fill, dims, dimlen, attributes, out) &
                bind(C, name="pzarr_f_array_create_spec")
            import :: c_int, c_char, c_ptr, c_int64_t
            type(c_ptr), value :: s
            character(kind=c_char), intent(in) :: name(*), codec(*), fill(*), dims(*), &
                attributes(*)
            integer(c_int), value :: zarr_format, dtype, ndim, dimlen
            integer(c_int64_t), intent(in) :: shape(*), chunks(*), shard(*)
            type(c_ptr), intent(out) :: out
        end function
        integer(c_int) function c_array_open(s, name, out) bind(C, name="pzarr_array_open")
            import :: c_int, c_char, c_ptr
            type(c_ptr), value :: s
            character(kind=c_char), intent(in) :: name(*)
            type(c_ptr), intent(out) :: out
        end function
        integer(c_int) function c_array_close(a) bind(C, name="pzarr_array_close")
            import :: c_int, c_ptr
            type(c_ptr), value :: a
        end function
        integer(c_int) function c_set_owner(a, policy, dims) bind(C, name="pzarr_array_set_owner")
            import :: c_int, c_ptr
            type(c_ptr), value :: a, dims
            integer(c_int), value :: policy
        end function
        integer(c_int) function c_store_error(s, code, msg) bind(C, name="pzarr_set_error")
            import :: c_int, c_ptr, c_char
            type(c_ptr), value :: s
            integer(c_int), value :: code
            character(kind=c_char), intent(in) :: msg(*)
        end function
        integer(c_int) function c_set_error(a, code, msg) bind(C, name="pzarr_array_set_error")
            import :: c_int, c_ptr, c_char
            type(c_ptr), value :: a
            integer(c_int), value :: code
            character(kind=c_char), intent(in) :: msg(*)
        end function
        integer(c_int) function c_array_flush(a) bind(C, name="pzarr_array_flush")
            import :: c_int, c_ptr
            type(c_ptr), value :: a
        end function
        integer(c_int) function c_array_iflush(a, r) bind(C, name="pzarr_array_iflush")
            import :: c_int, c_ptr
            type(c_ptr), value :: a
            type(c_ptr), intent(out) :: r
        end function
        integer(c_int) function c_wait(r) bind(C, name="pzarr_wait")
            import :: c_int, c_ptr
            type(c_ptr), intent(inout) :: r
        end function
        integer(c_int) function c_test(r, done) bind(C, name="pzarr_test")
            import :: c_int, c_ptr
            type(c_ptr), intent(inout) :: r
            integer(c_int), intent(out) :: done
        end function
        integer(c_int) function c_array_io(s, a, op, start, nstart, buf) &
                bind(C, name="pzarr_f_array_io")
            import :: c_int, c_ptr, c_int64_t
            type(c_ptr), value :: s, a
            integer(c_int), value :: op, nstart
            integer(c_int64_t), intent(in) :: start(*)
            type(*), dimension(..), intent(inout) :: buf
        end function
        integer(c_int) function c_array_info(a, ndim, dtype, shape, chunks) &
                bind(C, name="pzarr_f_array_info")
            import :: c_int, c_ptr, c_int64_t
            type(c_ptr), value :: a
            integer(c_int), intent(out) :: ndim, dtype
            integer(c_int64_t), intent(out) :: shape(*), chunks(*)
        end function
        integer(c_int) function c_array_copy(a, s, name, n, chunks, codec, fmt, memory, resume, &
                                             reencode) bind(C, name="pzarr_f_array_copy")
            import :: c_int, c_ptr, c_int64_t, c_char
            type(c_ptr), value :: a, s
            character(kind=c_char), intent(in) :: name(*), codec(*)
            integer(c_int), value :: n, fmt, resume, reencode
            integer(c_int64_t), intent(in) :: chunks(*)
            integer(c_int64_t), value :: memory
        end function
        integer(c_int) function c_array_resize(a, n, shape) bind(C, name="pzarr_f_array_resize")
            import :: c_int, c_ptr, c_int64_t
            type(c_ptr), value :: a
            integer(c_int), value :: n
            integer(c_int64_t), intent(in) :: shape(*)
        end function
        integer(c_int) function c_dimension_names(a, names, len, count) &
                bind(C, name="pzarr_f_array_dimension_names")
            import :: c_int, c_ptr, c_char
            type(c_ptr), value :: a
            character(kind=c_char), intent(out) :: names(*)
            integer(c_int), value :: len
            integer(c_int), intent(out) :: count
        end function
        integer(c_int) function c_group_create(s, name, zarr_format, attrs) &
                bind(C, name="pzarr_group_create")
            import :: c_int, c_char, c_ptr
            type(c_ptr), value :: s, attrs
            character(kind=c_char), intent(in) :: name(*)
            integer(c_int), value :: zarr_format
        end function
        integer(c_int) function c_node_kind_of(s, name, kind) bind(C, name="pzarr_node_kind_of")
            import :: c_int, c_char, c_ptr
            type(c_ptr), value :: s
            character(kind=c_char), intent(in) :: name(*)
            integer(c_int), intent(out) :: kind
        end function
        integer(c_int) function c_group_list(s, name, names, count) bind(C, name="pzarr_group_list")
            import :: c_int, c_char, c_ptr, c_size_t
            type(c_ptr), value :: s
            character(kind=c_char), intent(in) :: name(*)
            type(c_ptr), intent(out) :: names
            integer(c_size_t), intent(out) :: count
        end function
        subroutine c_free_list(names, count) bind(C, name="pzarr_free_list")
            import :: c_ptr, c_size_t
            type(c_ptr), value :: names
            integer(c_size_t), value :: count
        end subroutine
        integer(c_int) function c_attrs_get(s, name, json) bind(C, name="pzarr_attrs_get")
            import :: c_int, c_char, c_ptr
            type(c_ptr), value :: s
            character(kind=c_char), intent(in) :: name(*)
            type(c_ptr), intent(out) :: json
        end function
        integer(c_int) function c_attrs_set(s, name, json) bind(C, name="pzarr_attrs_set")
            import :: c_int, c_char, c_ptr
            type(c_ptr), value :: s
            character(kind=c_char), intent(in) :: name(*), json(*)
        end function
        integer(c_int) function c_attrs_update(s, name, json) bind(C, name="pzarr_attrs_update")
            import :: c_int, c_char, c_ptr
            type(c_ptr), value :: s
            character(kind=c_char), intent(in) :: name(*), json(*)
        end function
        subroutine c_free(p) bind(C, name="pzarr_free")
            import :: c_ptr
            type(c_ptr), value :: p
        end subroutine
        pure integer(c_size_t) function c_strlen(p) bind(C, name="strlen")
            import :: c_ptr, c_size_t
            type(c_ptr), value :: p
        end function
        pure subroutine c_copy(dst, src, n) bind(C, name="pzarr_f_copy")
            import :: c_ptr, c_size_t, c_char
            character(kind=c_char), intent(out) :: dst(*)
            type(c_ptr), value :: src
            integer(c_size_t), value :: n
        end subroutine
    end interface

contains

    ! ------------------------------------------------------------ strings

    ! A Fortran string as C wants it: trailing blanks dropped, NUL added.
    pure function cstr(s) result(c)
        character(len=*), intent(in) :: s
        character(kind=c_char, len=len_trim(s) + 1) :: c
        c = trim(s)//c_null_char
    end function

    ! A copy of the NUL-terminated C string at p ('' for a null pointer).
    pure function fstr(p) result(s)
        type(c_ptr), intent(in) :: p
        character(len=:), allocatable :: s
        integer(c_size_t) :: n
        if (.not. c_associated(p)) then
            s = ''
            return
        end if
        n = c_strlen(p)
        allocate (character(len=n) :: s)
        if (n > 0) call c_copy(s, p, n)
    end function

    ! The data type of fixed-length byte strings of n bytes (numpy "|Sn",
    ! Zarr v2), held in character(len=n) buffers.
    elemental integer function pzarr_string_bytes(n)
        integer, intent(in) :: n
        pzarr_string_bytes = 1048576 + n ! PZARR_STRING_BYTES(n) in pzarr.h
    end function

    ! ------------------------------------------------------------ stores

    ! Opens (or with PZARR_CREATE makes) the store at path. info: MPI-IO
    ! hints for the chunk files, as pzarr_open_info takes them. Collective.
    integer function open_f08(comm, path, flags, store, info) result(rc)
        type(MPI_Comm), intent(in) :: comm
        character(len=*), intent(in) :: path
        integer, intent(in) :: flags
        type(pzarr_store), intent(out) :: store
        type(MPI_Info), intent(in), optional :: info
        type(MPI_Info) :: hints
        hints = MPI_INFO_NULL
        if (present(info)) hints = info
        rc = c_open(int(comm%MPI_VAL, c_int), cstr(path), int(flags, c_int), &
                    int(hints%MPI_VAL, c_int), store%p)
    end function

    ! The same with the `mpi` module's integer handles.
    integer function open_int(comm, path, flags, store, info) result(rc)
        integer, intent(in) :: comm
        character(len=*), intent(in) :: path
        integer, intent(in) :: flags
        type(pzarr_store), intent(out) :: store
        integer, intent(in), optional :: info
        type(MPI_Info) :: hints
        hints = MPI_INFO_NULL
        if (present(info)) hints%MPI_VAL = info
        rc = c_open(int(comm, c_int), cstr(path), int(flags, c_int), &
                    int(hints%MPI_VAL, c_int), store%p)
    end function

    ! Finishes the flushes a killed job committed and removes the files of
    ! those it never committed, under name ('' for the whole store); only
    ! while no other job writes there. Collective.
    integer function pzarr_clean(store, name, finished, removed) result(rc)
        type(pzarr_store), intent(in) :: store
        character(len=*), intent(in) :: name
        integer(int64), intent(out), optional :: finished, removed
        integer(c_int64_t) :: f, r
        rc = c_clean(store%p, cstr(name), f, r)
        if (present(finished)) finished = f
        if (present(removed)) removed = r
    end function

    ! Closes (and flushes) the arrays still open, then the store. Collective.
    integer function pzarr_close(store) result(rc)
        type(pzarr_store), intent(inout) :: store
        rc = c_close(store%p)
        store%p = c_null_ptr
    end function

    pure function pzarr_errmsg(store) result(msg)
        type(pzarr_store), intent(in) :: store
        character(len=:), allocatable :: msg
        msg = fstr(c_errmsg(store%p))
    end function

    pure function pzarr_strerror(code) result(msg)
        integer, intent(in) :: code
        character(len=:), allocatable :: msg
        msg = fstr(c_strerror(int(code, c_int)))
    end function

    ! ------------------------------------------------------------ arrays

    ! Creates the array a spec describes (shape, chunks, names x first).
    integer function create_spec(store, name, spec, array) result(rc)
        type(pzarr_store), intent(in) :: store
        character(len=*), intent(in) :: name
        type(pzarr_spec), intent(in) :: spec
        type(pzarr_array), intent(out) :: array
        character(len=:), allocatable :: attrs
        if (spec%ndim < 0) then
            rc = c_store_error(store%p, int(PZARR_EINVAL, c_int), &
                               cstr('pzarr_array_create "'//name//'": spec%ndim is not set '// &
                                    '(the number of dimensions; 0 for a scalar array)'))
            return
        end if
        attrs = ''
        if (allocated(spec%attributes)) attrs = spec%attributes
        rc = c_create_spec(store%p, cstr(name), int(spec%zarr_format, c_int), &
                           int(spec%dtype, c_int), int(spec%ndim, c_int), &
                           int(spec%shape, c_int64_t), int(spec%chunks, c_int64_t), &
                           int(spec%shard, c_int64_t), cstr(spec%codec), cstr(spec%fill), &
                           spec%dims, int(len(spec%dims), c_int), cstr(attrs), array%p)
        array%s = store%p
    end function

    ! Creates an array from its Zarr metadata document (C order, as stored).
    integer function create_json(store, name, json, array) result(rc)
        type(pzarr_store), intent(in) :: store
        character(len=*), intent(in) :: name, json
        type(pzarr_array), intent(out) :: array
        rc = c_array_create(store%p, cstr(name), cstr(json), array%p)
        array%s = store%p
    end function

    integer function pzarr_array_open(store, name, array) result(rc)
        type(pzarr_store), intent(in) :: store
        character(len=*), intent(in) :: name
        type(pzarr_array), intent(out) :: array
        rc = c_array_open(store%p, cstr(name), array%p)
        array%s = store%p
    end function

    integer function pzarr_array_close(array) result(rc)
        type(pzarr_array), intent(inout) :: array
        rc = c_array_close(array%p)
        array%p = c_null_ptr
    end function

    integer function pzarr_array_flush(array) result(rc)
        type(pzarr_array), intent(in) :: array
        rc = c_array_flush(array%p)
    end function

    ! Starts a checkpoint in the background: the collective part now, this
    ! rank's encoding and writing in background threads (which make no MPI
    ! calls: MPI_THREAD_FUNNELED is enough; below it, the flush happens at
    ! once). Collective.
    integer function pzarr_array_iflush(array, request) result(rc)
        type(pzarr_array), intent(in) :: array
        type(pzarr_request), intent(out) :: request
        rc = c_array_iflush(array%p, request%p)
    end function

    ! Waits for every rank's background work and publishes the checkpoint,
    ! all or nothing; the request is released. Collective.
    integer function pzarr_wait(request) result(rc)
        type(pzarr_request), intent(inout) :: request
        rc = c_wait(request%p)
    end function

    ! done = .true. when this rank's background work is over (pzarr_wait
    ! still publishes). Local.
    integer function pzarr_test(request, done) result(rc)
        type(pzarr_request), intent(inout) :: request
        logical, intent(out) :: done
        integer(c_int) :: d
        rc = c_test(request%p, d)
        done = rc == 0 .and. d /= 0
    end function

    pure function pzarr_array_errmsg(array) result(msg)
        type(pzarr_array), intent(in) :: array
        character(len=:), allocatable :: msg
        msg = fstr(c_array_errmsg(array%p))
    end function

    ! Writes buf at start (1-based, x first); its shape is the box. Local.
    integer function write_i8(array, start, buf) result(rc)
        type(pzarr_array), intent(in) :: array
        integer(int64), intent(in) :: start(:)
        type(*), dimension(..), contiguous, intent(in) :: buf
        rc = io(array, OP_WRITE, int(start, c_int64_t), buf)
    end function

    integer function write_i4(array, start, buf) result(rc)
        type(pzarr_array), intent(in) :: array
        integer, intent(in) :: start(:)
        type(*), dimension(..), contiguous, intent(in) :: buf
        rc = io(array, OP_WRITE, int(start, c_int64_t), buf)
    end function

    ! Reads the box of buf's shape at start. Local.
    integer function read_i8(array, start, buf) result(rc)
        type(pzarr_array), intent(in) :: array
        integer(int64), intent(in) :: start(:)
        type(*), dimension(..), contiguous, intent(inout) :: buf
        rc = io_inout(array, OP_READ, int(start, c_int64_t), buf)
    end function

    integer function read_i4(array, start, buf) result(rc)
        type(pzarr_array), intent(in) :: array
        integer, intent(in) :: start(:)
        type(*), dimension(..), contiguous, intent(inout) :: buf
        rc = io_inout(array, OP_READ, int(start, c_int64_t), buf)
    end function

    ! Collective read: each rank its own box (buf may be empty).
    integer function read_all_i8(array, start, buf) result(rc)
        type(pzarr_array), intent(in) :: array
        integer(int64), intent(in) :: start(:)
        type(*), dimension(..), contiguous, intent(inout) :: buf
        rc = io_inout(array, OP_READ_ALL, int(start, c_int64_t), buf)
    end function

    integer function read_all_i4(array, start, buf) result(rc)
        type(pzarr_array), intent(in) :: array
        integer, intent(in) :: start(:)
        type(*), dimension(..), contiguous, intent(inout) :: buf
        rc = io_inout(array, OP_READ_ALL, int(start, c_int64_t), buf)
    end function

    integer function io(array, op, start, buf) result(rc)
        type(pzarr_array), intent(in) :: array
        integer(c_int), intent(in) :: op
        integer(c_int64_t), intent(in) :: start(:)
        type(*), dimension(..), contiguous, intent(in) :: buf
        rc = io_inout(array, op, start, buf)
    end function

    integer function io_inout(array, op, start, buf) result(rc)
        type(pzarr_array), intent(in) :: array
        integer(c_int), intent(in) :: op
        integer(c_int64_t), intent(in) :: start(:)
        type(*), dimension(..), contiguous :: buf
        rc = c_array_io(array%s, array%p, op, start, int(size(start), c_int), buf)
    end function

    ! The array's rank, data type, shape and chunks (inner chunks of a
    ! sharded array), x first. Local.
    integer function pzarr_array_get_info(array, ndim, dtype, shape, chunks) result(rc)
        type(pzarr_array), intent(in) :: array
        integer, intent(out), optional :: ndim, dtype
        integer(int64), intent(out), optional :: shape(:), chunks(:)
        integer(c_int) :: n, t
        integer(c_int64_t) :: sh(PZARR_MAX_NDIM), ch(PZARR_MAX_NDIM)
        sh = 0
        ch = 0
        rc = c_array_info(array%p, n, t, sh, ch)
        if (rc /= 0) return
        if (present(ndim)) ndim = n
        if (present(dtype)) dtype = t
        if (present(shape)) then
            shape = 0
            shape(1:min(n, size(shape))) = sh(1:min(n, size(shape)))
        end if
        if (present(chunks)) then
            chunks = 0
            chunks(1:min(n, size(chunks))) = ch(1:min(n, size(chunks)))
        end if
    end function

    ! Copies the array to a new array `name` of store (of the same ranks),
    ! with other chunks (x first), codec, format; see pzarr_array_copy in
    ! pzarr.h: slabs read once and written once, a marker until the last is
    ! committed, resume to finish a killed copy. Collective.
    integer function pzarr_array_copy(array, store, name, chunks, codec, zarr_format, memory, &
                                      resume, reencode) result(rc)
        type(pzarr_array), intent(in) :: array
        type(pzarr_store), intent(in) :: store
        character(len=*), intent(in) :: name
        integer, intent(in), optional :: chunks(:)
        character(len=*), intent(in), optional :: codec
        integer, intent(in), optional :: zarr_format
        integer(int64), intent(in), optional :: memory
        logical, intent(in), optional :: resume, reencode
        integer(c_int64_t) :: ch(PZARR_MAX_NDIM)
        integer(c_int) :: n, fmt, res, ree
        integer(c_int64_t) :: mem
        ch = 0
        n = 0
        if (present(chunks)) then
            n = int(min(size(chunks), PZARR_MAX_NDIM), c_int)
            ch(1:n) = int(chunks(1:n), c_int64_t)
        end if
        fmt = 0
        if (present(zarr_format)) fmt = int(zarr_format, c_int)
        mem = 0
        if (present(memory)) mem = int(memory, c_int64_t)
        res = 0
        if (present(resume)) then
            if (resume) res = 1
        end if
        ree = 0
        if (present(reencode)) then
            if (reencode) ree = 1
        end if
        if (present(codec)) then
            rc = c_array_copy(array%p, store%p, cstr(name), n, ch, cstr(codec), fmt, mem, res, ree)
        else
            rc = c_array_copy(array%p, store%p, cstr(name), n, ch, cstr(''), fmt, mem, res, ree)
        end if
    end function

    ! A new shape (x first); see pzarr_array_resize in pzarr.h. Collective.
    integer function resize_i8(array, shape) result(rc)
        type(pzarr_array), intent(in) :: array
        integer(int64), intent(in) :: shape(:)
        rc = c_array_resize(array%p, int(size(shape), c_int), int(shape, c_int64_t))
    end function

    integer function resize_i4(array, shape) result(rc)
        type(pzarr_array), intent(in) :: array
        integer, intent(in) :: shape(:)
        rc = c_array_resize(array%p, int(size(shape), c_int), int(shape, c_int64_t))
    end function

    ! Chooses who owns which chunk. With PZARR_OWNER_BLOCK, dims is the process
    ! grid in Fortran order (x first; absent: pzarr picks one). A rank's
    ! blocks follow C order over the reversed grid, so an MPI_Cart_create
    ! whose dimension 1 is the slowest array axis (z of u(x, y, z)) gives
    ! every rank the chunks of its own subdomain. Collective.
    integer function pzarr_array_set_owner(array, policy, dims) result(rc)
        type(pzarr_array), intent(in) :: array
        integer, intent(in) :: policy
        integer, intent(in), optional :: dims(:)
        integer(c_int), allocatable, target :: c(:)
        integer :: ndim
        if (present(dims)) then
            rc = pzarr_array_get_info(array, ndim=ndim)
            if (rc /= 0) return
            if (size(dims) /= ndim) then
                rc = c_set_error(array%p, int(PZARR_EINVAL, c_int), &
                                 cstr('pzarr_array_set_owner: dims has a different number of '// &
                                      'values than the array has dimensions'))
                return
            end if
            c = int(dims(size(dims):1:-1), c_int)
            rc = c_set_owner(array%p, int(policy, c_int), c_loc(c))
        else
            rc = c_set_owner(array%p, int(policy, c_int), c_null_ptr)
        end if
    end function

    ! The dimension names, x first (not allocated when the array has none).
    integer function pzarr_array_dimension_names(array, names) result(rc)
        type(pzarr_array), intent(in) :: array
        character(len=:), allocatable, intent(out) :: names(:)
        integer, parameter :: L = 256
        character(kind=c_char, len=L) :: buf(PZARR_MAX_NDIM)
        integer(c_int) :: n
        integer :: i, longest
        rc = c_dimension_names(array%p, buf, int(L, c_int), n)
        if (rc /= 0 .or. n == 0) return
        longest = 1
        do i = 1, n
            longest = max(longest, len_trim(buf(i)))
        end do
        allocate (character(len=longest) :: names(n))
        do i = 1, n
            names(i) = buf(i)(1:longest)
        end do
    end function

    ! ------------------------------------------------------------ groups, attributes

    ! Creates a group (and its missing parents). Collective.
    integer function pzarr_group_create(store, name, attributes, zarr_format) result(rc)
        type(pzarr_store), intent(in) :: store
        character(len=*), intent(in) :: name
        character(len=*), intent(in), optional :: attributes
        integer, intent(in), optional :: zarr_format
        character(kind=c_char, len=:), allocatable, target :: a
        integer(c_int) :: fmt
        fmt = 0
        if (present(zarr_format)) fmt = int(zarr_format, c_int)
        if (present(attributes)) then
            a = cstr(attributes)
            rc = c_group_create(store%p, cstr(name), fmt, c_loc(a))
        else
            rc = c_group_create(store%p, cstr(name), fmt, c_null_ptr)
        end if
    end function

    integer function pzarr_node_kind_of(store, name, kind) result(rc)
        type(pzarr_store), intent(in) :: store
        character(len=*), intent(in) :: name
        integer, intent(out) :: kind
        integer(c_int) :: k
        rc = c_node_kind_of(store%p, cstr(name), k)
        kind = k
    end function

    ! The names of a group's children, sorted. Collective.
    integer function pzarr_group_list(store, name, names) result(rc)
        type(pzarr_store), intent(in) :: store
        character(len=*), intent(in) :: name
        character(len=:), allocatable, intent(out) :: names(:)
        type(c_ptr) :: list
        type(c_ptr), pointer :: items(:)
        integer(c_size_t) :: n
        integer :: i, longest
        items => null()
        rc = c_group_list(store%p, cstr(name), list, n)
        if (rc /= 0) return
        longest = 1
        if (n > 0) then
            call c_f_pointer(list, items, [n])
            do i = 1, int(n)
                longest = max(longest, int(c_strlen(items(i))))
            end do
        end if
        allocate (character(len=longest) :: names(n))
        do i = 1, int(n)
            names(i) = fstr(items(i))
        end do
        call c_free_list(list, n)
    end function

    ! The attributes of a node as a JSON object text. Collective.
    integer function pzarr_attrs_get(store, name, json) result(rc)
        type(pzarr_store), intent(in) :: store
        character(len=*), intent(in) :: name
        character(len=:), allocatable, intent(out) :: json
        type(c_ptr) :: p
        p = c_null_ptr
        rc = c_attrs_get(store%p, cstr(name), p)
        if (rc == 0) json = fstr(p)
        call c_free(p)
    end function

    ! Replaces the attributes of a node. Collective.
    integer function pzarr_attrs_set(store, name, json) result(rc)
        type(pzarr_store), intent(in) :: store
        character(len=*), intent(in) :: name, json
        rc = c_attrs_set(store%p, cstr(name), cstr(json))
    end function

    ! Merges keys into the attributes of a node (null removes one). Collective.
    integer function pzarr_attrs_update(store, name, json) result(rc)
        type(pzarr_store), intent(in) :: store
        character(len=*), intent(in) :: name, json
        rc = c_attrs_update(store%p, cstr(name), cstr(json))
    end function

end module pzarr
