"""The model server, on the SageMaker container contract: GET /ping and POST /invocations on
0.0.0.0:$SAGEMAKER_BIND_TO_PORT (default 8080), the model from $SM_MODEL_DIR. Requests are
JSON {"instances": [{x1, x2, segment}, ...]} (or one object) or CSV rows in feature order;
answers are {"predictions": [{"value": 12.3}, ...]}. Standard library only."""
import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from model import FEATURES, predict

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(os.environ.get("SM_MODEL_DIR") or os.path.join(HERE, "model"), "model.json")) as f:
    MODEL = json.load(f)


def instances_of(body, content_type):
    if content_type.startswith("text/csv"):
        out = []
        for line in body.strip().splitlines():
            values = line.split(",")
            out.append({name: (values[i] if i < len(values) else None) for i, (name, _) in enumerate(FEATURES)})
        return out
    doc = json.loads(body)
    return doc["instances"] if isinstance(doc, dict) and isinstance(doc.get("instances"), list) else [doc]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _send(self, status, value):
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/ping":
            return self._send(200, {"status": "ok"})
        self._send(404, {"error": "not found"})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode("utf-8")
        if self.path != "/invocations":
            return self._send(404, {"error": "not found"})
        try:
            instances = instances_of(body, self.headers.get("content-type") or "application/json")
        except ValueError as err:
            return self._send(400, {"error": f"the body is neither JSON nor CSV: {err}"})
        if not all(isinstance(i, dict) for i in instances):
            return self._send(400, {"error": "every instance must be an object"})
        self._send(200, {"predictions": [{"value": predict(MODEL, i)} for i in instances]})

    def log_message(self, *args):
        pass  # one line per request would drown the endpoint's log


if __name__ == "__main__":
    # 0.0.0.0, not loopback: inside a SageMaker container requests come from outside.
    server = ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("SAGEMAKER_BIND_TO_PORT") or 8080)), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.serve_forever()
