"Deadlines before trust, on real servers: floods of connections without a key neither lock out a client with one nor outlive their deadline."
import json, resource, selectors, socket, time
import httpx
from natron.bridge import FIRST_MESSAGE_TIMEOUT, BridgeClient
from natron.rest import HEAD_TIMEOUT
from natron.scoring import PER_ADDRESS
from natron.serving import launch

FLOOD_FROM = "127.0.0.2"       # the flood's own loopback address; the client with the key comes from 127.0.0.1
SLACK = 3.0                    # seconds past a deadline a connection may take to be closed (a loaded 2-core machine)


def room_for(n:int) -> None:
    "Raise this process's open-file limit (its servers inherit it) to hold `n` more sockets."
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 256: resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 1024), hard))


def flood(port:int, n:int, source:str=FLOOD_FROM) -> dict:
    "`n` connections to `port` from `source`, non-blocking, that have sent nothing: socket -> when it connected."
    socks = {}
    for _ in range(n):
        s = socket.socket()
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        s.setblocking(False)
        socks[s] = time.monotonic()
    return socks


def outlived(socks:dict, limit:float, talkers:list=(), line:bytes=b"", every:float=0.5) -> list:
    "The sockets of `socks` (socket -> when it connected) the server has not closed `limit` s after they connected (sending `line` every `every` s to `talkers`)."
    sel, closed, next_send, deadline = selectors.DefaultSelector(), {}, time.monotonic(), max(socks.values()) + limit
    for s in socks: sel.register(s, selectors.EVENT_READ)
    while len(closed) < len(socks) and time.monotonic() < deadline:
        if talkers and time.monotonic() >= next_send:
            for s in talkers:
                if s not in closed:
                    try: s.send(line)
                    except OSError: pass
            next_send += every
        for key, _ in sel.select(timeout=0.1):
            try: data = key.fileobj.recv(65536)
            except (ConnectionError, OSError): data = b""
            if not data: closed[key.fileobj] = time.monotonic(); sel.unregister(key.fileobj)
    sel.close()
    return [s for s, t in socks.items() if closed.get(s, float("inf")) > t + limit]


def test_silent_rest_connections_neither_lock_out_a_keyed_client_nor_outlive_the_head_deadline(model, tmp_path):
    room_for(800)
    (tmp_path / "keys").write_text("k3y-one\n")
    srv = launch("serve", model, "--workers", "0", "--api-key-file", str(tmp_path / "keys"))
    try:
        socks = flood(srv.port, 700)
        slow = flood(srv.port, 3, "127.0.0.3")                     # a head that goes on and on, a header line at a time
        for s in slow: s.send(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        with httpx.Client(base_url=f"http://127.0.0.1:{srv.port}", timeout=10, headers={"X-API-Key": "k3y-one"}) as c:
            t1 = time.monotonic()
            assert c.get("/health").status_code == 200 and c.get("/model-info").status_code == 200
            served = time.monotonic() - t1
        late = outlived(socks | slow, HEAD_TIMEOUT + SLACK, list(slow), b"X-Pad: 1\r\n")
        assert not late, f"{len(late)} connections outlived the {HEAD_TIMEOUT} s head deadline"
        assert served < 2, f"the keyed client waited {served:.1f} s"
    finally:
        for s in socks | slow: s.close()
        srv.stop()
    logs = srv.logs().splitlines()
    refused, late = sum("refused" in l for l in logs), sum("no complete request head" in l for l in logs)
    assert late == PER_ADDRESS + 3 and refused == 700 - PER_ADDRESS, (refused, late)     # one line per connection, at most


def test_blank_line_senders_neither_lock_out_a_keyed_bridge_client_nor_outlive_the_auth_deadline(model, tmp_path):
    room_for(700)
    (tmp_path / "tokens").write_text("t0ken\n")
    srv = launch("bridge", model, "--workers", "0", "--token-file", str(tmp_path / "tokens"))
    try:
        socks = flood(srv.port, 600)
        loud = flood(srv.port, 2, "127.0.0.3")
        for s in loud: s.setblocking(True); s.sendall(b'{"type": "ping", "session": "' + b"x" * 100_000 + b'"}\n')
        with BridgeClient(port=srv.port, token="t0ken", timeout=10) as c:
            assert c.ping()
            assert c.info()["required_history"] > 0
        late = outlived(socks | loud, FIRST_MESSAGE_TIMEOUT + SLACK, list(socks | loud), b"\n")
        assert not late, f"{len(late)} connections outlived the {FIRST_MESSAGE_TIMEOUT} s authentication deadline"
    finally:
        for s in socks | loud: s.close()
        srv.stop()
    logs = srv.logs()
    assert "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" not in logs
    assert max(map(len, logs.splitlines())) < 400 and len(logs) < 200_000, len(logs)


def test_queued_bodies_are_bounded_in_bytes(predictor):
    import asyncio
    from natron.data import synthetic_market
    from natron.protocol import candle_records
    from natron.scoring import Scorer
    body = json.dumps({"candles": candle_records(synthetic_market(predictor.required_history, "SYN_US500", seed=4)[0])}).encode()

    async def run():
        sc = Scorer(predictor, workers=0, max_queue_bytes=2 * len(body))
        await sc.start()
        try: return await asyncio.gather(*(sc.predict(body) for _ in range(3)), return_exceptions=True), sc.queued_bytes
        finally: await sc.stop()

    answers, left = asyncio.run(run())
    assert [type(a).__name__ for a in answers] == ["dict", "dict", "Busy"] and "bytes of requests are waiting" in str(answers[2]), answers
    assert left == 0
