"""The model: linear regression on x1, x2 and a one-hot segment, fitted by least squares.
Shared by train.py and serve.py (the build copies it into the bundle). Standard library only."""
import csv
import math

# Feature names and types, in the manifest's order (CSV requests use this order).
FEATURES = [("x1", "numeric"), ("x2", "numeric"), ("segment", "categorical")]
LABEL = "y"


def _number(value, default):
    try:
        x = float(value)
    except (TypeError, ValueError):
        return default
    return x if math.isfinite(x) else default


def _design(model, inst):
    """The design row of one instance; a missing numeric value takes the training mean."""
    means = model["means"]
    row = [1.0, _number(inst.get("x1"), means["x1"]), _number(inst.get("x2"), means["x2"])]
    return row + [1.0 if str(inst.get("segment")) == s else 0.0 for s in model["segments"][1:]]


def fit(rows):
    """Fit on dicts {x1, x2, segment, y}; returns a JSON-serialisable model."""
    if not rows:
        raise ValueError("no training rows")
    segments = sorted({str(r["segment"]) for r in rows})
    means = {k: sum(r[k] for r in rows) / len(rows) for k in ("x1", "x2")}
    shell = {"segments": segments, "means": means}
    X = [_design(shell, r) for r in rows]
    p = len(X[0])
    # Normal equations (X'X + tiny ridge) w = X'y, solved by Gaussian elimination.
    A = [[sum(x[i] * x[j] for x in X) + (1e-9 if i == j else 0.0) for j in range(p)] for i in range(p)]
    b = [sum(x[i] * r["y"] for x, r in zip(X, rows)) for i in range(p)]
    return {**shell, "weights": _solve(A, b)}


def predict(model, inst):
    return sum(x * w for x, w in zip(_design(model, inst), model["weights"]))


def rmse(model, rows):
    return math.sqrt(sum((predict(model, r) - r["y"]) ** 2 for r in rows) / len(rows))


def _solve(A, b):
    n = len(b)
    M = [row[:] + [b[i]] for i, row in enumerate(A)]
    for c in range(n):
        piv = max(range(c, n), key=lambda r: abs(M[r][c]))
        M[c], M[piv] = M[piv], M[c]
        if M[c][c] == 0:
            continue
        for r in range(n):
            if r != c:
                f = M[r][c] / M[c][c]
                for k in range(c, n + 1):
                    M[r][k] -= f * M[c][k]
    return [0.0 if M[i][i] == 0 else M[i][n] / M[i][i] for i in range(n)]


def read_csv(path):
    """Rows of the generator's CSV, numeric columns as floats."""
    with open(path, newline="") as f:
        return [{k: (v if k == "segment" else float(v)) for k, v in row.items()} for row in csv.DictReader(f)]
