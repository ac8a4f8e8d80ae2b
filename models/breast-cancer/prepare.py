"""Write the training and holdout CSVs from scikit-learn's bundled breast-cancer data set.

The data ships inside scikit-learn (no download). The split is stratified and seeded, so every
build of a commit trains and evaluates on the same rows. `--rows` keeps a small slice for the
smoke run.

The SageMaker training job's train channel (model.yaml) is data/train.csv, uploaded with
`mlship data put`: the training half of this split with the default seed, exported once with
    .venv/bin/python prepare.py --out /tmp/split && cp /tmp/split/train.csv data/train.csv
The build's holdout is the other half of the same split, so the two are disjoint;
tests/test_data.py checks that the committed file is still exactly that half.
"""
import argparse
import csv
import os

from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

LABEL = "diagnosis"


def feature_names():
    """scikit-learn's feature names in snake_case (the manifest's names, in CSV order)."""
    return [n.replace(" ", "_") for n in load_breast_cancer().feature_names]


def write_csv(path, names, rows, labels):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*names, LABEL])
        for row, label in zip(rows, labels):
            w.writerow([*(repr(float(x)) for x in row), label])


def split(seed=42, holdout_share=0.3, rows=0):
    """The stratified, seeded split: x_train, x_holdout, y_train, y_holdout."""
    data = load_breast_cancer()
    x, y = data.data, [str(data.target_names[t]) for t in data.target]
    if rows:
        x, _, y, _ = train_test_split(x, y, train_size=rows, stratify=y, random_state=seed)
    return train_test_split(x, y, test_size=holdout_share, stratify=y, random_state=seed)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", required=True, help="directory for train.csv and holdout.csv")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--holdout-share", type=float, default=0.3)
    p.add_argument("--rows", type=int, default=0, help="use only this many rows (smoke run); 0 = all")
    args = p.parse_args()

    x_train, x_hold, y_train, y_hold = split(args.seed, args.holdout_share, args.rows)
    names = feature_names()
    write_csv(os.path.join(args.out, "train.csv"), names, x_train, y_train)
    write_csv(os.path.join(args.out, "holdout.csv"), names, x_hold, y_hold)
    print(f"wrote {len(y_train)} training and {len(y_hold)} holdout rows to {args.out}")


if __name__ == "__main__":
    main()
