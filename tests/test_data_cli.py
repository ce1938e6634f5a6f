"The `natron data` commands as a user runs them: real files, a real SQLite database, a fresh process each."
import re, sqlite3, subprocess
import numpy as np
import pandas as pd
from conftest import BIN
from natron.data import broker_to_utc, load_candles, synthetic_market, write_sqlite


def _csv(path, candles):
    candles.reset_index().to_csv(path, index=False)
    return path


def test_import_is_idempotent_and_transactional(tmp_path, run_natron):
    candles, _ = synthetic_market(300, "SYN_US500", seed=4)
    db = tmp_path / "market.db"
    first = run_natron("data", "import", _csv(tmp_path / "a.csv", candles), "--db", db, "--symbol", "US500")
    assert "300 new row(s), 0 already stored, 0 conflicting, of 300" in first.stdout
    again = run_natron("data", "import", _csv(tmp_path / "a.csv", candles), "--db", db, "--symbol", "US500")
    assert "0 new row(s), 300 already stored, 0 conflicting, of 300" in again.stdout

    # a second file that adds 100 good rows but also contradicts one stored row: nothing of it is written
    more = pd.concat([candles, synthetic_market(400, "SYN_US500", seed=5)[0].iloc[300:]])
    more.iloc[10, more.columns.get_loc("volume")] += 1
    bad = run_natron("data", "import", _csv(tmp_path / "b.csv", more), "--db", db, "--symbol", "US500", check=False)
    assert bad.returncode == 3 and "already stored with other values" in bad.stderr
    assert "(100 new, 299 identical, 1 conflicting" in bad.stderr and "Traceback" not in bad.stderr
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM series").fetchone()[0] == 300
    pd.testing.assert_frame_equal(load_candles(db, "US500"), candles, check_freq=False)


def test_bad_file_is_named_not_traced(tmp_path, run_natron):
    candles, _ = synthetic_market(50, "X", seed=1)
    candles.iloc[7, candles.columns.get_loc("high")] = 1.0
    r = run_natron("data", "import", _csv(tmp_path / "bad.csv", candles), "--db", tmp_path / "m.db", "--symbol", "X", check=False)
    assert r.returncode == 3                                                        # data: the file must be fixed
    assert "high below max(open, close): 1 row(s)" in r.stderr and "Traceback" not in r.stderr


def test_synth_and_summary(tmp_path, run_natron):
    db = tmp_path / "m.db"
    run_natron("data", "synth", "--db", db, "--bars", "500", "--timeframe", "15min")
    out = run_natron("data", "summary", "--db", db).stdout
    for sym in ("SYN_EURUSD", "SYN_US500", "SYN_XAUUSD"): assert sym in out
    assert "15min" in out
    one = _csv(tmp_path / "EURUSD_H1.csv", synthetic_market(300, "X", seed=1)[0])   # a file of one symbol: named after the file
    rows = run_natron("data", "summary", "--db", one).stdout.splitlines()
    assert rows[-1].split()[:2] == ["EURUSD_H1", "300"] and " 1h " in rows[-1], rows
    bad = run_natron("data", "synth", "--db", db, "--timeframe", "1hour", check=False)
    assert bad.returncode == 2 and bad.stderr.strip() == "natron: error: timeframe '1hour' is not a bar length: use e.g. 30s, 15min, 1h, 4h or 1D"


def test_summary_counts_missing_bars_inside_the_markets_sessions(tmp_path, run_natron):
    from natron.samples import sample_candles
    missing = lambda out: {r.split()[0]: int(r.split()[-3]) for r in out.stdout.splitlines()[2:]}
    stocks = run_natron("data", "summary", "--db", "sample:stocks-daily")         # weekends and holidays are no holes
    assert missing(stocks) == dict.fromkeys(["AAPL", "FB", "GOOG", "IBM", "MSFT"], 0) and " 1D " in stocks.stdout, stocks.stdout
    daily = sample_candles("stocks-daily").drop([("AAPL", pd.Timestamp("2010-06-16", tz="UTC")), ("IBM", pd.Timestamp("2011-02-08", tz="UTC"))])
    for sym, df in daily.groupby(level="symbol"): write_sqlite(df.droplevel("symbol"), tmp_path / "stocks.db", sym)
    assert missing(run_natron("data", "summary", "--db", tmp_path / "stocks.db")) == {"AAPL": 1, "FB": 0, "GOOG": 0, "IBM": 1, "MSFT": 0}
    hourly = sample_candles("stock-hourly")                                      # 09:30-15:30 New York, five early closes, two clock changes a year
    holey = hourly.drop(hourly.index[[500, 501, 1200]])
    assert missing(run_natron("data", "summary", "--db", _csv(tmp_path / "AAPL_H1.csv", holey))) == {"AAPL_H1": 3}


