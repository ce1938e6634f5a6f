"The REST API as a client meets it: a real uvicorn server in a subprocess on a free loopback port, real HTTP."
import json, math, os, signal, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from natron.data import synthetic_market
from natron.protocol import candle_records
from natron.serving import launch


@pytest.fixture(scope="module")
def history(predictor):
    return synthetic_market(predictor.required_history + 60, "SYN_US500", seed=11)[0]


def stopped_cleanly(srv, sig=signal.SIGTERM):
    "Stop `srv` with `sig`: uvicorn shuts down gracefully, then re-raises SIGTERM (exit by signal) or ends quietly after SIGINT."
    code = srv.stop(sig)
    return code == (-signal.SIGTERM if sig == signal.SIGTERM else 0) and "Application shutdown complete" in srv.logs() and "Traceback" not in srv.logs()


@pytest.fixture(scope="module")
def server(model):
    srv = launch("serve", model)
    yield srv
    assert stopped_cleanly(srv), srv.logs()


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=60) as c: yield c


def probabilities(p):
    return [p["buy_prob"], p["sell_prob"], p["confidence"], *(v for k in ("direction_probs", "regime_probs", "rl_probs") for v in p[k].values())]


def alive(client):
    r = client.get("/health")
    return r.status_code == 200 and r.json()["model_loaded"] is True


def test_predict_is_the_predictors_answer(client, predictor, history):
    r = client.post("/predict", json={"candles": candle_records(history)})
    assert r.status_code == 200, r.text
    got, want = r.json(), predictor.predict(history)
    assert got.keys() == want.keys() and got["timestamp"] == want["timestamp"] and got["direction"] == want["direction"]
    for k in ("buy_prob", "sell_prob", "confidence"): assert math.isclose(got[k], want[k], abs_tol=1e-6)
    for k in ("direction_probs", "regime_probs", "rl_probs"):
        assert all(math.isclose(got[k][n], v, abs_tol=1e-6) for n, v in want[k].items())


def test_batch_health_info_docs(client, predictor, history):
    batch = client.post("/predict/batch", json={"candles": candle_records(history)})
    assert batch.status_code == 200
    preds = batch.json()["predictions"]
    assert len(preds) == 61 and preds[-1]["timestamp"] == history.index[-1].isoformat()
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["uptime_s"] > 0 and health["version"]
    info = client.get("/model-info").json()
    assert info["required_history"] == predictor.required_history and info["features"] == predictor.columns and info["rl_policy"]
    assert client.get("/docs").status_code == 200
    assert {"/predict", "/predict/batch", "/health", "/model-info"} <= client.get("/openapi.json").json()["paths"].keys()


def candle(t=1_700_000_000, o=100.0, h=101.0, l=99.0, c=100.5, v=10.0):
    return {"time": t, "open": o, "high": h, "low": l, "close": c, "volume": v}


def good_candles(n):
    return [candle(1_700_000_000 + 3600 * i) for i in range(n)]


