"""A small JSON service: Python's standard-library HTTP server plus one PyPI package, psutil.

psutil reads the process table through a C extension (psutil/_psutil_linux), so installing it
from its source archive needs a C compiler and Python's headers -- in the build stage only.

GET /healthz      {"status": "ok"}
GET /api/process  this process as psutil sees it: pid, user, memory, threads
GET /api/info     the Python that runs the service and the psutil extension it loaded
"""

import json
import os
import platform
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psutil

PROCESS = psutil.Process()


def process_report() -> dict:
    with PROCESS.oneshot():
        return {
            "pid": PROCESS.pid,
            "uid": PROCESS.uids().real,
            # Looks the uid up in /etc/passwd; psutil falls back to the number when there is no entry.
            "user": PROCESS.username(),
            "rss_bytes": PROCESS.memory_info().rss,
            "threads": PROCESS.num_threads(),
        }


def info_report() -> dict:
    return {
        "python": platform.python_version(),
        "executable": sys.executable,
        "prefix": sys.prefix,
        "psutil": psutil.__version__,
        "psutil_extension": psutil._psutil_linux.__file__,
    }


ROUTES = {
    "/healthz": lambda: {"status": "ok"},
    "/api/process": process_report,
    "/api/info": info_report,
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        route = ROUTES.get(self.path)
        status, body = (200, route()) if route else (404, {"error": f"no route {self.path}"})
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main() -> None:
    # As PID 1 in a container, Python ignores SIGTERM unless it handles it: `docker stop` would wait 10 s.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Handler)
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
