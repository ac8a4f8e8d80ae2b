"""Unit tests of the model module and the server's request handling (python -m unittest)."""
import json
import sys
import threading
import unittest
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import model as m  # noqa: E402
import serve  # noqa: E402

FEATURES = ["a", "b"]


def tiny_model():
    x = np.array([[0.0, 0.0], [0.1, 0.2], [1.0, 1.1], [0.9, 1.0]] * 5)
    y = ["benign", "benign", "malignant", "malignant"] * 5
    return m.train(x, y), {"features": FEATURES, "classes": ["benign", "malignant"]}


class ToMatrixTest(unittest.TestCase):
    def test_objects_and_lists(self):
        x = m.to_matrix([{"a": 1, "b": "2.5"}, [3, 4]], FEATURES)
        self.assertEqual(x.tolist(), [[1.0, 2.5], [3.0, 4.0]])

    def test_names_the_missing_feature(self):
        with self.assertRaisesRegex(m.InputError, "instance 0: missing feature"):
            m.to_matrix([{"a": 1}], FEATURES)

    def test_refuses_non_finite_values(self):
        with self.assertRaisesRegex(m.InputError, "feature b is 'NaN', not a finite number"):
            m.to_matrix([{"a": 1, "b": "NaN"}], FEATURES)


class ServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        model, meta = tiny_model()
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), serve.make_handler(model, meta))
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.url = f"http://127.0.0.1:{cls.server.server_port}"

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()

    def post(self, body, content_type="application/json"):
        req = urllib.request.Request(self.url + "/invocations", data=body.encode(), headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(req) as res:
                return res.status, json.load(res)
        except urllib.error.HTTPError as err:
            return err.code, json.load(err)

    def test_ping(self):
        with urllib.request.urlopen(self.url + "/ping") as res:
            self.assertEqual(res.status, 200)

    def test_json_instances(self):
        status, body = self.post(json.dumps({"instances": [{"a": 0, "b": 0}, {"a": 1, "b": 1}]}))
        self.assertEqual(status, 200)
        self.assertEqual([p["label"] for p in body["predictions"]], ["benign", "malignant"])
        self.assertAlmostEqual(sum(body["predictions"][0]["scores"].values()), 1.0)

    def test_csv_rows(self):
        status, body = self.post("0,0\n1,1\n", "text/csv")
        self.assertEqual(status, 200)
        self.assertEqual(len(body["predictions"]), 2)

    def test_bad_request_names_the_problem(self):
        status, body = self.post(json.dumps({"rows": []}))
        self.assertEqual(status, 400)
        self.assertIn("instances", body["error"])


if __name__ == "__main__":
    unittest.main()
