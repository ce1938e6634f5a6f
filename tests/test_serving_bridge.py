"The MetaTrader bridge as clients meet it: a real asyncio server in a subprocess on a free loopback port, real sockets."
import json, math, os, signal, socket, subprocess, sys, threading, time
from concurrent.futures import ThreadPoolExecutor
import pytest
from natron.data import synthetic_market
from natron.bridge import BridgeClient, BridgeError
from natron.protocol import candle_records
from natron.serving import launch


@pytest.fixture(scope="module")
def history(predictor):
    return synthetic_market(predictor.required_history + 40, "SYN_US500", seed=12)[0]


def stopped_cleanly(srv, sig):
    return srv.stop(sig) == 0 and "natron bridge stopped" in srv.logs() and "Traceback" not in srv.logs()


@pytest.fixture(scope="module")
def server(model):
    srv = launch("bridge", model)                       # scoring in one process per core
    yield srv
    idle = BridgeClient(port=srv.port)                  # Ctrl-C (SIGINT to the whole process group) with a client connected
    assert idle.ping()
    assert stopped_cleanly(srv, signal.SIGINT), srv.logs()
    with pytest.raises(OSError): idle.ping()            # the server closed its connections on the way out
    idle.close()


def close_to(got, want):
    return got["timestamp"] == want["timestamp"] and all(math.isclose(got[k], want[k], abs_tol=1e-6) for k in ("buy_prob", "sell_prob", "confidence"))


def test_ping_info_predict(server, predictor, history):
    with BridgeClient(port=server.port) as c:
        assert c.ping()
        assert c.info()["required_history"] == predictor.required_history
        got = c.predict(history)
        assert close_to(got, predictor.predict(history)) and got["rl_action"] in ("SHORT", "FLAT", "LONG")


BAD_LINES = [  # raw line, words of the error
    (b'{"type": "predict", "candles": [', "malformed JSON"),
    (b"\xff\xfe not utf-8", "malformed JSON"),
    (b"[1, 2, 3]", "unknown message type None"),
    (b'"ping"', "unknown message type None"),
    (b'{"kind": "ping"}', "unknown message type None"),
    (b'{"type": "buy everything"}', "unknown message type 'buy everything'"),
    (b'{"type": "predict"}', "candles: Field required"),
    (b'{"type": "predict", "candles": "lots"}', "candles: Input should be a valid array"),   # as REST says: both read the raw JSON
    (b'{"type": "predict", "candles": [{"time": 0, "open": NaN, "high": 1, "low": 1, "close": 1, "volume": 1}]}', "candles[0].open: Input should be a finite number"),
    (b'{"type": "predict", "candles": [{"time": 0, "open": 1, "high": 0.5, "low": 0.4, "close": 1, "volume": 1}]}', "candles[0].high: below max(open, close)"),
    (b'{"type": "predict", "candles": [{"time": 0, "open": 1, "high": 1, "low": 1, "close": 1, "volume": 1}]}', "need at least"),
    (b"[" * 100_000, "malformed JSON"),
]


def test_errors_keep_the_connection_usable(server):
    with BridgeClient(port=server.port) as c:
        for line, words in BAD_LINES:
            reply = c.send_line(line)
            assert reply["type"] == "error" and words in reply["error"], (line[:60], reply)
            assert c.ping()


def test_over_long_line_is_skipped_with_an_error(server, predictor, history):
    with BridgeClient(port=server.port) as c:
        reply = c.send_line(b'{"type": "predict", "candles": [' + b" " * (1024 * 1024 + 10) + b"]}")
        msg = f"message longer than {1024 * 1024} bytes"
        assert reply == {"type": "error", "error": msg, "detail": msg, "request_id": reply["request_id"], "errors": []}, reply
        assert c.ping()                                   # the rest of the long line was skipped, not read as a message
        assert close_to(c.predict(history), predictor.predict(history))


def test_many_concurrent_clients(server, predictor, history):
    n = predictor.required_history
    want = {j: predictor.predict(history.iloc[j:j + n]) for j in range(40)}
    def one(k):
        with BridgeClient(port=server.port) as c:
            return [(j, c.predict(history.iloc[j:j + n])) for j in (k, (k + 8) % 40)]
    with ThreadPoolExecutor(32) as pool: runs = list(pool.map(one, range(32)))
    answers = [a for run in runs for a in run]
    assert len(answers) == 64 and all(close_to(got, want[j]) for j, got in answers)


def test_a_client_leaving_mid_request_harms_no_one(server, predictor, history):
    line = (json.dumps({"type": "predict", "candles": candle_records(history)}) + "\n").encode()
    stop, errors = threading.Event(), []
    def steady():                                          # a well-behaved client, predicting all along
        with BridgeClient(port=server.port) as c:
            while not stop.is_set():
                if not close_to(c.predict(history), predictor.predict(history)): errors.append("wrong answer")
    t = threading.Thread(target=steady); t.start()
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", server.port)) as s:
            s.sendall(line)                                # ask, then vanish before the answer
        with socket.create_connection(("127.0.0.1", server.port)) as s:
            s.sendall(line[: len(line) // 2])              # vanish in the middle of a message
        with socket.create_connection(("127.0.0.1", server.port)) as s:
            s.sendall(line); s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")   # reset
    stop.set(); t.join(60)
    assert not errors
    with BridgeClient(port=server.port) as c: assert c.ping()


def test_hundreds_of_idle_sockets_do_not_starve_a_client(server):
    idle = [socket.create_connection(("127.0.0.1", server.port), source_address=("127.0.0.2", 0)) for _ in range(300)]   # connect, then say nothing
    # (from an address of their own: one address holds at most PER_ADDRESS connections, the rest are told so and closed)
    try:
        start = time.monotonic()
        with BridgeClient(port=server.port) as c: assert c.ping()
        assert time.monotonic() - start < 5, "a real client waited behind idle sockets"
        for s in idle[:5]: s.settimeout(60)
        heard = [s.makefile("rb").readline() for s in idle[:5]]       # after the first-message deadline: told why, then closed
        assert all(b"no message in 10 s: closing the connection" in h for h in heard), heard
    finally:
        for s in idle: s.close()


def test_token_handshake_and_sigterm(model):
    srv = launch("bridge", model, "--workers", "0", "--token", "t0ken")
    try:
        with BridgeClient(port=srv.port) as c:
            with pytest.raises(BridgeError, match="authenticate first"): c.ping()
            assert c.call({"type": "auth", "token": "t0ken"}) == {"type": "auth_ok"} and c.ping()
        with BridgeClient(port=srv.port, token="t0ken") as c: assert c.ping()
        with BridgeClient(port=srv.port) as c:
            with pytest.raises(BridgeError, match="wrong token"): c.call({"type": "auth", "token": "guess"})
            with pytest.raises(OSError): c.ping()         # a wrong token ends the connection
    finally: assert stopped_cleanly(srv, signal.SIGTERM), srv.logs()


def test_beyond_loopback_needs_a_token(model):
    r = subprocess.run([sys.executable, "-c", "import sys; from natron.cli import main; sys.exit(main())", "bridge", "--model", str(model), "--host", "0.0.0.0", "--port", "1"],
                       capture_output=True, text=True, timeout=120, env={k: v for k, v in os.environ.items() if k != "NATRON_BRIDGE_TOKEN"})
    assert r.returncode == 2 and "requires a token" in r.stderr
