"The `natron data` commands as a user runs them: real files, a real SQLite database, a fresh process each."
import sqlite3
import pandas as pd
from natron.data import load_candles, synthetic_market


def _csv(path, candles):
    candles.reset_index().to_csv(path, index=False)
    return path


def test_import_is_idempotent_and_transactional(tmp_path, run_natron):
    candles, _ = synthetic_market(300, "SYN_US500", seed=4)
    db = tmp_path / "market.db"
    first = run_natron("data", "import", _csv(tmp_path / "a.csv", candles), "--db", db, "--symbol", "US500")
    assert "300 new row(s)" in first.stdout
    again = run_natron("data", "import", _csv(tmp_path / "a.csv", candles), "--db", db, "--symbol", "US500")
    assert "0 new row(s), 300 already stored" in again.stdout

    # a second file that adds 100 good rows but also contradicts one stored row: nothing of it is written
    more, _ = synthetic_market(400, "SYN_US500", seed=4)
    more.iloc[10, more.columns.get_loc("volume")] += 1
    bad = run_natron("data", "import", _csv(tmp_path / "b.csv", more), "--db", db, "--symbol", "US500", check=False)
    assert bad.returncode == 2 and "already stored with other values" in bad.stderr
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM series").fetchone()[0] == 300
    pd.testing.assert_frame_equal(load_candles(db, "US500"), candles, check_freq=False)


def test_bad_file_is_named_not_traced(tmp_path, run_natron):
    candles, _ = synthetic_market(50, "X", seed=1)
    candles.iloc[7, candles.columns.get_loc("high")] = 1.0
    r = run_natron("data", "import", _csv(tmp_path / "bad.csv", candles), "--db", tmp_path / "m.db", "--symbol", "X", check=False)
    assert r.returncode == 2
    assert "high below max(open, close): 1 row(s)" in r.stderr and "Traceback" not in r.stderr


def test_synth_and_summary(tmp_path, run_natron):
    db = tmp_path / "m.db"
    run_natron("data", "synth", "--db", db, "--bars", "500", "--timeframe", "15min")
    out = run_natron("data", "summary", "--db", db).stdout
    for sym in ("SYN_EURUSD", "SYN_US500", "SYN_XAUUSD"): assert sym in out
    assert "15min" in out
