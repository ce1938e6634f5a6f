"Request ids and access lines from real servers: REST's per-request lines and ids, --no-access-log, and the bridge's connection lines."
import re, time
import httpx
from natron.bridge import BridgeClient, BridgeError
from natron.data import synthetic_market
from natron.protocol import candle_records, owner
from natron.serving import launch
import pytest


def access_lines(logs:str) -> list:
    return [l for l in logs.splitlines() if re.match(r"(GET|POST|PUT|DELETE) /", l)]


def test_rest_logs_one_line_per_request_with_its_id_and_never_the_key(model, predictor, tmp_path):
    (tmp_path / "key").write_text("k3y-secret\n")
    body = {"candles": candle_records(synthetic_market(predictor.required_history, "SYN_US500", seed=41)[0])}
    srv = launch("serve", model, "--workers", "0", "--api-key-file", str(tmp_path / "key"))
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{srv.port}", timeout=60, headers={"X-API-Key": "k3y-secret"}) as c:
            ok = c.post("/predict", json=body, headers={"X-Request-ID": "ea-7:1001"})
            bad = c.post("/predict", json={"candles": body["candles"][:3]}, headers={"X-Request-ID": "two words"})
            gone = c.post("/sessions/nope/candles", json={"candle": body["candles"][-1]})
        locked = httpx.get(f"http://127.0.0.1:{srv.port}/health", timeout=60)
    finally: srv.stop()
    logs = srv.logs()
    assert ok.status_code == 200 and ok.headers["x-request-id"] == "ea-7:1001", ok.headers
    for r, status in ((bad, 422), (gone, 404), (locked, 401)):
        assert r.status_code == status and r.json()["request_id"] == r.headers["x-request-id"], r.text
    assert bad.headers["x-request-id"] != "two words"                          # an id with spaces is replaced, not echoed
    lines = access_lines(logs)
    assert len(lines) == 4, logs
    key = lines[0].rsplit("key=", 1)[1]                                        # a digest keyed by the server's own secret:
    assert re.fullmatch(r"[0-9a-f]{16}", key) and key != owner("k3y-secret"), key   # not the bare sha256 a weak key is guessed from
    assert re.fullmatch(rf"POST /predict 200 [\d.]+ ms id=ea-7:1001 key={key}", lines[0]), lines
    assert re.fullmatch(rf"POST /predict 422 [\d.]+ ms id={bad.headers['x-request-id']} key={key}", lines[1]), lines
    assert re.fullmatch(rf"POST /sessions/nope/candles 404 [\d.]+ ms id={gone.headers['x-request-id']} key={key}", lines[2]), lines
    assert re.fullmatch(rf"GET /health 401 [\d.]+ ms id={locked.headers['x-request-id']} key=-", lines[3]), lines
    assert "k3y-secret" not in logs


def test_no_access_log_keeps_the_ids(model):
    srv = launch("serve", model, "--workers", "0", "--no-access-log")
    try: r = httpx.get(f"http://127.0.0.1:{srv.port}/health", timeout=60, headers={"X-Request-ID": "probe-1"})
    finally: srv.stop()
    assert r.status_code == 200 and r.headers["x-request-id"] == "probe-1"
    assert access_lines(srv.logs()) == [], srv.logs()


def test_bridge_logs_each_connection_and_each_error_with_its_session(model, predictor):
    history = synthetic_market(predictor.required_history + 1, "SYN_US500", seed=42)[0]
    srv = launch("bridge", model, "--workers", "0")
    try:
        with BridgeClient(port=srv.port) as c:
            assert c.ping()
            with pytest.raises(BridgeError, match="unknown or expired"): c.update("EA-1", history.iloc[[-1]])
            assert c.open_session("EA-2", history.iloc[:-1])["history"] == predictor.required_history
    finally: srv.stop()
    cid = next(l.split()[2] for l in srv.logs().splitlines() if "'EA-1'" in l)             # launch's own probe was a connection too
    lines = [l for l in srv.logs().splitlines() if l.startswith(f"bridge connection {cid} ")]
    assert len(lines) == 3, srv.logs()
    assert re.fullmatch(rf"bridge connection {cid} from 127\.0\.0\.1:\d+ opened", lines[0]), lines
    assert lines[1].startswith(f"bridge connection {cid} session 'EA-1' error: session 'EA-1' is unknown or expired"), lines
    assert re.fullmatch(rf"bridge connection {cid} closed after 3 message\(s\), 1 error\(s\), [\d.]+ s", lines[2]), lines


def test_a_forged_log_line_is_impossible_and_a_client_gone_mid_body_is_no_500(model):
    import socket
    srv = launch("serve", model, "--workers", "0")
    try:
        r = httpx.get(f"http://127.0.0.1:{srv.port}/health%0APOST%20/predict%20200%201.0%20ms%20id=forged%20key=-", timeout=60)
        with socket.create_connection(("127.0.0.1", srv.port)) as s:       # a body cut off: 100 of the 100,000 bytes announced
            s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n" + b"{" * 100)
        time.sleep(1)
    finally: srv.stop()
    logs = srv.logs()
    assert r.status_code == 404 and not any(l.startswith("POST /predict 200") for l in logs.splitlines()), logs
    assert sum("id=forged" in l for l in logs.splitlines()) == 1, logs                  # on the one line of its request, escaped
    assert "Traceback" not in logs and " 500 " not in logs and re.search(r"^POST /predict 499 ", logs, re.M), logs


def test_a_bundle_that_unpacks_past_the_limit_is_refused_before_loading(tmp_path):
    import zipfile
    bomb = tmp_path / "bomb.pt"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("archive/data/0", "w", force_zip64=True) as f:
            for _ in range(1200): f.write(bytes(1 << 20))                      # 1.2 GB of zeros, ~1.2 MB on disk
    assert bomb.stat().st_size < 5 << 20
    with pytest.raises(RuntimeError, match="unpacks to 1,258,291,200 bytes, over the limit"): launch("serve", bomb, "--workers", "0")
