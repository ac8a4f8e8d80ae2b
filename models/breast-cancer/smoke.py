"""Smoke run of the whole model on a small slice of the real data: prepare, train, serve, score.

Runs in the build before the real training, so a broken server fails the build, not the
staging deployment.
"""
import json
import subprocess
import sys
import tempfile
import threading
import urllib.request
from http.server import ThreadingHTTPServer
from pathlib import Path

import model as m
import serve

HERE = Path(__file__).resolve().parent


def main():
    with tempfile.TemporaryDirectory() as tmp:
        data, model_dir = Path(tmp, "data"), Path(tmp, "model")
        subprocess.run([sys.executable, HERE / "prepare.py", "--out", data, "--rows", "120"], check=True)
        subprocess.run([sys.executable, HERE / "train.py", "--data", data / "train.csv", "--holdout", data / "holdout.csv", "--out", model_dir], check=True)
        model, meta = m.load(model_dir)
        server = ThreadingHTTPServer(("127.0.0.1", 0), serve.make_handler(model, meta))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            features, x, y = m.read_csv(data / "holdout.csv", "diagnosis")
            instances = [dict(zip(features, row)) for row in x.tolist()]
            req = urllib.request.Request(
                f"http://127.0.0.1:{server.server_port}/invocations",
                data=json.dumps({"instances": instances}).encode(),
                headers={"Content-Type": "application/json"},
            )
            predictions = json.load(urllib.request.urlopen(req))["predictions"]
            assert len(predictions) == len(y), f"{len(predictions)} predictions for {len(y)} rows"
            right = sum(p["label"] == label for p, label in zip(predictions, y))
            print(f"smoke: {len(y)} rows served, {right} right")
            assert right / len(y) > 0.8, "the smoke model is no better than chance"
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
