"""The committed training data (data/train.csv, the SageMaker job's train channel after
`mlship data put`) is the training half of prepare.py's seeded split, so the holdout the build
prepares (the other half) shares no case with it and the gate's metrics are out-of-sample."""
import csv
import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402

import prepare  # noqa: E402
import sm_train  # noqa: E402


def rows_of(x, y):
    """Rows as prepare.write_csv writes them (repr of each float, then the label)."""
    return [[*(repr(float(v)) for v in row), label] for row, label in zip(x, y)]


class CommittedTrainingDataTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(HERE / "data" / "train.csv", newline="") as f:
            cls.header, *cls.rows = list(csv.reader(f))
        # The split the buildspec makes (SPLIT_SEED 42, 30 % holdout).
        cls.x_train, cls.x_hold, cls.y_train, cls.y_hold = prepare.split(seed=42)

    def test_is_the_training_half_of_the_seeded_split(self):
        self.assertEqual(self.header, [*prepare.feature_names(), prepare.LABEL])
        self.assertEqual(self.rows, rows_of(self.x_train, self.y_train))

    def test_shares_no_case_with_the_build_holdout(self):
        train = {tuple(r[:-1]) for r in self.rows}
        holdout = {tuple(r[:-1]) for r in rows_of(self.x_hold, self.y_hold)}
        self.assertEqual(len(train), len(self.rows), "duplicate cases in data/train.csv")
        self.assertEqual(train & holdout, set())
        self.assertEqual(len(train) + len(holdout), 569)  # every case of the data set, once


class SharedCasesTest(unittest.TestCase):
    """sm_train.py refuses uploaded training data that contains holdout cases."""

    def test_counts_holdout_cases_found_in_the_training_data(self):
        x = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        self.assertEqual(sm_train.shared_cases(x, np.array([[3.0, 4.0], [7.0, 8.0], [5.0, 6.0]])), 2)
        self.assertEqual(sm_train.shared_cases(x, np.array([[1.0, 2.5]])), 0)


if __name__ == "__main__":
    unittest.main()
