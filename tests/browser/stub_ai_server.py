"""A stand-in for the AI providers the HTML report talks to, for tests.

A stdlib http.server on 127.0.0.1 (a free port chosen by the kernel) that
implements just enough of two chat APIs:

  POST .../chat/completions   OpenAI-compatible chat completions
                              (/v1/chat/completions, or an Azure-style
                              /openai/deployments/D/chat/completions?api-version=...)
  POST /api/chat              Ollama's chat endpoint (answers stream=false)

Every request (preflights included) is recorded with its path, headers and
JSON body.  The answer is a canned proposal whose code block carries a
counter, so two clicks give two different proposals.  The key "bad" (as
`Authorization: Bearer bad` or `api-key: bad`) gets HTTP 401 with an
OpenAI-style error body.  CORS and Private Network Access preflights are
answered so a page loaded from file:// may call it.

Run by hand:  python3 tests/browser/stub_ai_server.py [--port N]
"""

from __future__ import annotations

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional
from urllib.parse import urlsplit

CANNED_CODE = "total = sum(i * i for i in range(n))  # proposal {n}"
CANNED_TEXT = ("Here is a faster version:\n\n```python\n" + CANNED_CODE +
               "\n```\n\nA generator expression inside sum() avoids the per-iteration "
               "bytecode of the explicit loop.")


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet
        pass

    def _cors(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "authorization, content-type, api-key")
        self.send_header("Access-Control-Allow-Private-Network", "true")
        self.send_header("Access-Control-Max-Age", "0")

    def _reply(self, status: int, payload: Optional[Dict[str, Any]]) -> None:
        body = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self._cors()
        if payload is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _record(self, body: Any) -> Dict[str, Any]:
        rec = {"method": self.command, "path": self.path,
               "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
        with self.server.lock:
            self.server.requests.append(rec)
        return rec

    def do_OPTIONS(self) -> None:  # noqa: N802 (http.server's naming)
        self._record(None)
        self._reply(204, None)

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw.decode() or "null")
        except ValueError:
            body = None
        self._record(body)
        path = urlsplit(self.path).path
        auth = self.headers.get("Authorization", "")
        key = auth[7:] if auth.startswith("Bearer ") else self.headers.get("api-key", "")
        if key == "bad":
            self._reply(401, {"error": {"message": "Incorrect API key provided: bad.",
                                        "type": "invalid_request_error", "code": "invalid_api_key"}})
            return
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            self._reply(400, {"error": {"message": "messages is required"}})
            return
        with self.server.lock:
            self.server.answers += 1
            n = self.server.answers
        text = CANNED_TEXT.format(n=n)
        model = str(body.get("model", ""))
        if path.endswith("/chat/completions"):
            self._reply(200, {
                "id": f"chatcmpl-stub-{n}", "object": "chat.completion", "created": 0, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})
        elif path == "/api/chat":
            self._reply(200, {"model": model, "created_at": "1970-01-01T00:00:00Z",
                              "message": {"role": "assistant", "content": text},
                              "done": True, "done_reason": "stop"})
        else:
            self._reply(404, {"error": {"message": f"no route {path}"}})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    requests: List[Dict[str, Any]]
    answers: int
    lock: threading.Lock


class StubAIServer:
    """with StubAIServer() as s: s.url, s.requests (POSTs), s.all_requests"""

    def __init__(self, port: int = 0) -> None:
        self._srv = _Server(("127.0.0.1", port), _Handler)
        self._srv.requests = []
        self._srv.answers = 0
        self._srv.lock = threading.Lock()
        self._thread = threading.Thread(target=self._srv.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._srv.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def all_requests(self) -> List[Dict[str, Any]]:
        with self._srv.lock:
            return list(self._srv.requests)

    @property
    def requests(self) -> List[Dict[str, Any]]:
        return [r for r in self.all_requests if r["method"] == "POST"]

    def clear(self) -> None:
        with self._srv.lock:
            self._srv.requests.clear()

    def start(self) -> "StubAIServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._srv.shutdown()
        self._srv.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "StubAIServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ns = ap.parse_args()
    srv = StubAIServer(ns.port)
    print(f"stub AI server on {srv.url} (OpenAI-compatible: {srv.url}/v1/chat/completions, "
          f"Ollama: {srv.url}/api/chat); Ctrl-C stops it", flush=True)
    try:
        srv._srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
