"Several keys on real servers: each key its own namespace of sessions, one key per request, new keys on SIGHUP without losing sessions."
import signal, time
import httpx
import pytest
from natron.bridge import BridgeClient, BridgeError
from natron.data import synthetic_market
from natron.protocol import candle_records
from natron.serving import launch


@pytest.fixture(scope="module")
def markets(predictor):
    "Two different histories, one for each desk, and the next candle of each."
    R = predictor.required_history
    return [synthetic_market(R + 1, "SYN_EURUSD", seed=s)[0] for s in (71, 72)]


def test_two_rest_keys_reusing_a_session_id_stay_apart(model, predictor, markets, tmp_path):
    keys = tmp_path / "keys"
    keys.write_text("# desks\nkey-a\nkey-b\n")
    srv = launch("serve", model, "--workers", "1", "--api-key-file", str(keys))
    url = f"http://127.0.0.1:{srv.port}"
    try:
        with httpx.Client(base_url=url, timeout=60, headers={"X-API-Key": "key-a"}) as a, \
             httpx.Client(base_url=url, timeout=60, headers={"X-API-Key": "key-b"}) as b:
            for c, h in ((a, markets[0]), (b, markets[1])):
                assert c.put("/sessions/EURUSD:H1", json={"candles": candle_records(h.iloc[:-1])}).status_code == 200
            got = [c.post("/sessions/EURUSD:H1/candles", json={"candle": candle_records(h.iloc[[-1]])[0]}).json()["buy_prob"]
                   for c, h in ((a, markets[0]), (b, markets[1]))]
            for g, h in zip(got, markets): assert abs(g - predictor.predict(h)["buy_prob"]) < 1e-5, (got, h.index[-1])
            assert b.delete("/sessions/EURUSD:H1").status_code == 200
            assert b.delete("/sessions/EURUSD:H1").status_code == 404                   # b closed its own; a's is still there
            assert a.post("/sessions/EURUSD:H1/candles", json={"candle": candle_records(markets[0].iloc[[-1]])[0]}).status_code == 200
            two = httpx.get(f"{url}/health", headers=[("X-API-Key", "key-a"), ("X-API-Key", "key-b")], timeout=60)
            assert two.status_code == 401, two.text                                    # one key per request, never two read two ways
            keys.write_text("key-a\nkey-c\n")
            srv.proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while b.get("/health").status_code != 401 and time.monotonic() < deadline: time.sleep(0.1)
            assert b.get("/health").status_code == 401 and httpx.get(f"{url}/health", headers={"X-API-Key": "key-c"}).status_code == 200
            assert a.post("/sessions/EURUSD:H1/candles", json={"candle": candle_records(markets[0].iloc[[-1]])[0]}).status_code == 200   # kept its session
    finally: srv.stop()


def test_two_bridge_tokens_reusing_a_session_id_stay_apart(model, predictor, markets, tmp_path):
    (tmp_path / "tokens").write_text("tok-a\n\n  tok-b\n")
    srv = launch("bridge", model, "--workers", "1", "--token-file", str(tmp_path / "tokens"))
    try:
        with BridgeClient(port=srv.port, token="tok-a") as a, BridgeClient(port=srv.port, token="tok-b") as b:
            for c, h in ((a, markets[0]), (b, markets[1])): c.open_session("EURUSD:H1", h.iloc[:-1])
            for c, h in ((a, markets[0]), (b, markets[1])):
                assert abs(c.update("EURUSD:H1", h.iloc[[-1]])["buy_prob"] - predictor.predict(h)["buy_prob"]) < 1e-5
            b.close_session("EURUSD:H1")
            with pytest.raises(BridgeError, match="unknown or expired"): b.close_session("EURUSD:H1")
            assert a.update("EURUSD:H1", markets[0].iloc[[-1]])["buy_prob"] > 0
        with BridgeClient(port=srv.port) as c, pytest.raises(BridgeError, match="wrong token"): c.call({"type": "auth", "token": "tok-c"})
    finally: srv.stop()
