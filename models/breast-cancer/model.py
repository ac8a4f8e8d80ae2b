"""The model: training, persistence and prediction, shared by train.py, serve.py and the tests."""
import csv
import json
import math
import os

import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

MODEL_FILE = "model.joblib"
META_FILE = "meta.json"


class InputError(ValueError):
    """A request the model cannot answer: the message names the instance and the feature."""


def read_csv(path, label):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    k = header.index(label)
    features = [h for i, h in enumerate(header) if i != k]
    x = np.array([[float(v) for i, v in enumerate(r) if i != k] for r in body])
    y = [r[k] for r in body]
    return features, x, y


def train(x, y, c=1.0):
    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=1000))
    model.fit(x, y)
    return model


def save(model, features, model_dir, params):
    os.makedirs(model_dir, exist_ok=True)
    joblib.dump(model, os.path.join(model_dir, MODEL_FILE))
    with open(os.path.join(model_dir, META_FILE), "w") as f:
        json.dump({"features": features, "classes": [str(c) for c in model.classes_], "params": params}, f, indent=2)
    # The platform records hyperparameters in the lineage when the build leaves params.json.
    with open(os.path.join(model_dir, "params.json"), "w") as f:
        json.dump(params, f, indent=2)


def load(model_dir):
    with open(os.path.join(model_dir, META_FILE)) as f:
        meta = json.load(f)
    return joblib.load(os.path.join(model_dir, MODEL_FILE)), meta


def to_matrix(instances, features):
    """JSON instances (objects by feature name, or lists in feature order) as a float matrix."""
    x = np.empty((len(instances), len(features)))
    for i, inst in enumerate(instances):
        if isinstance(inst, dict):
            missing = [f for f in features if f not in inst]
            if missing:
                raise InputError(f"instance {i}: missing feature(s) {', '.join(missing)}")
            values = [inst[f] for f in features]
        elif isinstance(inst, list) and len(inst) == len(features):
            values = inst
        else:
            raise InputError(f"instance {i}: expected an object with the {len(features)} features or a list of {len(features)} values")
        for j, v in enumerate(values):
            try:
                x[i, j] = float(v)
            except (TypeError, ValueError):
                raise InputError(f"instance {i}: feature {features[j]} is {v!r}, not a number") from None
            if not math.isfinite(x[i, j]):
                raise InputError(f"instance {i}: feature {features[j]} is {v!r}, not a finite number")
    return x


def predict(model, classes, x):
    """One prediction per row: the label and the probability of every class."""
    probs = model.predict_proba(x)
    out = []
    for row in probs:
        k = int(np.argmax(row))
        out.append({"label": classes[k], "scores": {c: float(p) for c, p in zip(classes, row)}})
    return out
