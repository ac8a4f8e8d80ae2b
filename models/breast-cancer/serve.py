"""The model server on the SageMaker container contract.

GET /ping answers 200 once the model is loaded; POST /invocations takes JSON
{"instances": [...]} (objects by feature name, or lists in feature order) or CSV rows in
feature order, and answers {"predictions": [{"label": ..., "scores": {...}}]}. It listens on
0.0.0.0:$SAGEMAKER_BIND_TO_PORT (default 8080), as SageMaker reaches a container from outside,
and reads the model from $SM_MODEL_DIR (default ./model). SageMaker starts the image as
`docker run <image> serve`; that argument is accepted and ignored. Standard library HTTP only:
the one dependency is scikit-learn, to load the model.
"""
import csv
import io
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import model as m

MAX_BODY = 6 * 1024 * 1024  # SageMaker real-time inference's payload limit


def make_handler(model, meta):
    features, classes = meta["features"], meta["classes"]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # access logs would drown the model's own messages
            pass

        def answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/ping":
                self.answer(200, {"status": "ok"})
            else:
                self.answer(404, {"error": f"no route GET {self.path}"})

        def do_POST(self):
            if self.path != "/invocations":
                self.answer(404, {"error": f"no route POST {self.path}"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self.answer(413, {"error": f"request body of {length} bytes is over {MAX_BODY}"})
                return
            body = self.rfile.read(length).decode("utf-8")
            try:
                if (self.headers.get("Content-Type") or "").startswith("text/csv"):
                    instances = [row for row in csv.reader(io.StringIO(body)) if row]
                else:
                    doc = json.loads(body)
                    instances = doc.get("instances") if isinstance(doc, dict) else None
                    if not isinstance(instances, list):
                        raise m.InputError('expected {"instances": [...]}')
                x = m.to_matrix(instances, features)
            except (m.InputError, json.JSONDecodeError) as err:
                self.answer(400, {"error": str(err)})
                return
            self.answer(200, {"predictions": m.predict(model, classes, x)})

    return Handler


def main():
    extra = [a for a in sys.argv[1:] if a != "serve"]
    if extra:
        sys.exit(f"unexpected arguments {' '.join(extra)}; configure with SM_MODEL_DIR and SAGEMAKER_BIND_TO_PORT")
    model_dir = os.environ.get("SM_MODEL_DIR") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "model")
    model, meta = m.load(model_dir)
    port = int(os.environ.get("SAGEMAKER_BIND_TO_PORT") or 8080)
    server = ThreadingHTTPServer(("0.0.0.0", port), make_handler(model, meta))
    print(f"breast-cancer model ({len(meta['features'])} features) listening on 0.0.0.0:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