BAD = [  # name, body (dict = JSON, bytes = raw), status, words the message must contain
    ("not JSON", b'{"candles": [', 400, "not valid JSON"),
    ("empty body", b"", 400, "not valid JSON"),
    ("a list, not an object", [], 422, "body: Input should be an object"),
    ("no candles field", {}, 422, "candles: Field required"),
    ("candles not a list", {"candles": 5}, 422, "candles: Input should be a valid array"),
    ("no candles", {"candles": []}, 422, "at least 1 item"),
    ("candle not an object", {"candles": [1, 2]}, 422, "candles[0]"),
    ("missing field", {"candles": [{k: v for k, v in candle().items() if k != "close"}]}, 422, "candles[0].close: Field required"),
    ("price as string", {"candles": [candle(o="100")]}, 422, "candles[0].open: Input should be a valid number"),
    ("volume as bool", {"candles": [candle(v=True)]}, 422, "candles[0].volume: Input should be a valid number"),
    ("time as null", {"candles": [candle(t=None)]}, 422, "candles[0].time"),
    ("NaN", b'{"candles": [{"time": 0, "open": NaN, "high": 1, "low": 1, "close": 1, "volume": 1}]}', 422, "candles[0].open: Input should be a finite number"),
    ("Infinity", b'{"candles": [{"time": 0, "open": 1, "high": Infinity, "low": 1, "close": 1, "volume": 1}]}', 422, "candles[0].high: Input should be a finite number"),
    ("-Infinity", b'{"candles": [{"time": 0, "open": 1, "high": 1, "low": -Infinity, "close": 1, "volume": 1}]}', 422, "candles[0].low"),
    ("overflowing number", b'{"candles": [{"time": 0, "open": 1e999, "high": 1, "low": 1, "close": 1, "volume": 1}]}', 422, "candles[0].open: Input should be a finite number"),
    ("zero price", {"candles": [candle(l=0.0)]}, 422, "candles[0].low: Input should be greater than 0"),
    ("negative price", {"candles": [candle(c=-5.0)]}, 422, "candles[0].close: Input should be greater than 0"),
    ("negative volume", {"candles": [candle(v=-1.0)]}, 422, "candles[0].volume: Input should be greater than or equal to 0"),
    ("high below close", {"candles": [candle(h=100.2)]}, 422, "candles[0].high: below max(open, close)"),
    ("low above open", {"candles": [candle(l=100.2)]}, 422, "candles[0].low: above min(open, close)"),
    ("duplicate times", {"candles": [candle(), candle()]}, 422, "candles[1].time: not after the time of candle 0"),
    ("unsorted times", {"candles": [candle(3600), candle(0)]}, 422, "candles[1].time: not after the time of candle 0"),
    ("unparseable time", {"candles": [candle(t="last tuesday")]}, 422, "candles[0].time: a time is RFC 3339 text"),
    ("time out of range", {"candles": [candle(t=9.9e9)]}, 422, "candles[0].time: a time is RFC 3339 text"),
    ("mixed time kinds", {"candles": [candle(t="2024-01-01T00:00:00Z"), candle(t=1_704_070_800)]}, 422, "candles[1].time: epoch seconds, but candle 0's is text"),
    ("deep nesting", b"[" * 100_000 + b"]" * 100_000, 400, ""),
]


@pytest.mark.parametrize("name,body,status,words", BAD, ids=[b[0] for b in BAD])
def test_bad_payload_is_a_4xx_naming_the_problem(client, name, body, status, words):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    r = client.post("/predict", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == status, (r.status_code, r.text)
    assert words in r.json()["detail"], r.text
    assert alive(client)


def test_too_few_candles_says_how_many(client, predictor):
    r = client.post("/predict", json={"candles": good_candles(20)})
    assert r.status_code == 422 and r.json()["detail"].startswith(f"need at least {predictor.required_history} candles")


def test_absurd_but_valid_candle_is_refused_not_answered_with_nan(client, predictor, history):
    recs = candle_records(history.iloc[-predictor.required_history:])
    recs[-1].update(open=1e30, high=1e30, close=1e30)                 # a valid candle the model cannot digest
    r = client.post("/predict", json={"candles": recs})
    assert r.status_code == 422 and "not finite" in r.json()["detail"], r.text


def test_oversized_body_is_413(client):
    r = client.post("/predict", content=b'{"candles": [' + b" " * (17 * 1024 * 1024) + b"]}", headers={"content-type": "application/json"})
    assert r.status_code == 413 and "Too Large" in r.text
    assert alive(client)


number = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**30, 10**30), st.booleans(), st.none(),
                   st.text(max_size=8))
fuzzed_candle = st.fixed_dictionaries({}, optional={k: number for k in ("time", "open", "high", "low", "close", "volume")})
json_value = st.recursive(st.one_of(st.none(), st.booleans(), st.floats(), st.integers(), st.text(max_size=10)),
                          lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
                          max_leaves=20)
payload = st.one_of(json_value, st.builds(lambda cs: {"candles": cs}, st.lists(fuzzed_candle, max_size=6)),
                    st.builds(lambda cs: {"candles": cs}, st.lists(json_value, max_size=4)))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=payload)
