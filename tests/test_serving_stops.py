"Clean stops and deaths of real servers: SIGTERM answers every bridge request in flight; kill -9 of a server leaves no process behind."
import json, os, signal, socket, threading, time
from pathlib import Path
import httpx
from natron.data import synthetic_market
from natron.protocol import candle_records
from natron.serving import launch


def descendants(pid:int) -> set:
    "The processes below `pid`, from /proc."
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try: parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except OSError: pass
    tree, grew = {pid}, True
    while grew:
        new = {p for p, pp in parents.items() if pp in tree} - tree
        tree, grew = tree | new, bool(new)
    return tree - {pid}


def running(pid:int) -> bool:
    "Whether `pid` is a live process (a zombie waiting for a parent to reap it is not)."
    try: return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError: return False


def test_kill_9_of_a_server_leaves_no_worker_after_10_s(model):
    srv = launch("serve", model, "--workers", "1")
    try:
        health = httpx.get(f"http://127.0.0.1:{srv.port}/health", timeout=60).json()
        below = descendants(srv.proc.pid)
        assert set(health["worker_pids"]) | {health["batch_worker_pid"]} <= below, (health, below)
        os.kill(srv.proc.pid, signal.SIGKILL)                          # the server alone, not its process group
        srv.proc.wait(10)
        deadline = time.monotonic() + 10
        while any(map(running, below)) and time.monotonic() < deadline: time.sleep(0.2)
        assert not any(map(running, below)), [p for p in below if running(p)]
    finally: srv.stop(signal.SIGKILL)


def test_sigterm_answers_every_bridge_open_in_flight(model, predictor):
    history = synthetic_market(6000, "SYN_US500", seed=21)[0]
    line = json.dumps({"type": "open", "session": "S", "candles": candle_records(history)}).encode() + b"\n"
    srv = launch("bridge", model, "--workers", "1")
    replies, sent = [None] * 12, threading.Barrier(13)

    def client(i):
        with socket.create_connection(("127.0.0.1", srv.port), timeout=60) as s:
            s.sendall(line.replace(b'"S"', f'"S{i}"'.encode()))
            sent.wait()
            replies[i] = s.makefile("rb").readline()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(12)]
    for t in threads: t.start()
    sent.wait()
    time.sleep(0.2)                                                    # the bridge has read them: they are being scored
    t0 = time.monotonic()
    code = srv.stop(signal.SIGTERM)
    for t in threads: t.join(30)
    answers = [json.loads(r)["type"] if r else None for r in replies]
    assert None not in answers and set(answers) <= {"opened", "error"}, answers
    assert answers.count("opened") >= 1 and code == 0 and time.monotonic() - t0 < 20, (answers, code)
