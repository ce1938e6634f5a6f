"A flood of /predict/batch against a real server: predictions and health stay answered, the flood gets 200 or 503, memory stays bounded."
import json, threading, time
from pathlib import Path
import httpx
from natron.data import synthetic_market
from natron.protocol import candle_records
from natron.serving import launch

FLOODERS = 4                  # threads posting batches back to back, without waiting for Retry-After
FLOOD_CANDLES = 15_000        # candles in each flood request (~2.3 MB of JSON; up to 50,000 are allowed)
SECONDS = 20                  # how long the flood lasts
MAX_LATENCY = 5.0             # seconds a /predict or /health may take during the flood
MAX_RSS_MB = 2000             # the server and its workers together (measured: ~1130 MB idle, ~1300 MB at the flood's peak)


def rss_mb(pid:int) -> float:
    "Resident memory of process `pid` and all its descendants, from /proc."
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try: fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError: continue                                  # a process that just ended
        parents[int(stat.parent.name)] = int(fields[1])
    tree, grew = {pid}, True
    while grew:
        new = {p for p, pp in parents.items() if pp in tree} - tree
        tree, grew = tree | new, bool(new)
    total = 0
    for p in tree:
        try: total += next(int(l.split()[1]) for l in Path(f"/proc/{p}/status").read_text().splitlines() if l.startswith("VmRSS:"))
        except (OSError, StopIteration): pass
    return total / 1024


def test_a_batch_flood_starves_nothing(model, predictor):
    srv = launch("serve", model, "--workers", "1", "--max-body", "4000000")
    url = f"http://127.0.0.1:{srv.port}"
    flood = json.dumps({"candles": candle_records(synthetic_market(FLOOD_CANDLES, "SYN_US500", seed=5)[0])}).encode()
    small = {"candles": candle_records(synthetic_market(predictor.required_history, "SYN_EURUSD", seed=6)[0])}
    stop, statuses, probes, memory = threading.Event(), [], [], []

    def flooder():
        with httpx.Client(base_url=url, timeout=120) as c:
            while not stop.is_set():
                r = c.post("/predict/batch", content=flood, headers={"content-type": "application/json"})
                statuses.append((r.status_code, r.headers.get("retry-after"), len(r.json().get("predictions", []))))

    def prober():
        with httpx.Client(base_url=url, timeout=60) as c:
            while not stop.is_set():
                for call in (lambda: c.post("/predict", json=small), lambda: c.get("/health")):
                    t0 = time.perf_counter()
                    r = call()
                    probes.append((r.request.url.path, r.status_code, time.perf_counter() - t0))
                time.sleep(0.2)

    try:
        base = rss_mb(srv.proc.pid)
        threads = [threading.Thread(target=flooder) for _ in range(FLOODERS)] + [threading.Thread(target=prober)]
        for t in threads: t.start()
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline:
            memory.append(rss_mb(srv.proc.pid)); time.sleep(0.5)
        stop.set()
        for t in threads: t.join(150)
        assert not any(t.is_alive() for t in threads), "a client hung"
        worst = {path: max(s for p, _, s in probes if p == path) for path in ("/predict", "/health")}
        print(f"\nflood: {sum(s == 200 for s, _, _ in statuses)} batches answered 200 and {sum(s == 503 for s, _, _ in statuses)} 503, {len(probes)} probes, "
              f"worst latency {worst}, p50 {sorted(s for *_, s in probes)[len(probes) // 2]:.3f} s, RSS {base:.0f} MB idle, {max(memory):.0f} MB at most")
        assert {s for _, s, _ in probes} == {200}, probes
        assert max(worst.values()) < MAX_LATENCY, worst
        assert {s for s, _, _ in statuses} <= {200, 503} and 503 in {s for s, _, _ in statuses}, statuses   # served, or told to come back; never a 500
        assert all(n == FLOOD_CANDLES - predictor.required_history + 1 for s, _, n in statuses if s == 200), statuses
        assert all(retry == "5" for s, retry, _ in statuses if s == 503), statuses
        assert max(memory) < MAX_RSS_MB, (base, max(memory))
        with httpx.Client(base_url=url, timeout=60) as c:
            health = c.get("/health").json()
            assert health["status"] == "ok" and health["batch_queue"] == 0 and health["batch_worker_alive"], health
            after = c.post("/predict/batch", content=flood, headers={"content-type": "application/json"}, timeout=120)   # the lane still works
            assert after.status_code == 200 and len(after.json()["predictions"]) == FLOOD_CANDLES - predictor.required_history + 1, after.text[:300]
            big = c.post("/predict/batch", content=b'{"candles": [' + b" " * 4_000_001 + b"]}", headers={"content-type": "application/json"})
            assert big.status_code == 413 and "limit of 4,000,000 bytes" in big.json()["detail"], big.text
    finally:
        stop.set()
        srv.stop()
    assert "Traceback" not in srv.logs(), srv.logs()[-3000:]