def test_fuzz_never_a_5xx(client, body):
    r = client.post("/predict", content=json.dumps(body).encode(), headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500, (body, r.text)                # never enough valid candles to be scored


extreme = st.one_of(number, st.floats(min_value=1e-300, max_value=1e300), st.sampled_from([1e-12, 1e12, 1e30, 5e-324, 1.7e308]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=st.integers(0, 10**6), field=st.sampled_from(["time", "open", "high", "low", "close", "volume"]), value=extreme, also=st.booleans())
def test_fuzz_one_bad_value_in_a_real_history(client, predictor, history, row, field, value, also):
    "A history long enough to be scored, with one value replaced (and, `also`, high/low widened to keep it a valid candle)."
    recs = candle_records(history.iloc[-predictor.required_history:])
    i = row % len(recs)
    recs[i][field] = value
    if also and isinstance(value, (int, float)) and field in ("open", "close"):
        recs[i]["high"], recs[i]["low"] = max(recs[i]["high"], value), min(recs[i]["low"], value)
    r = client.post("/predict", content=json.dumps({"candles": recs}).encode(), headers={"content-type": "application/json"})
    assert r.status_code == 200 or 400 <= r.status_code < 500, (i, field, value, r.status_code, r.text)
    if r.status_code == 200: assert all(isinstance(v, float) and 0 <= v <= 1 for v in probabilities(r.json())), r.text


def test_server_alive_after_fuzz(client):
    assert alive(client)


def test_concurrent_clients_get_their_own_answers(server, predictor, history):
    # 32 clients at once, each with its own history: micro-batching must not mix the answers up
    n = predictor.required_history
    def one(k):
        h = history.iloc[k:k + n]
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=60) as c:
            return k, c.post("/predict", json={"candles": candle_records(h)}).json()
    with ThreadPoolExecutor(32) as pool: results = list(pool.map(one, range(32)))
    for k, got in results:
        want = predictor.predict(history.iloc[k:k + n])
        assert got["timestamp"] == want["timestamp"] and math.isclose(got["buy_prob"], want["buy_prob"], abs_tol=1e-6)


def test_api_key_checked_on_every_request_and_sigint(model, history):
    srv = launch("serve", model, "--workers", "0", env={"NATRON_API_KEY": "s3cret"})     # the key from the environment
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{srv.port}", timeout=60) as c:
            for path in ("/health", "/model-info", "/docs"):
                assert c.get(path).status_code == 401
                assert c.get(path, headers={"X-API-Key": "wrong"}).status_code == 401
                assert c.get(path, headers={"X-API-Key": "s3cret"}).status_code == 200
            body = {"candles": candle_records(history)}
            assert c.post("/predict", json=body).status_code == 401
            assert c.post("/predict", json=body, headers={"X-API-Key": "s3cret"}).status_code == 200
    finally: assert stopped_cleanly(srv, signal.SIGINT), srv.logs()


def test_secrets_from_a_file_and_a_warning_for_the_command_line(model, tmp_path):
    (tmp_path / "key").write_text("f1le-key\n")
    srv = launch("serve", model, "--workers", "0", "--api-key-file", str(tmp_path / "key"))
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{srv.port}", timeout=60) as c:
            assert c.get("/health").status_code == 401 and c.get("/health", headers={"X-API-Key": "f1le-key"}).status_code == 200
    finally: srv.stop()
    assert "visible to every local user" not in srv.logs()
    srv = launch("serve", model, "--workers", "0", "--api-key", "on-the-command-line")
    try: assert "--api-key on the command line is visible to every local user (ps)" in srv.logs(), srv.logs()
    finally: srv.stop()


def test_beyond_loopback_needs_a_key(model):
    r = subprocess.run([sys.executable, "-c", "import sys; from natron.cli import main; sys.exit(main())", "serve", "--model", str(model), "--host", "0.0.0.0", "--port", "1"],
                       capture_output=True, text=True, timeout=120, env={k: v for k, v in os.environ.items() if k != "NATRON_API_KEY"})
    assert r.returncode == 2 and "requires an API key" in r.stderr
