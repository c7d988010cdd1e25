/*
 * What writing a 128^3 float64 array (16 MiB), held in one C-order buffer,
 * as 32^3 chunk files (256 KiB each) costs on this machine without pzarr,
 * against writing the same bytes as one flat file: each chunk's 1024 runs
 * of 256 bytes gathered into a reused buffer and written (pwrite), or
 * written from where they lie (pwritev); every file under a temporary name,
 * then renamed, as an atomic flush must. New files each repetition, one
 * core, best of 15.
 *
 *   cc -O2 bench/floors/gather_floor.c -o gather_floor && ./gather_floor /dev/shm/floor
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum { N = 128, C = 32, G = N / C, REPS = 15 };
#define CHUNK ((size_t)C * C * C * 8)

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

static void clear(const char *dir)
{
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd) != 0)
        exit(1);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/dev/shm/floor";
    char p[4200], q[4300];
    double *a = aligned_alloc(64, (size_t)N * N * N * 8), *ch = aligned_alloc(64, CHUNK);
    if (!a || !ch)
        return 1;
    for (size_t i = 0; i < (size_t)N * N * N; i++)
        a[i] = 0.5 * (double)i + 1.0;
    static struct iovec iov[C * C];
    const char *names[3] = {"one flat file, one pwrite (the raw layout)",
                            "chunk files: gather runs + pwrite + rename",
                            "chunk files: pwritev of the runs + rename"};
    double best[3] = {1e9, 1e9, 1e9};
    for (int rep = 0; rep < REPS; rep++)
        for (int m = 0; m < 3; m++) {
            clear(dir);
            double t0 = now();
            if (m == 0) {
                snprintf(p, sizeof p, "%s/flat", dir);
                int f = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
                if (f < 0 || pwrite(f, a, (size_t)N * N * N * 8, 0) < 0)
                    return 1;
                close(f);
            } else {
                for (int ci = 0; ci < G; ci++)
                    for (int cj = 0; cj < G; cj++)
                        for (int ck = 0; ck < G; ck++) {
                            snprintf(p, sizeof p, "%s/%d.%d.%d", dir, ci, cj, ck);
                            snprintf(q, sizeof q, "%s.tmp", p);
                            int f = open(q, O_CREAT | O_WRONLY | O_TRUNC, 0644);
                            int k = 0;
                            size_t o = 0;
                            for (int i = 0; i < C; i++)
                                for (int j = 0; j < C; j++, k++, o += C) {
                                    if (m == 1)
                                        memcpy(ch + o, a + at(ci, cj, ck, i, j), C * 8);
                                    else
                                        iov[k] = (struct iovec){a + at(ci, cj, ck, i, j), C * 8};
                                }
                            ssize_t w = m == 1 ? pwrite(f, ch, CHUNK, 0) : pwritev(f, iov, k, 0);
                            if (f < 0 || w < 0)
                                return 1;
                            close(f);
                            if (rename(q, p) != 0)
                                return 1;
                        }
            }
            double t = now() - t0;
            best[m] = t < best[m] ? t : best[m];
        }
    for (int m = 0; m < 3; m++)
        printf("%-50s %7.3f ms  flat/this %.2f\n", names[m], best[m] * 1e3, best[0] / best[m]);
    clear(dir);
    return 0;
}
