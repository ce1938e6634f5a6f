"Broker time for live candles: candles stamped with an MT5 server's clock across the March DST switch answer as the same candles in UTC."
import math
import httpx
import pandas as pd
import pytest
from natron.bridge import BridgeClient
from natron.data import synthetic_market
from natron.protocol import candle_records
from natron.serving import launch

N = 120                                                     # candles streamed, across the switch of 2024-03-10 07:00 UTC


@pytest.fixture(scope="module")
def spring(predictor):
    "Hourly UTC candles ending 2024-03-13: the required history, then N candles whose middle is the US switch to summer time."
    c = synthetic_market(predictor.required_history + N, "SYN_EURUSD", seed=31)[0]
    c.index = pd.date_range(end="2024-03-12 18:00", periods=len(c), freq="h", tz="UTC", name="time")
    return c


def mt5(candles) -> list:
    "Wire records stamped as an MT5 expert advisor stamps them: epoch seconds of the broker's wall clock (New York + 7 h)."
    wall = candles.index.tz_convert("America/New_York").tz_localize(None) + pd.Timedelta(hours=7)
    return [{**r, "time": int((t - pd.Timestamp(0)) // pd.Timedelta(seconds=1))} for r, t in zip(candle_records(candles), wall)]


def same(got, want):
    nums = lambda p: [p["buy_prob"], p["sell_prob"], p["confidence"], *p["direction_probs"].values(), *p["regime_probs"].values()]
    return got["timestamp"] == want["timestamp"] and all(math.isclose(a, b, abs_tol=1e-5) for a, b in zip(nums(got), nums(want)))


def test_a_session_in_mt5_time_across_the_switch_answers_as_in_utc(model, predictor, spring):
    R = predictor.required_history
    shifts = [(r["time"] - u["time"]) / 3600 for r, u in zip(mt5(spring.iloc[R:]), candle_records(spring.iloc[R:]))]
    assert shifts[0] == 2 and shifts[-1] == 3, shifts                 # the stream starts in winter time and ends in summer time
    srv = launch("bridge", model, "--workers", "1", "--broker-time", "mt5")
    try:
        with BridgeClient(port=srv.port) as c:
            assert c.call({"type": "open", "session": "EURUSD:H1", "candles": mt5(spring.iloc[:R])})["history"] == R
            ref = predictor.stream(spring.iloc[:R])
            for j in range(R, R + N):
                got = c.call({"type": "update", "session": "EURUSD:H1", "candle": mt5(spring.iloc[[j]])[0]})["data"]
                assert same(got, ref.update(spring.iloc[[j]])), (j, got)
            whole = c.call({"type": "predict", "candles": mt5(spring.iloc[-R:])})["data"]
            assert same(whole, predictor.predict(spring.iloc[-R:])), whole
    finally: srv.stop()


def test_rest_reads_broker_time_in_predict_batch_and_sessions(model, predictor, spring):
    R = predictor.required_history
    srv = launch("serve", model, "--workers", "0", "--broker-time", "mt5")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{srv.port}", timeout=60) as c:
            assert same(c.post("/predict", json={"candles": mt5(spring.iloc[-R:])}).json(), predictor.predict(spring.iloc[-R:]))
            batch = c.post("/predict/batch", json={"candles": mt5(spring)}).json()["predictions"]
            assert [p["timestamp"] for p in batch] == [t.isoformat() for t in predictor.predict_batch(spring).index]
            assert c.put("/sessions/s", json={"candles": mt5(spring.iloc[:R])}).status_code == 200
            got = c.post("/sessions/s/candles", json={"candle": mt5(spring.iloc[[R]])[0]}).json()
            assert same(got, predictor.stream(spring.iloc[:R]).update(spring.iloc[[R]])), got
            stamped = [{**r, "time": t.strftime("%Y-%m-%dT%H:%M:%SZ")} for r, t in zip(candle_records(spring.iloc[-R:]), spring.index[-R:])]
            utc = c.post("/predict", json={"candles": stamped})                # a time with its own offset is not a broker's wall clock
            assert utc.status_code == 422 and "carries an offset" in utc.json()["detail"], utc.text
            assert c.get("/health").json()["broker_time"] == "mt5"
    finally: srv.stop()


def test_auto_is_refused_for_live_candles(model, run_natron):
    r = run_natron("serve", "--model", model, "--broker-time", "auto", check=False)
    assert r.returncode == 2 and "cannot read live candles" in r.stderr, (r.returncode, r.stderr)
