"""The model's own tests (unittest; the build runs them with `python3 -m unittest discover`)."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from generate import generate  # noqa: E402
from model import fit, predict, rmse  # noqa: E402


class ModelTest(unittest.TestCase):
    def test_generator_is_deterministic_for_a_seed(self):
        self.assertEqual(generate(3, 5), generate(3, 5))
        self.assertNotEqual(generate(3, 5), generate(4, 5))

    def test_fit_recovers_the_coefficients_and_beats_the_mean(self):
        model = fit(generate(1, 2000))
        holdout = generate(2, 500)
        self.assertAlmostEqual(model["weights"][1], 3, delta=0.1)
        self.assertLess(rmse(model, holdout), 1.2)
        self.assertTrue(predict(model, {"x1": 1, "x2": None, "segment": "unseen"}) == predict(model, {"x1": 1, "segment": "unseen"}))


class ServerTest(unittest.TestCase):
    def test_ping_and_invocations_json_and_csv(self):
        tmp = tempfile.mkdtemp()
        with open(os.path.join(tmp, "model.json"), "w") as f:
            json.dump(fit(generate(1, 300)), f)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "SAGEMAKER_BIND_TO_PORT": str(port), "SM_MODEL_DIR": tmp}
        child = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(HERE), "serve.py")], env=env)
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    if urllib.request.urlopen(f"{url}/ping").status == 200:
                        break
                except OSError:
                    time.sleep(0.05)
            post = lambda body, ctype: json.loads(urllib.request.urlopen(urllib.request.Request(f"{url}/invocations", data=body.encode(), headers={"content-type": ctype})).read())
            as_json = post(json.dumps({"instances": [{"x1": 1, "x2": 2, "segment": "b"}]}), "application/json")
            as_csv = post("1,2,b\n", "text/csv")
            self.assertEqual(len(as_json["predictions"]), 1)
            self.assertAlmostEqual(as_json["predictions"][0]["value"], 2 + 3 - 3 + 4, delta=0.5)
            self.assertEqual(as_csv, as_json)
        finally:
            child.terminate()
            child.wait()


if __name__ == "__main__":
    unittest.main()
