"""Train the model on train.csv, report holdout metrics, and write the model directory."""
import argparse

from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

import model as m


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", required=True)
    p.add_argument("--holdout", required=True)
    p.add_argument("--out", required=True, help="the model directory (SM_MODEL_DIR when served)")
    p.add_argument("--c", type=float, default=1.0, help="inverse L2 regularization strength")
    args = p.parse_args()

    features, x, y = m.read_csv(args.data, "diagnosis")
    model = m.train(x, y, c=args.c)
    m.save(model, features, args.out, {"algorithm": "StandardScaler+LogisticRegression", "C": args.c, "max_iter": 1000})

    _, xh, yh = m.read_csv(args.holdout, "diagnosis")
    probs = model.predict_proba(xh)
    positive = list(model.classes_).index("malignant")
    print(
        f"trained on {len(y)} rows; holdout ({len(yh)} rows): accuracy {accuracy_score(yh, model.predict(xh)):.3f}, "
        f"ROC AUC {roc_auc_score([v == 'malignant' for v in yh], probs[:, positive]):.3f}, log loss {log_loss(yh, probs, labels=model.classes_):.3f}"
    )


if __name__ == "__main__":
    main()
