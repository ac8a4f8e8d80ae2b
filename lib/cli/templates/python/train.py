"""Train: python3 train.py --data train.csv --out model/  (writes model/model.json)"""
import argparse
import json
import os

from model import fit, read_csv, rmse

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    rows = read_csv(a.data)
    model = fit(rows)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "model.json"), "w") as f:
        json.dump(model, f, indent=2)
    print(f"trained on {len(rows)} rows: training RMSE {rmse(model, rows):.3f}")
