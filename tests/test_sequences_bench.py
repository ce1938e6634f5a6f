"The windows memory budget (the architecture page, Budgets), measured at full size in a fresh process: 1M candles x 100 features."
from natron.bench import bench_windows


def test_windows_for_1m_candles_fit_the_memory_budget():
    r = bench_windows(1_000_000, 100, 96)
    assert r["rows"] == 1_000_000 and r["train_windows"] > 650_000
    assert r["peak_rss_mb"] <= 2048, r
    # no materialised (N, 96, F) copy: the windows would take ~25 GB; the process grows by a small multiple of the
    # one (N, F) float32 array (the array itself, the labels frame, chunked scaler temporaries)
    assert r["materialised_windows_mb"] > 20_000
    assert r["peak_rss_mb"] - r["baseline_rss_mb"] < 2 * r["feature_array_mb"], r
    assert r["windows_per_s"] > 5_000, r
