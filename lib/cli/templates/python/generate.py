"""Seeded synthetic data: y = 2 + 3*x1 - 1.5*x2 + segment effect + N(0, 1).
--drift 1 moves x1 up by 5 and makes segment "c" common: what drift detection should see.
    python3 generate.py --seed 1 --rows 3000 [--drift 0] --out data.csv"""
import argparse
import os
import random

EFFECT = {"a": 0.0, "b": 4.0, "c": -2.0}


def generate(seed, rows, drift=0.0):
    """The same seed gives the same rows on every machine (random.Random is seeded, not global)."""
    r = random.Random(seed)
    out = []
    for _ in range(rows):
        x1 = r.random() * 10 + drift * 5
        x2 = r.random() * 5
        u = r.random()
        segment = "a" if u < 0.5 - 0.3 * drift else "b" if u < 0.8 - 0.3 * drift else "c"
        y = 2 + 3 * x1 - 1.5 * x2 + EFFECT[segment] + r.gauss(0, 1)
        out.append({"x1": round(x1, 4), "x2": round(x2, 4), "segment": segment, "y": round(y, 4)})
    return out


def write_csv(rows, path):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write("x1,x2,segment,y\n")
        for r in rows:
            f.write(f"{r['x1']},{r['x2']},{r['segment']},{r['y']}\n")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--drift", type=float, default=0.0)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    write_csv(generate(a.seed, a.rows, a.drift), a.out)
