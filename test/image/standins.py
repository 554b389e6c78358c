#!/usr/bin/env python3
"""Loopback stand-ins for what the worker image reaches over the network, on one port.

  /files/...                  static files from the directory given (releases, apt repository, gems), GET and HEAD
  /latest/api/token           IMDSv2 token (PUT, with a TTL header)
  /latest/meta-data/...       instance id and region, only with that token; the Auto Scaling
                              target lifecycle state when STATE_DIR/target-lifecycle-state holds one
  /health/ok, /health/fail    the worker's health endpoint: 200, or 503

Every request is appended to requests.log in the state directory, so that the test can show that
the image was built from these stand-ins only.
  standins.py PORT FILES_DIR STATE_DIR
"""
import http.server
import os
import sys
import threading

TOKEN = "stand-in-imds-token"
META = {"instance-id": "i-0123456789abcdef0", "placement/region": "eu-west-1"}


class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=FILES, **kwargs)

    def log_message(self, format, *args):
        with LOCK, open(os.path.join(STATE, "requests.log"), "a") as log:
            # The request line as received (do_GET rewrites self.path).
            log.write("%s\n" % self.requestline.rsplit(" ", 1)[0])

    def answer(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            self.answer(200, TOKEN.encode())
        else:
            self.answer(400)

    def do_HEAD(self):
        # The playbook asks for a release tarball before it downloads it (a 404 has its own message).
        if self.path.startswith("/files/"):
            self.path = self.path[len("/files"):]
            return super().do_HEAD()
        self.answer(404)

    def do_GET(self):
        if self.path.startswith("/files/"):
            self.path = self.path[len("/files"):]
            return super().do_GET()
        if self.path.startswith("/latest/meta-data/"):
            # IMDSv2 only: a request without the token is refused, as with HttpTokens=required.
            if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
                return self.answer(401)
            item = self.path[len("/latest/meta-data/"):]
            value = META.get(item)
            target = os.path.join(STATE, "target-lifecycle-state")
            if item == "autoscaling/target-lifecycle-state" and os.path.exists(target):
                with open(target) as f:
                    value = f.read().strip()
            return self.answer(200, value.encode()) if value else self.answer(404)
        if self.path == "/health/ok":
            return self.answer(200, b"ok")
        if self.path == "/health/fail":
            return self.answer(503)
        self.answer(404)


if __name__ == "__main__":
    port, FILES, STATE = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    LOCK = threading.Lock()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    with open(os.path.join(STATE, "standins.ready"), "w") as ready:
        ready.write(str(server.server_address[1]))
    server.serve_forever()
