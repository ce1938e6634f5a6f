"Property tests of natron.evaluation.backtest: accounting identities, causality and per-symbol isolation on random paths."
import numpy as np
import pandas as pd
from hypothesis import given, settings, strategies as st

from natron.evaluation import backtest, bar_returns, trade_list

COST_BPS = 7.0


@st.composite
def market(draw, max_symbols=3, max_bars=60):
    "Random closes and positions (discrete or fractional) for 1..max_symbols symbols on a (symbol, time) index."
    n_sym = draw(st.integers(1, max_symbols))
    n = draw(st.integers(2, max_bars))
    seed = draw(st.integers(0, 2**32 - 1))
    fractional = draw(st.booleans())
    rng = np.random.default_rng(seed)
    time = pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC", name="time", unit="ns")
    idx = pd.MultiIndex.from_product([[f"S{i}" for i in range(n_sym)], time], names=["symbol", "time"])
    close = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.02, len(idx)))), idx, name="close")
    pos = rng.choice([-1.0, -0.5, 0.0, 0.5, 1.0] if fractional else [-1.0, 0.0, 1.0], len(idx))
    runs = rng.random(len(idx)) < 0.6                       # keep the previous position often, so trades last
    for i in np.flatnonzero(runs):
        if i: pos[i] = pos[i - 1]
    return close, pd.Series(pos, idx)


@settings(max_examples=150, deadline=None)
@given(market())
def test_trade_pnls_add_up_to_the_net_returns_of_each_symbol(m):
    close, pos = m
    bt = backtest(close, pos, commission_bps=COST_BPS / 2, slippage_bps=COST_BPS / 2, borrow_bps=5e4)   # a short pays a large borrow too
    per_symbol = bt.symbol_returns.groupby(level="symbol").sum()
    by_trades = bt.trades.groupby("symbol").pnl.sum().reindex(per_symbol.index, fill_value=0.0)
    np.testing.assert_allclose(by_trades.to_numpy(), per_symbol.to_numpy(), atol=1e-12)


@settings(max_examples=150, deadline=None)
@given(market())
def test_every_held_bar_belongs_to_exactly_one_trade(m):
    close, pos = m
    held = pos.groupby(level="symbol").shift(1).fillna(0.0)
    trades = trade_list(pos, bar_returns(close))
    assert trades.bars_held.sum() == int((held != 0).sum())
    for _, t in trades.groupby("symbol"):                   # trades of one symbol never overlap
        assert (t.entry.to_numpy()[1:] >= t.exit.to_numpy()[:-1]).all()


@settings(max_examples=100, deadline=None)
@given(market(), st.data())
def test_the_past_never_depends_on_the_future(m, data):
    "Changing closes and positions after bar t leaves every net return up to bar t as it was."
    close, pos = m
    times = close.index.get_level_values("time")
    t = data.draw(st.sampled_from(sorted(set(times))))
    later = times > t
    close2, pos2 = close.copy(), pos.copy()
    close2[later] *= np.exp(np.random.default_rng(1).normal(0, 0.1, later.sum()))
    pos2[later] = -pos2[later] + 0.5
    a, b = backtest(close, pos, 3, 4), backtest(close2, pos2, 3, 4)
    pd.testing.assert_series_equal(a.returns[a.returns.index <= t], b.returns[b.returns.index <= t])


@settings(max_examples=100, deadline=None)
@given(market())
def test_symbols_are_independent_and_the_portfolio_is_their_mean(m):
    close, pos = m
    multi = backtest(close, pos, 1, 1)
    singles = {s: backtest(close.loc[s], pos.loc[s], 1, 1).returns for s in close.index.unique("symbol")}
    np.testing.assert_allclose(multi.returns.to_numpy(), pd.DataFrame(singles).mean(axis=1).to_numpy(), atol=1e-15)


@settings(max_examples=100, deadline=None)
@given(market())
def test_costs_are_charged_on_the_bar_each_change_fills_and_the_final_exit_only(m):
    close, pos = m
    free, paid = backtest(close, pos, 0, 0), backtest(close, pos, 2, 3)
    held = pos.groupby(level="symbol").shift(1).fillna(0.0)                      # the position held over each bar
    change = held.groupby(level="symbol").diff().fillna(held).abs()              # a change is paid on the bar it fills
    last = pos.groupby(level="symbol").cumcount(ascending=False) == 0            # each symbol's last bar closes what is still held ...
    traded = change + held.abs().where(last, 0.0)                                # ... and its last decision is never held, so never paid
    np.testing.assert_allclose((free.symbol_returns - paid.symbol_returns).to_numpy(), traded.to_numpy() * 5e-4, atol=1e-15)
    np.testing.assert_allclose(free.gross.to_numpy(), free.returns.to_numpy())
