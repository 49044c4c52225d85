"""`make lab` serves the chapters as notebooks (jupytext) in JupyterLab, to a reader in the `docker` group."""

import json
import os
import secrets
import socket
import time
import urllib.request

import pytest

from tests.reader import reader


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, token: str):
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read()


def test_make_lab_opens_a_chapter_as_a_notebook(engine) -> None:
    with reader() as who:
        _make_lab_opens_a_chapter(who)


def _make_lab_opens_a_chapter(who) -> None:
    port, token = _free_port(), secrets.token_hex(16)
    args = f"--no-browser --ip=127.0.0.1 --port={port} --ServerApp.token={token} --ServerApp.open_browser=False"
    proc = who.popen(["make", "-s", "lab", f"LAB_ARGS={args}"], start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if _get(f"{base}/api/status", token)[0] == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"make lab did not serve on {base}: {proc.stdout.read() if proc.stdout else ''}")
            time.sleep(1)
        status, body = _get(f"{base}/api/contents/chapters/02-1-scratch.md?type=notebook&content=1", token)
        model = json.loads(body)
        assert status == 200 and model["type"] == "notebook"
        cells = model["content"]["cells"]
        assert any(c["cell_type"] == "code" and "build_example" in c["source"] for c in cells)
        assert model["content"]["metadata"]["kernelspec"]["name"] == "python3"
        assert _get(f"{base}/lab", token)[0] == 200
    finally:
        try:
            os.killpg(proc.pid, 15)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)
