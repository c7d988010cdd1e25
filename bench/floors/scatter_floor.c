/*
 * The read-side twin of gather_floor.c: what reading a 128^3 float64 array
 * (16 MiB) stored as 32^3 chunk files (256 KiB each) into one C-order buffer
 * costs on this machine without pzarr, against reading the same bytes from
 * one flat file with one pread. Three ways to get a chunk's 1024 runs of
 * 256 bytes into place: pread into a reused buffer and copy the runs out;
 * preadv straight into the runs; mmap the file and copy the runs out. The
 * destination is the same pre-touched buffer for every method (as in the
 * benchmark's restart), the files are in the page cache, one core, each
 * method in turn, best of 15.
 *
 *   cc -O2 bench/floors/scatter_floor.c -o scatter_floor && ./scatter_floor /dev/shm/floor
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum { N = 128, C = 32, G = N / C, REPS = 15, METHODS = 4 };
#define CHUNK ((size_t)C * C * C * 8)
#define ALL ((size_t)N * N * N * 8)

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static size_t at(int ci, int cj, int ck, int i, int j)
{
    return ((size_t)(ci * C + i) * N + (size_t)(cj * C + j)) * N + (size_t)ck * C;
}

static void write_file(const char *path, const void *p, size_t n)
{
    int f = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (f < 0 || pwrite(f, p, n, 0) != (ssize_t)n)
        exit(1);
    close(f);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/dev/shm/floor";
    char p[4200];
    double *a = aligned_alloc(64, ALL), *dst = aligned_alloc(64, ALL), *ch = aligned_alloc(64, CHUNK);
    if (!a || !dst || !ch)
        return 1;
    for (size_t i = 0; i < (size_t)N * N * N; i++)
        a[i] = 0.5 * (double)i + 1.0;
    memset(dst, 0, ALL);
    snprintf(p, sizeof p, "mkdir -p '%s'", dir);
    if (system(p) != 0)
        return 1;
    snprintf(p, sizeof p, "%s/flat", dir);
    write_file(p, a, ALL);
    for (int ci = 0; ci < G; ci++)
        for (int cj = 0; cj < G; cj++)
            for (int ck = 0; ck < G; ck++) {
                size_t o = 0;
                for (int i = 0; i < C; i++)
                    for (int j = 0; j < C; j++, o += C)
                        memcpy(ch + o, a + at(ci, cj, ck, i, j), C * 8);
                snprintf(p, sizeof p, "%s/%d.%d.%d", dir, ci, cj, ck);
                write_file(p, ch, CHUNK);
            }
    static struct iovec iov[C * C];
    const char *names[METHODS] = {"one flat file, one pread (the raw layout)",
                                  "chunk files: pread + copy the runs out",
                                  "chunk files: preadv into the runs",
                                  "chunk files: mmap + copy the runs out"};
    double best[METHODS] = {1e9, 1e9, 1e9, 1e9};
    for (int rep = 0; rep < REPS; rep++)
        for (int m = 0; m < METHODS; m++) {
            double t0 = now();
            if (m == 0) {
                snprintf(p, sizeof p, "%s/flat", dir);
                int f = open(p, O_RDONLY);
                if (f < 0 || pread(f, dst, ALL, 0) != (ssize_t)ALL)
                    return 1;
                close(f);
            } else {
                for (int ci = 0; ci < G; ci++)
                    for (int cj = 0; cj < G; cj++)
                        for (int ck = 0; ck < G; ck++) {
                            snprintf(p, sizeof p, "%s/%d.%d.%d", dir, ci, cj, ck);
                            int f = open(p, O_RDONLY);
                            if (f < 0)
                                return 1;
                            const double *src = ch;
                            void *map = NULL;
                            if (m == 1 && pread(f, ch, CHUNK, 0) != (ssize_t)CHUNK)
                                return 1;
                            if (m == 3) {
                                map = mmap(NULL, CHUNK, PROT_READ, MAP_SHARED | MAP_POPULATE, f, 0);
                                if (map == MAP_FAILED)
                                    return 1;
                                src = map;
                            }
                            int k = 0;
                            size_t o = 0;
                            for (int i = 0; i < C; i++)
                                for (int j = 0; j < C; j++, k++, o += C) {
                                    double *d = dst + at(ci, cj, ck, i, j);
                                    if (m == 2)
                                        iov[k] = (struct iovec){d, C * 8};
                                    else
                                        memcpy(d, src + o, C * 8);
                                }
                            if (m == 2 && preadv(f, iov, k, 0) != (ssize_t)CHUNK)
                                return 1;
                            if (map)
                                munmap(map, CHUNK);
                            close(f);
                        }
            }
            double t = now() - t0;
            best[m] = t < best[m] ? t : best[m];
        }
    if (memcmp(dst, a, ALL) != 0) {
        fprintf(stderr, "scatter_floor: the chunks did not land where they belong\n");
        return 1;
    }
    for (int m = 0; m < METHODS; m++)
        printf("%-50s %7.3f ms  flat/this %.2f\n", names[m], best[m] * 1e3, best[0] / best[m]);
    snprintf(p, sizeof p, "rm -rf '%s'", dir);
    return system(p) != 0;
}
