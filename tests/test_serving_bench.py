"`bench_serve` end to end, briefly: both real servers, a few concurrent clients, every request answered."
from natron.inference import demo_bundle
from natron.bench import bench_serve


def test_bench_serve_runs_both_servers(tmp_path):
    table = bench_serve(demo_bundle(tmp_path / "natron_v2.pt"), clients=4, seconds=2, workers=0)
    assert table.index.tolist() == ["rest predict", "rest session", "bridge predict", "bridge session"]
    assert table.errors.tolist() == [0, 0, 0, 0]
    assert (table.predictions > 0).all() and (table.p50_ms <= table.p99_ms).all()
