/*
 * scale: how the flush and read_all grow with the rank count (run it at 2
 * to 64 ranks, oversubscribed, small data). Every rank owns one block of
 * 16^3 float64 of a slab (--axis 0 decomposition: "slab"), 2-D or 3-D
 * Cartesian decomposition (--decomp), writes it, flushes, and reads it back
 * with read_all; the array's ownership is pzarr's default (no
 * pzarr_array_set_owner). Chunks are the blocks (aligned), or 24^3 with
 * --misaligned. Reported per rank (max and sum over ranks): one-sided
 * operations and bytes to other ranks, point-to-point messages, collective
 * calls (counted by PMPI wrappers in the benchmark), metadata operations on
 * ranks other than 0, and the peak RSS.
 */
#include "pzb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { B = 16 };

static int decomp_ndim(const bench_ctx *c)
{
    const char *d = c->o.decomp ? c->o.decomp : "3d";
    return !strcmp(d, "slab") ? 1 : !strcmp(d, "2d") ? 2 : 3;
}

static void report(bench_ctx *c, const char *key, double v)
{
    char k[64];
    snprintf(k, sizeof k, "%s_max", key);
    bench_metric_num(c, k, bench_max(c->comm, v));
    snprintf(k, sizeof k, "%s_sum", key);
    bench_metric_num(c, k, bench_sum(c->comm, v));
}

int pzb_scale(bench_ctx *c)
{
    int nd = decomp_ndim(c), dims[3] = {0, 0, 0}, periods[3] = {0, 0, 0}, coords[3];
    MPI_Dims_create(c->size, nd, dims);
    MPI_Comm cart;
    MPI_Cart_create(c->comm, nd, dims, periods, 0, &cart);
    MPI_Cart_coords(cart, c->rank, nd, coords);
    MPI_Comm_free(&cart);
    int pd[3] = {1, 1, 1}, pc[3] = {0, 0, 0};
    for (int d = 0; d < nd; d++) {
        pd[d] = dims[d];
        pc[d] = coords[d];
    }
    uint64_t shape[3], chunks[3];
    for (int d = 0; d < 3; d++) {
        shape[d] = (uint64_t)B * (uint64_t)pd[d];
        chunks[d] = c->o.misaligned && pd[d] > 1 ? B * 3 / 2 : B;
    }
    bench_box blk;
    bench_block(3, shape, pd, pc, &blk);
    char meta[8192], path[BENCH_PATH_MAX], sh[64], ch[64], dm[64];
    pzb_meta(c, 3, shape, chunks, meta, sizeof meta);
    bench_fmt_dims(sh, sizeof sh, 3, shape, 'x');
    bench_fmt_dims(ch, sizeof ch, 3, chunks, 'x');
    snprintf(dm, sizeof dm, "%dx%dx%d", pd[0], pd[1], pd[2]);
    snprintf(c->title, sizeof c->title,
             "pzarr-bench scale: %d ranks, %s decomposition %s, shape %s, chunks %s (%s), "
             "default ownership, codec %s, reps %d",
             c->size, c->o.decomp ? c->o.decomp : "3d", dm, sh, ch,
             c->o.misaligned ? "misaligned" : "aligned", c->o.codec.text, c->o.reps);
    bench_metric_str(c, "decomp", "%s", c->o.decomp ? c->o.decomp : "3d");
    bench_metric_str(c, "layout", "%s", c->o.misaligned ? "misaligned" : "aligned");
    bench_metric_str(c, "process_grid", "%s", dm);
    double *buf = pzb_alloc(c, bench_box_elems(&blk)), *back = pzb_alloc(c, bench_box_elems(&blk));
    bench_fill(c->o.data, shape, &blk, buf);
    double *t = calloc((size_t)c->o.reps * 2, sizeof *t);
    pzb_mpicount flush_n = {0}, read_n = {0};
    pzarr_stats st = {0}, rst = {0};
    long bad = 0;
    bench_peak_reset();
    for (int rep = 0; rep < c->o.reps; rep++) {
        bench_progress(c, "scale: sample %d/%d", rep + 1, c->o.reps);
        bench_path(c, path, "scale.zarr");
        pzarr_store *s = NULL;
        pzarr_array *a = NULL;
        pzb_check_store(c, pzarr_open(c->comm, path, pzb_create_flags(c), &s), s, path);
        pzb_check_store(c, pzarr_array_create(s, "a", meta, &a), s, "pzarr_array_create");
        pzarr_reset_stats(s);
        MPI_Barrier(c->comm);
        memset(&pzb_count, 0, sizeof pzb_count);
        pzb_counting = 1;
        double t0 = MPI_Wtime();
        pzb_check_array(c, pzarr_array_write(a, blk.start, blk.count, buf), a, "pzarr_array_write");
        pzb_check_array(c, pzarr_array_flush(a), a, "pzarr_array_flush");
        double t1 = MPI_Wtime();
        pzb_counting = 0;
        flush_n = pzb_count;
        pzarr_get_stats(s, &st);
        pzarr_reset_stats(s);
        MPI_Barrier(c->comm);
        memset(&pzb_count, 0, sizeof pzb_count);
        pzb_counting = 1;
        double t2 = MPI_Wtime();
        pzb_check_array(c, pzarr_array_read_all(a, blk.start, blk.count, back), a,
                        "pzarr_array_read_all");
        double t3 = MPI_Wtime();
        pzb_counting = 0;
        read_n = pzb_count;
        pzarr_get_stats(s, &rst);
        bad += bench_check(c->o.data, shape, &blk, back);
        pzb_check_array(c, pzarr_array_close(a), NULL, "pzarr_array_close");
        pzb_check_store(c, pzarr_close(s), NULL, "pzarr_close");
        t[rep] = bench_max(c->comm, t1 - t0);
        t[c->o.reps + rep] = bench_max(c->comm, t3 - t2);
        bench_remove(c, path);
    }
    bench_progress_done(c);
    double bytes = (double)B * B * B * 8 * c->size;
    bench_add_row(c, "pzarr write+flush", t, c->o.reps, bytes, 0, -1);
    bench_add_row(c, "pzarr read_all", t + c->o.reps, c->o.reps, bytes, 0, -1);
    report(c, "flush_rma_ops", (double)flush_n.rma_ops);
    report(c, "flush_rma_bytes", (double)flush_n.rma_bytes);
    report(c, "flush_p2p_msgs", (double)flush_n.p2p_msgs);
    report(c, "flush_collectives", (double)flush_n.collectives);
    report(c, "read_all_rma_ops", (double)read_n.rma_ops);
    report(c, "read_all_rma_bytes", (double)read_n.rma_bytes);
    report(c, "read_all_collectives", (double)read_n.collectives);
    double meta_others = c->rank ? (double)(st.meta_reads + st.meta_writes + rst.meta_reads +
                                            rst.meta_writes)
                                 : 0;
    bench_metric_num(c, "meta_ops_other_ranks_max", bench_max(c->comm, meta_others));
    bench_metric_num(c, "peak_rss_mib_max", bench_max(c->comm, bench_rss_mib("VmHWM")));
    pzb_verify(c, "verify", bad);
    free(buf);
    free(back);
    free(t);
    return c->failures ? 1 : 0;
}
