"Streaming sessions as clients meet them: real servers (REST and bridge) in subprocesses, real sockets, 200 candles each."
import json, math, re, signal, time
import httpx
import pytest
from natron.bridge import BridgeClient, BridgeError
from natron.data import synthetic_market
from natron.protocol import candle_records
from natron.serving import launch

N = 200                                                     # candles streamed per session


@pytest.fixture(scope="module")
def market(predictor):
    "Two instruments' candles: required history plus N to stream, each."
    return [synthetic_market(predictor.required_history + N + 1, s, seed=21)[0] for s in ("SYN_US500", "SYN_EURUSD")]


@pytest.fixture(scope="module")
def expected(predictor, market):
    "The predictor's own stream over the N candles after the first `required_history` of the first instrument."
    R, m = predictor.required_history, market[0]
    stream = predictor.stream(m.iloc[:R])
    return [stream.update(m.iloc[[j]]) for j in range(R, R + N)]


def numbers(p):
    return [p["buy_prob"], p["sell_prob"], p["confidence"], *(v for k in ("direction_probs", "regime_probs", "rl_probs") for v in p[k].values())]


def same(got, want):
    "The served prediction is the in-process stream's, to 1e-5."
    return (got["timestamp"] == want["timestamp"] and got["direction"] == want["direction"] and got["rl_action"] == want["rl_action"]
            and all(math.isclose(a, b, abs_tol=1e-5) for a, b in zip(numbers(got), numbers(want))))


@pytest.fixture(scope="module")
def rest(model):
    srv = launch("serve", model, "--workers", "1", env={"NATRON_API_KEY": "k3y"})
    yield srv
    srv.stop(signal.SIGTERM)


@pytest.fixture(scope="module")
def bridge(model):
    srv = launch("bridge", model, "--workers", "1", "--token", "t0k")
    yield srv
    assert srv.stop(signal.SIGTERM) == 0 and "Traceback" not in srv.logs(), srv.logs()


def test_rest_sessions_match_the_predictors_stream(rest, predictor, market, expected):
    R, m, key = predictor.required_history, market[0], {"X-API-Key": "k3y"}
    c = httpx.Client(base_url=f"http://127.0.0.1:{rest.port}", timeout=60, headers=key)
    r = c.put("/sessions/rest-0", json={"candles": candle_records(m.iloc[:R])})
    assert r.status_code == 200 and r.json() == {"session": "rest-0", "history": R, "required_history": R}, r.text
    for j in range(R, R + N):
        if j == R + N // 2:                                                   # reconnect half way: a new connection, the same session
            c.close(); c = httpx.Client(base_url=f"http://127.0.0.1:{rest.port}", timeout=60, headers=key)
        r = c.post("/sessions/rest-0/candles", json={"candle": candle_records(m.iloc[[j]])[0]})
        assert r.status_code == 200 and same(r.json(), expected[j - R]), (j, r.text)
    other = httpx.post(f"http://127.0.0.1:{rest.port}/sessions/rest-0/candles", headers={"X-API-Key": "wrong"},
                       json={"candle": candle_records(m.iloc[[R + N]])[0]})
    assert other.status_code == 401                                           # not even seen without the key
    assert c.delete("/sessions/rest-0").json() == {"session": "rest-0", "closed": True}
    gone = c.post("/sessions/rest-0/candles", json={"candle": candle_records(m.iloc[[R + N]])[0]})
    assert gone.status_code == 404 and "open it again" in gone.json()["detail"], gone.text
    short = c.put("/sessions/short", json={"candles": candle_records(m.iloc[:R - 7])})
    assert short.status_code == 422 and short.json()["detail"].endswith("7 missing"), short.text
    c.close()


def test_bridge_sessions_match_the_predictors_stream_across_reconnects(bridge, predictor, market, expected):
    R, m = predictor.required_history, market[0]
    c = BridgeClient(port=bridge.port, token="t0k")
    assert c.open_session("ea-0", m.iloc[:R]) == {"type": "opened", "session": "ea-0", "history": R, "required_history": R}
    c.open_session("ea-1", market[1].iloc[:R])
    for j in range(R, R + N):
        if j % 50 == 0:                                                        # the EA's connection drops; it reconnects and carries on
            c.close(); c = BridgeClient(port=bridge.port, token="t0k")
        reply = c.call({"type": "update", "session": "ea-0", "candle": candle_records(m.iloc[[j]])[0]})
        assert reply["session"] == "ea-0" and same(reply["data"], expected[j - R]), (j, reply)
    ref = predictor.stream(market[1].iloc[:R])
    last = market[1].iloc[[R]]
    forming = last.assign(close=last.high)                                     # the forming bar: sent, then revised
    assert same(c.update("ea-1", last), ref.update(last)) and same(c.update("ea-1", forming), ref.update(forming))
    with pytest.raises(BridgeError, match=re.escape(f"is older than the last candle, at {m.index[R + N - 1]}")):
        c.update("ea-0", m.iloc[[R]])
    assert c.close_session("ea-0") == {"type": "closed", "session": "ea-0"}
    with pytest.raises(BridgeError, match="unknown or expired"): c.update("ea-0", m.iloc[[R + N]])
    c.close()


