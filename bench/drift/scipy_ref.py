#!/usr/bin/python3
"""SciPy reference for bench/drift/run.ts: per numeric feature ks_2samp + wasserstein_distance,
per categorical feature value counts + jensenshannon, on the files run.ts wrote.
Prints one JSON line: wall and CPU seconds per repetition and peak RSS."""
import json
import resource
import sys
import time

import numpy as np
from scipy import stats
from scipy.spatial import distance

d, n_ref, n_cur, n_num, n_cat, reps = sys.argv[1], *map(int, sys.argv[2:7])
ref_num = np.fromfile(f"{d}/ref_num.bin", dtype="<f8").reshape(n_ref, n_num)
cur_num = np.fromfile(f"{d}/cur_num.bin", dtype="<f8").reshape(n_cur, n_num)
ref_cat = np.fromfile(f"{d}/ref_cat.bin", dtype="u1").reshape(n_ref, n_cat)
cur_cat = np.fromfile(f"{d}/cur_cat.bin", dtype="u1").reshape(n_cur, n_cat)
# Contiguous columns, as a columnar store would hand them over (not timed).
ref_cols = [np.ascontiguousarray(ref_num[:, j]) for j in range(n_num)]
cur_cols = [np.ascontiguousarray(cur_num[:, j]) for j in range(n_num)]
times, cpu, results = [], [], []
for _ in range(reps):
    c0 = time.process_time()
    t0 = time.perf_counter()
    out = []
    for j in range(n_num):
        ks = stats.ks_2samp(ref_cols[j], cur_cols[j])
        w = stats.wasserstein_distance(ref_cols[j], cur_cols[j]) / max(np.std(ref_cols[j]), 0.001)
        out.append([float(ks.statistic), float(ks.pvalue), float(w)])
    for j in range(n_cat):
        r = np.bincount(ref_cat[:, j], minlength=256)
        c = np.bincount(cur_cat[:, j], minlength=256)
        keep = (r + c) > 0
        out.append([float(distance.jensenshannon(r[keep] / n_ref, c[keep] / n_cur))])
    times.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
    results.append(out)
print(json.dumps({"seconds": times, "cpuSeconds": cpu, "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "results": results[0]}))
