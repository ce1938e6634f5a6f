"`bench_serve` end to end, briefly: both real servers, a few concurrent clients, two rounds, every request answered; and its clients count a wrong answer as an error."
import json
import pytest
from natron.bench import demo_bundle
from natron.bench import _load, bench_serve
from natron.serving import launch


def test_bench_serve_runs_both_servers(tmp_path):
    table = bench_serve(demo_bundle(tmp_path / "natron_v2.pt"), clients=4, seconds=1, workers=0, rounds=2)
    assert table.index.tolist() == ["rest predict", "rest session", "bridge predict", "bridge session"]
    assert table.errors.tolist() == [0, 0, 0, 0] and table["rounds"].tolist() == [2, 2, 2, 2]
    assert (table.predictions > 0).all() and (table.p50_ms <= table.p99_ms).all()
    assert (table.slowest_per_s <= table.predictions_per_s).all() and (table.predictions_per_s <= table.fastest_per_s).all()


@pytest.mark.parametrize("server", ["serve", "bridge"])
def test_bench_clients_count_refused_requests_as_errors(tmp_path, server):
    short = {"candles": [{"time": 0, "open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0, "volume": 1.0}]}   # too short a history: refused
    request = ("POST", "/predict", json.dumps(short).encode()) if server == "serve" else (json.dumps({"type": "predict", **short}).encode(), "prediction")
    proc = launch(server, demo_bundle(tmp_path / "natron_v2.pt"), "--workers", "0")
    try: row = _load(proc, server == "serve", [([], [request])] * 2, seconds=1)
    finally: proc.stop()
    assert row["predictions"] == 0 and row["errors"] > 10, row
