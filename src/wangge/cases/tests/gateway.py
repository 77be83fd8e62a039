"""A real HTTP server on loopback that plays DingTalk, WeCom, a generic SMS gateway and Aliyun
SMS for the adapter tests: it checks each request's signature and body the way the service
does and answers in the service's format (an error code when something is wrong)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DINGTALK_SECRET = "SECtest-dingtalk-secret"
SMS_KEY_ID = "wangge-test"
SMS_SECRET = "sms-gateway-secret"
ALIYUN_KEY_ID = "LTAItestkey"
ALIYUN_SECRET = "aliyun-test-secret"


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode())

    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode(), keep_blank_values=True))


@dataclass
class Gateway:
    url: str
    received: list[Received] = field(default_factory=list)
    # Canned failures to answer before behaving normally: path -> list of (status, body).
    failures: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)

    def fail_next(self, path: str, status: int, body: dict[str, Any]) -> None:
        self.failures.setdefault(path, []).append((status, body))


def _dingtalk(req: Received) -> tuple[int, dict[str, Any]]:
    ts, sign = req.query.get("timestamp", ""), req.query.get("sign", "")
    if not ts or not sign:
        return 200, {"errcode": 310000, "errmsg": "sign not match"}
    expected = base64.b64encode(
        hmac.new(
            DINGTALK_SECRET.encode(), f"{ts}\n{DINGTALK_SECRET}".encode(), hashlib.sha256
        ).digest()
    ).decode()
    if not hmac.compare_digest(sign, expected) or abs(time.time() * 1000 - int(ts)) > 3600_000:
        return 200, {"errcode": 310000, "errmsg": "sign not match"}
    body = req.json()
    if body.get("msgtype") != "text" or not body.get("text", {}).get("content"):
        return 200, {"errcode": 40035, "errmsg": "缺少参数 text"}
    return 200, {"errcode": 0, "errmsg": "ok"}


def _wecom(req: Received) -> tuple[int, dict[str, Any]]:
    if req.query.get("key") != "wecom-key":
        return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
    body = req.json()
    if body.get("msgtype") != "text" or not body.get("text", {}).get("content"):
        return 200, {"errcode": 40008, "errmsg": "invalid message type"}
    return 200, {"errcode": 0, "errmsg": "ok"}


def _sms(req: Received) -> tuple[int, dict[str, Any]]:
    h = req.headers
    message = f"{h.get('x-wangge-timestamp')}\n{h.get('x-wangge-nonce')}\n".encode() + req.body
    expected = hmac.new(SMS_SECRET.encode(), message, hashlib.sha256).hexdigest()
    if h.get("x-wangge-key") != SMS_KEY_ID or not hmac.compare_digest(
        h.get("x-wangge-signature", ""), expected
    ):
        return 401, {"code": 401, "message": "bad signature"}
    body = req.json()
    if not body.get("to") or not body.get("text"):
        return 400, {"code": 400, "message": "to and text required"}
    return 200, {"code": 0, "message": "queued"}


def _aliyun_encode(value: str) -> str:
    return urllib.parse.quote(value, safe="~")


def _aliyun(req: Received) -> tuple[int, dict[str, Any]]:
    params = req.form()
    signature = params.pop("Signature", "")
    canonical = "&".join(
        f"{_aliyun_encode(k)}={_aliyun_encode(v)}" for k, v in sorted(params.items())
    )
    to_sign = f"POST&{_aliyun_encode('/')}&{_aliyun_encode(canonical)}"
    expected = base64.b64encode(
        hmac.new(f"{ALIYUN_SECRET}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    ).decode()
    if params.get("AccessKeyId") != ALIYUN_KEY_ID:
        return 404, {
            "Code": "InvalidAccessKeyId.NotFound",
            "Message": "Specified access key is not found.",
        }
    if not hmac.compare_digest(signature, expected):
        return 400, {
            "Code": "SignatureDoesNotMatch",
            "Message": "Specified signature is not matched",
        }
    if params.get("Action") != "SendSms" or params.get("Version") != "2017-05-25":
        return 400, {"Code": "InvalidAction", "Message": "bad action"}
    json.loads(params["TemplateParam"])
    return 200, {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "x"}


ROUTES = {
    "/dingtalk/robot/send": _dingtalk,
    "/cgi-bin/webhook/send": _wecom,
    "/sms": _sms,
    "/": _aliyun,
}


def serve() -> Iterator[Gateway]:
    """Start the server on a free loopback port; stop it when the generator is closed."""
    gateway: Gateway

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            req = Received(
                path=parts.path,
                query=dict(urllib.parse.parse_qsl(parts.query)),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length),
            )
            gateway.received.append(req)
            canned = gateway.failures.get(parts.path)
            if canned:
                status, answer = canned.pop(0)
            elif parts.path in ROUTES:
                status, answer = ROUTES[parts.path](req)
            else:
                status, answer = 404, {"errcode": 404}
            raw = json.dumps(answer, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    gateway = Gateway(url=f"http://127.0.0.1:{server.server_address[1]}")
    # A short poll interval: shutdown() waits for the next poll (0.5 s by default) per test.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()
