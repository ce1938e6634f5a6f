"The REST contract as a customer's tooling meets it: schemathesis, and a client generated from the served OpenAPI schema, against a real server."
import importlib, json, os, re, subprocess, sys
from pathlib import Path
import httpx
import pytest
from natron.data import synthetic_market
from natron.protocol import candle_records
from natron.serving import launch

KEY = "contract-key"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def server(model):
    srv = launch("serve", model, "--workers", "1", "--no-access-log", env={"NATRON_API_KEY": KEY})
    yield srv
    srv.stop()


def test_schemathesis_every_check_every_phase_no_failure(server, tmp_path):
    "Every check, every phase (stateful included), a fixed seed and few examples: the server does what its schema says."
    cmd = [BIN / "st", "--config-file", Path(__file__).with_name("schemathesis.toml"), "run", f"http://127.0.0.1:{server.port}/openapi.json",
           "--checks", "all", "--max-examples", "8", "--seed", "1", "-H", f"X-API-Key: {KEY}", "--no-color"]
    r = subprocess.run(list(map(str, cmd)), capture_output=True, text=True, timeout=600, cwd=tmp_path)   # st keeps a cache in its cwd
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"): assert f"✅ {phase}" in r.stdout, r.stdout[-3000:]
    cases = re.search(r"(\d+) generated, (\d+) passed", r.stdout)
    assert cases and cases[1] == cases[2] and int(cases[1]) >= 200, r.stdout[-3000:]


def test_a_generated_client_streams_predicts_and_reads_an_error(server, predictor, tmp_path):
    "openapi-python-client's client of the served schema opens a session, streams candles, reads predictions and a 422 as natron's models."
    spec = tmp_path / "openapi.json"
    spec.write_text(httpx.get(f"http://127.0.0.1:{server.port}/openapi.json", headers={"X-API-Key": KEY}).text)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}            # its post-hooks run ruff from the venv
    r = subprocess.run([str(BIN / "openapi-python-client"), "generate", "--path", str(spec), "--meta", "none", "--output-path",
                        str(tmp_path / "natron_client")], capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        nc = importlib.import_module("natron_client")
        api, models = importlib.import_module("natron_client.api.default"), importlib.import_module("natron_client.models")
        for op in ("open_session", "update_session", "predict", "close_session"): importlib.import_module(f"natron_client.api.default.{op}")
    finally: sys.path.remove(str(tmp_path))
    R, history = predictor.required_history, synthetic_market(predictor.required_history + 3, "SYN_US500", seed=5)[0]
    records = candle_records(history)
    client = nc.AuthenticatedClient(f"http://127.0.0.1:{server.port}", token=KEY, prefix="", auth_header_name="X-API-Key", timeout=60)
    with client:
        opened = api.open_session.sync(session="desk-1", client=client, body=models.PredictRequest.from_dict({"candles": records[:R]}))
        assert isinstance(opened, models.SessionOpened) and (opened.history, opened.required_history) == (R, R), opened
        stream = predictor.stream(history.iloc[:R])
        for j in range(R, R + 3):
            got = api.update_session.sync(session="desk-1", client=client, body=models.CandleRequest.from_dict({"candle": records[j]}))
            assert isinstance(got, models.Prediction), got
            assert abs(got.buy_prob - stream.update(history.iloc[[j]])["buy_prob"]) < 1e-5 and got.timestamp == history.index[j].isoformat()
        whole = api.predict.sync(client=client, body=models.PredictRequest.from_dict({"candles": records[-R:]}))
        assert isinstance(whole, models.Prediction) and whole.direction.value in ("DOWN", "UP", "NEUTRAL"), whole
        late = api.update_session.sync_detailed(session="desk-1", client=client, body=models.CandleRequest.from_dict({"candle": records[R]}))
        assert late.status_code == 422 and isinstance(late.parsed, models.ErrorBody), late
        assert "older than the last candle" in late.parsed.detail and late.parsed.request_id == late.headers["x-request-id"], late.parsed
        bad = [*records[:R]]
        bad[7] = {**bad[7], "high": bad[7]["low"] / 2}
        refused = api.open_session.sync_detailed(session="desk-2", client=client, body=models.PredictRequest.from_dict({"candles": bad}))
        assert refused.status_code == 422 and [(e.loc, e.msg) for e in refused.parsed.errors] == [(["candles", 7, "high"], "below max(open, close)")], refused
        closed = api.close_session.sync(session="desk-1", client=client)
        assert isinstance(closed, models.SessionClosed) and closed.closed, closed
        gone = api.close_session.sync_detailed(session="desk-1", client=client)
        assert gone.status_code == 404 and isinstance(gone.parsed, models.ErrorBody) and gone.parsed.errors == [], gone
    with nc.Client(f"http://127.0.0.1:{server.port}") as keyless:                                       # no key: a 401 in the same model
        denied = api.predict.sync_detailed(client=keyless, body=models.PredictRequest.from_dict({"candles": records[-R:]}))
        assert denied.status_code == 401 and "X-API-Key" in denied.parsed.detail, denied
    assert json.loads(spec.read_text())["components"]["schemas"]["PredictRequest"]["properties"]["candles"]["minItems"] == R