def test_sessions_expire_with_a_message_to_reopen(model, predictor, market):
    R = predictor.required_history
    srv = launch("bridge", model, "--workers", "0", "--session-ttl", "1.5", "--max-sessions", "2")
    try:
        with BridgeClient(port=srv.port) as c:
            c.open_session("a", market[0].iloc[:R]); c.open_session("b", market[1].iloc[:R])
            with pytest.raises(BridgeError, match="maximum of 2 sessions"): c.open_session("c", market[1].iloc[1:R + 1])
            c.update("a", market[0].iloc[[R]])
            time.sleep(2)
            with pytest.raises(BridgeError, match="unknown or expired .* open it again"): c.update("a", market[0].iloc[[R + 1]])
            assert c.open_session("c", market[1].iloc[1:R + 1])["history"] == R  # the expired ones made room
            assert c.open_session("a", market[0].iloc[1:R + 1])["session"] == "a"
            assert same(c.update("a", market[0].iloc[[R + 1]]), predictor.stream(market[0].iloc[1:R + 1]).update(market[0].iloc[[R + 1]]))
    finally: srv.stop()


def test_reopening_an_expired_session_works_every_time(model, predictor, market):
    R, m = predictor.required_history, market[0]
    srv = launch("serve", model, "--workers", "1", "--session-ttl", "1")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{srv.port}", timeout=60) as c:
            for i in range(5):                                       # the expiry's close and the new open land in one batch
                assert c.put("/sessions/EA", json={"candles": candle_records(m.iloc[i:R + i])}).status_code == 200
                time.sleep(1.3)
                assert c.put("/sessions/EA", json={"candles": candle_records(m.iloc[i:R + i])}).status_code == 200
                r = c.post("/sessions/EA/candles", json={"candle": candle_records(m.iloc[[R + i]])[0]})
                assert r.status_code == 200, (i, r.text)
    finally: srv.stop()


def test_a_far_future_candle_is_refused_without_touching_the_session(rest, predictor, market, expected):
    R, m = predictor.required_history, market[0]
    with httpx.Client(base_url=f"http://127.0.0.1:{rest.port}", timeout=60, headers={"X-API-Key": "k3y"}) as c:
        assert c.put("/sessions/future", json={"candles": candle_records(m.iloc[:R])}).status_code == 200
        ahead = {**candle_records(m.iloc[[R]])[0], "time": int(time.time()) + 10 * 365 * 86400}
        r = c.post("/sessions/future/candles", json={"candle": ahead})
        assert r.status_code == 422 and "ahead of the server's clock" in r.json()["detail"], r.text
        r = c.post("/sessions/future/candles", json={"candle": candle_records(m.iloc[[R]])[0]})
        assert r.status_code == 200 and same(r.json(), expected[0]), r.text        # the session never saw it


def test_idle_sessions_on_long_histories_cost_what_they_hold(model, predictor):
    history = synthetic_market(50_000, "SYN_EURUSD", seed=3)[0]
    body = json.dumps({"candles": candle_records(history)}).encode()
    srv = launch("serve", model, "--workers", "1")
    rss = lambda pid: int(next(l.split()[1] for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS:"))) / 1024
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{srv.port}", timeout=120, headers={"content-type": "application/json"}) as c:
            worker = c.get("/health").json()["worker_pids"][0]                 # where the sessions live
            for i in range(2): assert c.put(f"/sessions/warm-{i}", content=body).status_code == 200     # parsing's own peak, once
            base = rss(worker)
            for i in range(30): assert c.put(f"/sessions/idle-{i}", content=body).status_code == 200
            grew = rss(worker) - base
    finally: srv.stop()
    # a session holds ~77 KB; the rest is what the allocator keeps after parsing 50,000 candles (measured 13-16 MB);
    # sessions that kept views of their whole history grew the worker by 58 MB
    assert grew < 30, f"30 idle sessions on 50,000 candles grew the scoring worker by {grew:.1f} MB"


def test_busy_open_and_close_leave_server_and_worker_in_agreement(predictor, market):
    import asyncio
    from natron.protocol import Busy
    from natron.scoring import Scorer
    R, m = predictor.required_history, market[0]

    async def run():
        sc = Scorer(predictor, workers=0)
        await sc.start()
        try:
            await sc.open(("", "s"), {"candles": candle_records(m.iloc[:R])})
            sc.max_queue = 0                                            # every request turned away: Busy
            for call in (sc.close(("", "s")), sc.open(("", "s"), {"candles": candle_records(m.iloc[1:R + 1])})):
                with pytest.raises(Busy): await call
            sc.max_queue = 512
            return ("", "s") in sc.sessions, await sc.update(("", "s"), {"candle": candle_records(m.iloc[[R]])[0]})
        finally: await sc.stop()

    known, answer = asyncio.run(run())
    assert known and same(answer, predictor.stream(m.iloc[:R]).update(m.iloc[[R]])), answer
