"""The SageMaker training job's command (model.yaml `training`): SageMaker's training contract.

The train channel is in SM_CHANNEL_TRAIN, the holdout in SM_CHANNEL_HOLDOUT, the hyperparameters
in SM_HPS (JSON; SageMaker passes them as strings); the model goes to SM_MODEL_DIR, which SageMaker
packs as model.tar.gz, and a failure's reason to /opt/ml/output/failure (SM_OUTPUT_DIR), which
becomes the job's FailureReason. The metric lines match the manifest's metric definitions.
"""
import json
import os
import sys

from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

import model as m


def shared_cases(x, xh):
    """How many holdout cases are also in the training data (identical feature values)."""
    seen = {tuple(row) for row in x.tolist()}
    return sum(tuple(row) in seen for row in xh.tolist())


def main():
    config = os.environ.get("SM_INPUT_CONFIG_DIR", "/opt/ml/input/config")
    with open(os.path.join(config, "hyperparameters.json")) as f:
        hps = json.load(f)
    c = float(hps.get("C", 1.0))
    train = os.path.join(os.environ["SM_CHANNEL_TRAIN"], "train.csv")
    if not os.path.exists(train):
        raise FileNotFoundError(f"the train channel has no train.csv (it has: {', '.join(sorted(os.listdir(os.environ['SM_CHANNEL_TRAIN'])))})")
    features, x, y = m.read_csv(train, "diagnosis")
    # The holdout is the build's (prepare.py's split); uploaded data that overlaps it would make
    # the gate's metrics optimistic, so the job refuses it.
    _, xh, yh = m.read_csv(os.path.join(os.environ["SM_CHANNEL_HOLDOUT"], "holdout.csv"), "diagnosis")
    leaked = shared_cases(x, xh)
    if leaked:
        raise ValueError(f"{leaked} of the {len(yh)} holdout cases are in the train channel's train.csv: train on the training split only")
    model = m.train(x, y, c=c)
    m.save(model, features, os.environ["SM_MODEL_DIR"], {"algorithm": "StandardScaler+LogisticRegression", "C": c, "max_iter": 1000})
    probs = model.predict_proba(xh)
    positive = list(model.classes_).index("malignant")
    print(f"rows={len(y)} holdout_accuracy={accuracy_score(yh, model.predict(xh)):.4f}")
    print(f"holdout_roc_auc={roc_auc_score([v == 'malignant' for v in yh], probs[:, positive]):.4f}")
    print(f"holdout_log_loss={log_loss(yh, probs, labels=model.classes_):.4f}")


if __name__ == "__main__":
    try:
        main()
    except Exception as err:  # the contract: the reason in the failure file, a non-zero exit
        out = os.environ.get("SM_OUTPUT_DIR", "/opt/ml/output")
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "failure"), "w") as f:
            f.write(f"{type(err).__name__}: {err}")
        print(f"{type(err).__name__}: {err}", file=sys.stderr)
        sys.exit(1)
