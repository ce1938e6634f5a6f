"A server that heals: a scoring worker killed under a real server, and a bundle whose metadata holds NaN."
import asyncio, os, signal, time
import httpx
import pytest
import torch
from natron.bridge import BridgeClient
from natron.bundle import NatronModelBundle, load_bundle
from natron.data import synthetic_market
from natron.protocol import candle_records
from natron.serving import launch


@pytest.fixture(scope="module")
def history(predictor):
    return synthetic_market(predictor.required_history + 5, "SYN_US500", seed=13)[0]


def test_a_killed_worker_is_replaced_and_health_tells_the_truth(model, history):
    srv = launch("serve", model, "--workers", "2")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{srv.port}", timeout=60) as c:
            body = {"candles": candle_records(history)}
            assert c.post("/predict", json=body).status_code == 200
            before = c.get("/health").json()
            assert before["status"] == "ok" and before["workers_alive"] == 2 and len(before["worker_pids"]) == 2, before
            os.kill(before["worker_pids"][0], signal.SIGKILL)                  # out of memory, a crash: the worker is gone
            seen, deadline = [], time.monotonic() + 90
            while time.monotonic() < deadline:
                r = c.get("/health")
                seen.append((r.status_code, r.json()["status"], r.json()["workers_alive"]))
                answers = [c.post("/predict", json=body).status_code for _ in range(4)]
                assert set(answers) <= {200, 503}, answers                      # answered: a prediction, or "try again"
                if r.status_code == 200 and len(seen) > 1: break
                time.sleep(0.2)
            assert (503, "degraded", 1) in seen, seen                            # the truth while the new worker starts
            after = c.get("/health").json()
            assert after["status"] == "ok" and after["workers_alive"] == 2 and before["worker_pids"][0] not in after["worker_pids"], after
            assert all(c.post("/predict", json=body).status_code == 200 for _ in range(6))
        assert "scoring worker 0 died" in srv.logs() or "scoring worker 1 died" in srv.logs(), srv.logs()
    finally: srv.stop()


def test_nan_in_the_metadata_is_served_as_null(tmp_path, model):
    b = load_bundle(model)
    odd = NatronModelBundle(**{**b.to_dict(), "train_meta": {**b.train_meta, "test_auc": float("nan"), "sharpe": torch.tensor(float("inf"))}})
    path = odd.save(tmp_path / "odd.pt")
    rest, bridge = launch("serve", path, "--workers", "0"), launch("bridge", path, "--workers", "0")
    try:
        info = httpx.get(f"http://127.0.0.1:{rest.port}/model-info", timeout=60)
        assert info.status_code == 200 and info.json()["train_meta"]["test_auc"] is None and info.json()["train_meta"]["sharpe"] is None, info.text
        with BridgeClient(port=bridge.port) as c:
            assert c.info()["train_meta"]["test_auc"] is None and c.ping()
    finally: rest.stop(); bridge.stop()


def test_a_worker_whose_restart_fails_is_retried_reported_and_bounded(predictor, history):
    from natron.protocol import Busy
    from natron.scoring import Scorer
    body = {"candles": candle_records(history)}

    async def heal():
        sc = Scorer(predictor, workers=1)
        await sc.start()
        try:
            good, sc.bundle, sc.ready_wait = sc.bundle, b"not a bundle", 1.0      # as a bundle gone bad on disk
            os.kill(sc.health()["worker_pids"][0], signal.SIGKILL)
            while not sc.failing: await asyncio.sleep(0.1)
            failing, t0 = sc.health(), time.monotonic()
            refused = (await asyncio.gather(sc.predict(body), return_exceptions=True))[0]
            waited, sc.bundle = time.monotonic() - t0, good
            deadline = time.monotonic() + 60
            while sc.health()["workers_alive"] != 1 and time.monotonic() < deadline: await asyncio.sleep(0.1)
            return failing, refused, waited, sc.health(), await sc.predict(body)
        finally: await sc.stop()

    failing, refused, waited, healed, answer = asyncio.run(heal())
    assert failing["workers_alive"] == 0 and failing["failing"].startswith("worker 0: "), failing
    assert isinstance(refused, Busy) and waited < 3, (refused, waited)                   # turned away within the bound, not left waiting
    assert healed["workers_alive"] == 1 and healed["failing"] is None, healed
    assert abs(answer["buy_prob"] - predictor.predict(history)["buy_prob"]) < 1e-6