def test_concurrent_conflicting_imports_never_lose_or_mix_rows(tmp_path):
    "Two imports of files that disagree on 1,000 shared hours, started together into one database, again and again."
    n, overlap, rounds = 2000, 1000, 12
    a, _ = synthetic_market(n, "SYN_EURUSD", seed=1)
    b, _ = synthetic_market(n + overlap, "SYN_EURUSD", seed=2)
    b = b.iloc[n - overlap:]                                        # the same times as a's last 1,000 bars, other prices
    files = {"a": _csv(tmp_path / "a.csv", a), "b": _csv(tmp_path / "b.csv", b)}
    frames = {"a": a, "b": b}
    winners = []
    for i in range(rounds):
        db = tmp_path / f"race{i}.db"
        procs = {k: subprocess.Popen([str(BIN / "natron"), "data", "import", str(f), "--db", str(db), "--symbol", "EURUSD",
                                      "--conflicts", str(tmp_path / f"conflicts-{k}{i}.csv")], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True) for k, f in files.items()}
        outs = {k: p.communicate(timeout=300) for k, p in procs.items()}
        codes = {k: p.returncode for k, p in procs.items()}
        assert sorted(codes.values()) in ([0, 1], [0, 3]), (codes, outs)      # 3: the loser's rows conflict; 1: it waited in vain
        win, lose = sorted(codes, key=codes.get)
        winners.append(win)
        assert f"{n} new row(s), 0 already stored, 0 conflicting, of {n}" in outs[win][0]
        err = outs[lose][1]
        assert "Traceback" not in err, err
        if codes[lose] == 1: assert "write lock" in err
        else:                                                       # the loser saw the winner's rows and named every conflict
            assert f"{overlap} of {n} row(s) of EURUSD already stored with other values" in err, err
            assert f"({n - overlap} new, 0 identical, {overlap} conflicting" in err, err
            conflicts = pd.read_csv(tmp_path / f"conflicts-{lose}{i}.csv", parse_dates=["time"])
            assert list(conflicts.time) == list(a.index[n - overlap:]), "the conflict report must list every shared hour"
        stored = load_candles(db, "EURUSD")                         # exactly the winner's file: nothing mixed, nothing lost
        pd.testing.assert_frame_equal(stored, frames[win], check_freq=False)
        with sqlite3.connect(db) as con: assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_sub_second_refused_and_odd_paths_round_trip(tmp_path, run_natron):
    candles, _ = synthetic_market(3, "X", seed=0)
    candles.index = pd.DatetimeIndex(["2024-01-01 00:00:00", "2024-01-01 00:00:00.500", "2024-01-01 00:00:01"], tz="UTC", name="time")
    db = tmp_path / "odd #1?x=y" / "m #?.db"
    r = run_natron("data", "import", _csv(tmp_path / "ticks.csv", candles), "--db", db, "--symbol", "X", check=False)
    assert r.returncode == 3 and "sub-second timestamps: the database stores whole seconds, 1 row(s)" in r.stderr
    assert "00:00:00.500" in r.stderr and "Traceback" not in r.stderr
    good, _ = synthetic_market(100, "X", seed=0)
    run_natron("data", "import", _csv(tmp_path / "good.csv", good), "--db", db, "--symbol", "X")
    assert "100" in run_natron("data", "summary", "--db", db).stdout
    pd.testing.assert_frame_equal(load_candles(db, "X"), good, check_freq=False)


def _mt5_export(path, utc_times, clock):
    "An MT5 export of hourly candles at `utc_times`, stamped with the broker's `clock` (naive times)."
    rng = np.random.default_rng(0)
    close = 1.1 * np.exp(np.cumsum(rng.normal(0, 1e-3, len(utc_times))))
    pd.DataFrame({"<DATE>": clock.strftime("%Y.%m.%d"), "<TIME>": clock.strftime("%H:%M:%S"), "<OPEN>": close, "<HIGH>": close * 1.001,
                  "<LOW>": close * 0.999, "<CLOSE>": close, "<TICKVOL>": 100, "<VOL>": 0, "<SPREAD>": 10}).to_csv(path, sep="\t", index=False)
    return path


def test_broker_time_auto_detects_mt5_across_both_dst_switches(tmp_path, run_natron):
    t = pd.date_range("2023-01-01", "2024-01-01", freq="h", tz="UTC", inclusive="left")
    ny = t.tz_convert("America/New_York")
    week_hour = (ny.day_of_week + 1) % 7 * 24 + ny.hour
    fx = t[(week_hour >= 17) & (week_hour < 5 * 24 + 17)]           # Sunday 17:00 to Friday 17:00 New York
    clock = fx.tz_convert("America/New_York").tz_localize(None) + pd.Timedelta(hours=7)
    assert broker_to_utc(clock, "mt5").equals(fx.rename("time"))
    export = _mt5_export(tmp_path / "EURUSD_H1.txt", fx, clock)
    db = tmp_path / "m.db"
    r = run_natron("data", "import", export, "--db", db, "--symbol", "EURUSD", "--broker-time", "auto")
    assert re.search(r"broker time: mt5 \(puts 100% of weekly opens", r.stderr), r.stderr
    stored = load_candles(db, "EURUSD")
    assert stored.index.equals(pd.DatetimeIndex(fx, name="time")), "imported times must be the true UTC times all year"
    fixed = run_natron("data", "import", export, "--db", tmp_path / "fixed.db", "--symbol", "EURUSD", "--broker-time", "UTC+2")
    assert f"{len(fx)} new row(s)" in fixed.stdout
    summer = load_candles(tmp_path / "fixed.db", "EURUSD").index != fx
    assert 0.5 < summer.mean() < 0.75, "a fixed UTC+2 is an hour off exactly in the US summer"
    bad = run_natron("data", "import", export, "--db", db, "--symbol", "EURUSD", "--broker-time", "EET", check=False)
    assert bad.returncode == 2 and "unknown broker time 'EET'" in bad.stderr
