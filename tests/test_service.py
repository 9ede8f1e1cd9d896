"""The prediction service over HTTP on loopback: same answers, keys and bills, clear refusals that cost nothing."""

import http.client
import json
import socket
import threading
import time

import numpy as np
import pytest

import kit
from kit import service
from kit.attacks import equation_solving, path_finding, retraining
from kit.widgets import ATTACKS

LIMITS = {"max_rows": 100, "max_body_bytes": 256 * 1024, "read_timeout": 1.0}


@pytest.fixture(scope="module")
def trained(moons):
    return {"logreg": kit.train_target(moons, "logreg"), "tree": kit.train_target(moons, "tree", max_depth=4),
            "poly-svm": kit.train_target(moons, "poly-svm")}


@pytest.fixture(scope="module")
def running(moons, trained):
    models = {
        "moons": kit.PredictionAPI(trained["logreg"], moons.features, price_per_query=0.001),
        "moons-labels": kit.PredictionAPI(trained["logreg"], moons.features, output="label"),
        "moons-tree": kit.PredictionAPI(trained["tree"], moons.features, output="leaf"),
        "moons-poly": kit.PredictionAPI(trained["poly-svm"], moons.features, output="label"),
    }
    with service.start(models, **LIMITS) as started:
        yield started


@pytest.fixture
def key(running, request):
    return running.create_key(request.node.name, budget=50)


@pytest.fixture
def remote(running, key):
    client = kit.RemoteAPI(running.url, key, model="moons")
    yield client
    client.close()


def raw(running, method, path, body=None, headers=None, key=None):
    """One request as an attacker's own code would send it; returns (status, headers, body bytes)."""
    host, port = running.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(method, path, body=body, headers={**({"X-API-Key": key} if key else {}), **(headers or {})})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        connection.close()


def nothing_charged(running, key):
    return running.ledger.usage(key).queries_used == 0 and running.ledger.charges(key) == []


# --- the same face as PredictionAPI ---------------------------------------------------------------------------------

def test_remote_answers_like_the_local_api(remote, moons, trained, running, key):
    local = kit.PredictionAPI(trained["logreg"], moons.features, price_per_query=0.001)
    assert remote.features == local.features and remote.classes == local.classes
    answer = remote.query(moons.X_test[:5])
    assert np.array_equal(answer.labels, local.query(moons.X_test[:5]).labels)
    assert np.allclose(answer.proba, trained["logreg"].predict_proba(moons.X_test[:5]))
    assert remote.queries_used == len(remote.log) == 5 and remote.cost == pytest.approx(local.cost)
    assert remote.budget == 50 and remote.remaining == 45
    assert running.ledger.usage(key).cost == pytest.approx(0.005)
    assert running.ledger.charges(key) == [("moons", 5, 0.005)]


def test_budget_refusal_crosses_the_wire_and_counts_nothing(remote, moons, running, key):
    remote.query(moons.X_test[:48])
    with pytest.raises(kit.BudgetExceeded, match="query budget of 50 exceeded: 48 used, this batch asks 3 more"):
        remote.query(moons.X_test[:3])
    assert remote.queries_used == running.ledger.usage(key).queries_used == 48


def test_an_empty_batch_is_the_same_error_in_process_and_over_http(remote, moons, trained, running, key):
    local = kit.PredictionAPI(trained["logreg"], moons.features)
    for api in (local, remote):
        with pytest.raises(ValueError, match="a query needs at least one row; got an empty batch"):
            api.query(np.empty((0, 2)))
    status, _, body = raw(running, "POST", "/models/moons/batchprediction", b'{"rows": []}',
                          {"Content-Type": "application/json"}, key)
    assert status == 400 and "at least 1 item" in json.loads(body)["error"]
    assert nothing_charged(running, key)


def test_tree_node_ids_and_incomplete_queries_over_http(running, key, moons, trained):
    remote = kit.RemoteAPI(running.url, key, model="moons-tree")
    rows = [[0.2, np.nan], [np.nan, 0.3], [0.1, 0.4]]
    local = kit.PredictionAPI(trained["tree"], moons.features, output="leaf").query(rows)
    assert remote.accepts_incomplete and remote.query(rows).nodes.tolist() == local.nodes.tolist()
    remote.close()


def test_single_row_endpoint(running, key):
    status, _, body = raw(running, "POST", "/models/moons/prediction", b'{"row": [0.1, 0.2]}',
                          {"Content-Type": "application/json"}, key)
    reply = json.loads(body)
    assert status == 200 and reply["label"] in (0, 1) and len(reply["proba"]) == 2 and reply["queries_used"] == 1


def test_a_service_of_several_models_needs_a_name(running, key):
    with pytest.raises(ValueError, match="serves 4 models .* pick one with model="):
        kit.RemoteAPI(running.url, key)
    with pytest.raises(ValueError, match="no model 'nope'"):
        kit.RemoteAPI(running.url, key, model="nope")


def test_keys_are_needed_and_usage_shows_only_ones_own(running, moons):
    alice, bob = running.create_key("alice"), running.create_key("bob", budget=7)
    remote = kit.RemoteAPI(running.url, alice, model="moons")
    remote.query(moons.X_test[:3])
    assert kit.RemoteAPI(running.url, bob, model="moons").usage() == {
        "name": "bob", "budget": 7, "queries_used": 0, "cost": 0.0, "remaining": 7}
    assert remote.usage()["queries_used"] == 3
    with pytest.raises(PermissionError, match="unknown API key"):
        kit.RemoteAPI(running.url, "guessed", model="moons")
    status, _, body = raw(running, "GET", "/usage")
    assert status == 401 and "X-API-Key" in json.loads(body)["error"]
    remote.close()


def test_an_unreachable_service_is_one_clear_error():
    with socket.socket() as sock:  # a port that was free a moment ago, and is closed now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(service.ServiceUnreachable, match=f"no answer from the prediction service at .*:{port}"):
        kit.RemoteAPI(f"http://127.0.0.1:{port}", "key")


# --- attacks end to end over HTTP -------------------------------------------------------------------------------

def test_equation_solving_over_http(running, moons, trained):
    remote = kit.RemoteAPI(running.url, running.create_key("equations"), model="moons")
    stolen = equation_solving(remote, model="logreg")
    assert stolen.queries == remote.queries_used == 3 and stolen.cost == pytest.approx(0.003)
    assert kit.agreement(trained["logreg"], stolen.model, moons, n_uniform=2000).tv_uniform < 1e-9
    remote.close()


def test_path_finding_over_http(running, moons, trained):
    remote = kit.RemoteAPI(running.url, running.create_key("paths"), model="moons-tree")
    stolen = path_finding(remote, method="top-down", epsilon=1e-3)
    assert stolen.info["complete"] and stolen.queries == running.ledger.usage(remote.key).queries_used
    assert kit.agreement(trained["tree"], stolen.model, moons, n_uniform=2000).uniform > 0.99
    remote.close()


def test_a_labels_only_attack_over_http(running, moons, trained):
    remote = kit.RemoteAPI(running.url, running.create_key("labels"), model="moons-labels")
    assert remote.output == "label"
    stolen = retraining(remote, strategy="line-search", model="logreg", budget=100)
    assert stolen.queries == 100 == running.ledger.usage(remote.key).queries_used
    assert kit.agreement(trained["logreg"], stolen.model, moons, n_uniform=2000).uniform > 0.97
    remote.close()


@pytest.mark.parametrize("name", list(ATTACKS))
def test_every_attack_of_the_panel_runs_unchanged_over_http(running, name):
    choice = ATTACKS[name]
    kind = {"leaf": "tree"}.get(choice.output, "poly-svm" if "polynomial" in name else "logreg")
    model = {"tree": "moons-tree", "poly-svm": "moons-poly"}.get(kind, "moons")
    remote = kit.RemoteAPI(running.url, running.create_key(f"panel {name}"), model=model)
    stolen = choice.run(remote, kind, choice.budgets[2], 0)
    assert 0 < stolen.queries == remote.queries_used == running.ledger.usage(remote.key).queries_used
    remote.close()


# --- malformed requests: a 4xx JSON line each, nothing counted -----------------------------------------------------

JSON = {"Content-Type": "application/json"}
BATCH = "/models/moons/batchprediction"
MALFORMED = {
    "integer of 400 digits": ("POST", BATCH, b'{"rows": [[' + b"9" * 400 + b", 0]]}", JSON, 400, "finite number"),
    "integer of 5,000 digits": ("POST", BATCH, b'{"rows": [[' + b"9" * 5000 + b", 0]]}", JSON, 400, "out of range"),
    "arrays nested 100,000 deep": ("POST", BATCH, b'{"rows": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", JSON, 400,
                                   "recursion limit"),
    "invalid UTF-8": ("POST", BATCH, b'{"rows": [[\xff\xfe, 0]]}', JSON, 400, "Invalid JSON"),
    "text/plain body": ("POST", BATCH, b'{"rows": [[0.1, 0.2]]}', {"Content-Type": "text/plain"}, 415,
                        "Content-Type: application/json"),
    "no content type": ("POST", BATCH, b'{"rows": [[0.1, 0.2]]}', {}, 415, "application/json"),
    "numeric string": ("POST", BATCH, b'{"rows": [["0.5", 0.1]]}', JSON, 400, "rows[0][0]: Input should be a valid"),
    "boolean": ("POST", BATCH, b'{"rows": [[true, 0.1]]}', JSON, 400, "rows[0][0]: Input should be a valid number"),
    "empty batch": ("POST", BATCH, b'{"rows": []}', JSON, 400, "at least 1 item"),
    "HEAD": ("HEAD", BATCH, None, {}, 405, None),
    "PUT": ("PUT", BATCH, b'{"rows": [[0.1, 0.2]]}', JSON, 405, "PUT is not allowed on"),
    "DELETE": ("DELETE", BATCH, None, {}, 405, "use POST"),
    "too wide": ("POST", BATCH, b'{"rows": [[0.1, 0.2, 0.3]]}', JSON, 400, "expected 2 features per row, got 3"),
    "rows of different widths": ("POST", BATCH, b'{"rows": [[0.1, 0.2], [0.3]]}', JSON, 400, "rows of equal length"),
    "NaN": ("POST", BATCH, b'{"rows": [[NaN, 0.1]]}', JSON, 400, "finite number"),
    "Infinity": ("POST", BATCH, b'{"rows": [[Infinity, 0.1]]}', JSON, 400, "finite number"),
    "missing value where none is allowed": ("POST", BATCH, b'{"rows": [[null, 0.1]]}', JSON, 400, "missing value"),
    "out of range": ("POST", BATCH, b'{"rows": [[0.1, 7.5]]}', JSON, 400, "'x2' is 7.5, outside its range [-1, 1]"),
    "not JSON": ("POST", BATCH, b"{rows: 1", JSON, 400, "Invalid JSON"),
    "not an object": ("POST", BATCH, b"[[0.1, 0.2]]", JSON, 400, "expected {"),
    "an unknown field": ("POST", BATCH, b'{"rows": [[0.1, 0.2]], "free": true}', JSON, 400, "free: Extra inputs"),
    "too many rows": ("POST", BATCH, json.dumps({"rows": [[0.1, 0.2]] * 101}).encode(), JSON, 413,
                      "101 rows in one request; the most is 100"),
    "too large a body": ("POST", BATCH, b'{"rows": [[0.1, 0.2' + b" " * 300_000 + b"]]}", JSON, 413,
                         "over 262144 bytes"),
    "an unknown model": ("POST", "/models/secret/batchprediction", b'{"rows": [[0.1, 0.2]]}', JSON, 404,
                         "no model 'secret'"),
    "an unknown endpoint": ("GET", "/admin", None, {}, 404, "Not Found"),
    "another Host (DNS rebinding)": ("POST", BATCH, b'{"rows": [[0.1, 0.2]]}', {**JSON, "Host": "attacker.example"},
                                     403, "answers to 127.0.0.1"),
    "another site's page (Origin)": ("POST", BATCH, b'{"rows": [[0.1, 0.2]]}',
                                     {**JSON, "Origin": "https://attacker.example"}, 403, "other sites' pages"),
    "an Origin of null": ("POST", BATCH, b'{"rows": [[0.1, 0.2]]}', {**JSON, "Origin": "null"}, 403, "other sites"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_requests_get_a_json_line_and_cost_nothing(running, key, case):
    method, path, body, headers, expected_status, message = MALFORMED[case]
    status, content_type, reply = raw(running, method, path, body, headers, key)
    assert status == expected_status and content_type == "application/json"
    if method != "HEAD":  # a HEAD answer has no body
        assert reply.count(b"\n") == 0 and message in json.loads(reply)["error"]
    assert nothing_charged(running, key)


def test_a_body_that_comes_too_slowly_is_refused(running, key):
    host, port = running.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"POST {BATCH} HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {key}\r\n"
                     "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"rows\"".encode())
        reply = http.client.HTTPResponse(sock)
        reply.begin()
        assert reply.status == 408 and "took more than 1 s to arrive" in json.loads(reply.read())["error"]
    assert nothing_charged(running, key)


def test_the_client_refuses_what_the_service_would(remote, running, key):
    for rows, message in [([[0.1, 0.2, 0.3]], "expected 2 features"), ([["0.5", 0.1]], "queries must be numbers"),
                          ([[0.1, 7.5]], "outside its range")]:
        with pytest.raises(ValueError, match=message):
            remote.query(rows)
    assert remote.queries_used == 0 and nothing_charged(running, key)


# --- the out-of-range policy -----------------------------------------------------------------------------------

@pytest.mark.parametrize("policy, expected", [("clip", [[0.1, 1.0]]), ("answer", [[0.1, 7.5]])])
def test_out_of_range_policies(moons, trained, policy, expected):
    api = kit.PredictionAPI(trained["logreg"], moons.features)
    with service.start(api, out_of_range=policy) as started:
        remote = kit.RemoteAPI(started.url, started.create_key("policy"))
        assert np.allclose(remote.query([[0.1, 7.5]]).proba, trained["logreg"].predict_proba(expected))
        remote.close()


def test_a_query_monitor_refuses_a_flagged_key_for_nothing_and_serves_the_others(moons, trained):
    monitor = kit.defenses.QueryMonitor(min_queries=10)
    api = kit.PredictionAPI(trained["logreg"], moons.features, price_per_query=0.1, defenses=[monitor])
    with service.start(api) as started:
        mallory = kit.RemoteAPI(started.url, started.create_key("mallory"))
        alice = kit.RemoteAPI(started.url, started.create_key("alice"))
        mallory.query(np.column_stack([np.linspace(-1, 1, 8), np.zeros(8)]))
        with pytest.raises(kit.QueryRefused, match="client 'mallory' was flagged"):  # a line of near-twins
            mallory.query(np.column_stack([0.3 + 1e-6 * np.arange(8), np.zeros(8)]))
        with pytest.raises(kit.QueryRefused):
            mallory.query(moons.X_test[:3])
        assert mallory.usage()["queries_used"] == 8 and mallory.usage()["cost"] == pytest.approx(0.8)
        alice.query(moons.X_test[:3])
        assert alice.usage()["queries_used"] == 3 and "mallory" in monitor.flagged
        mallory.close()
        alice.close()


# --- the ledger survives a restart -----------------------------------------------------------------------------

def test_a_restart_keeps_the_ledger(tmp_path, moons, trained):
    api = kit.PredictionAPI(trained["logreg"], moons.features, price_per_query=0.5)
    path = tmp_path / "ledger.sqlite"
    with service.start(api, ledger=path) as first:
        key = first.create_key("ten", budget=10)
        remote = kit.RemoteAPI(first.url, key)
        for row in moons.X_test[:10]:
            remote.query(row)
        remote.close()
    with service.start(api, ledger=path) as second:
        remote = kit.RemoteAPI(second.url, key)
        assert remote.usage() == {"name": "ten", "budget": 10, "queries_used": 10, "cost": 5.0, "remaining": 0}
        with pytest.raises(kit.BudgetExceeded, match="query budget of 10 exceeded: 10 used"):
            remote.query(moons.X_test[10])
        remote.close()


# --- load on loopback -----------------------------------------------------------------------------------------

def _in_threads(n, work):
    errors = []

    def run(i):
        try:
            work(i)
        except Exception as error:  # re-raised by the test below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors[0]


def test_eight_clients_of_five_hundred_queries_are_all_counted_and_billed(running, moons):
    keys = [running.create_key(f"load {i}") for i in range(8)]
    clients = [kit.RemoteAPI(running.url, key, model="moons") for key in keys]
    _in_threads(8, lambda i: [clients[i].query(row) for row in moons.X_test[:500]])
    for client in clients:
        usage = running.ledger.usage(client.key)
        assert client.queries_used == len(client.log) == usage.queries_used == 500
        assert usage.cost == pytest.approx(0.5) and len(running.ledger.charges(client.key)) == 500
        client.close()


def test_sixteen_clients_racing_at_the_budget_never_overshoot(running, moons):
    key = running.create_key("race", budget=1000)
    clients = [kit.RemoteAPI(running.url, key, model="moons") for _ in range(16)]

    def race(i):
        rng, size = np.random.default_rng(i), 5
        while size:
            try:
                clients[i].query(moons.X_test[: rng.integers(1, size + 1)])
            except kit.BudgetExceeded:
                size -= 1

    _in_threads(16, race)
    usage = running.ledger.usage(key)
    assert sum(client.queries_used for client in clients) == sum(len(client.log) for client in clients) == 1000
    assert usage.queries_used == 1000 == sum(rows for _, rows, _ in running.ledger.charges(key))
    assert usage.cost == pytest.approx(1.0) and usage.remaining == 0
    for client in clients:
        client.close()


def test_throughput_of_one_client(running, moons, report):
    remote = kit.RemoteAPI(running.url, running.create_key("throughput"), model="moons")
    for rows, label in [(moons.X_test[:1], "single rows"), (moons.X_test[:100], "batches of 100")]:
        answered, start = 0, time.perf_counter()
        while time.perf_counter() - start < 1.0:
            answered += len(remote.query(rows))
        rate = answered / (time.perf_counter() - start)
        report(f"prediction service, one client, {label}: {rate:,.0f} queries/s")
        assert rate > 0
    remote.close()


# --- the command line -------------------------------------------------------------------------------------------

def test_keys_from_the_command_line(tmp_path, capsys):
    from kit.__main__ import main

    ledger = str(tmp_path / "ledger.sqlite")
    assert main(["keys", "create", "alice", "--budget", "5", "--ledger", ledger]) == 0
    key = capsys.readouterr().out.strip()
    assert service.Ledger(ledger).usage(key) == service.Usage("alice", 5, 0, 0.0)
    assert main(["keys", "list", "--ledger", ledger]) == 0
    assert capsys.readouterr().out == "alice: 0 queries of 5, billed $0.0000\n"


@pytest.fixture
def port_in_use():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize("argv, message", [
    (["keys", "create", "x", "--budget", "-3"], "budget must be None (unlimited) or a positive whole number"),
    (["serve", "iris:logreg"], "'logreg' is binary logistic regression"),
    (["serve", "moons:forest"], "expected DATASET:TARGET"),
    (["serve", "adult-income:logreg"], "adult.csv.gz is not in KIT_DATA_DIR"),
    (["serve", "--port", "PORT_IN_USE"], "cannot listen on 127.0.0.1:PORT_IN_USE: Address already in use"),
])
def test_the_command_line_ends_in_one_line_not_a_traceback(argv, message, tmp_path, monkeypatch, capsys, port_in_use):
    from kit.__main__ import main

    monkeypatch.setenv("KIT_DATA_DIR", str(tmp_path))  # holds no data file
    argv = [part.replace("PORT_IN_USE", str(port_in_use)) for part in argv] + ["--ledger", str(tmp_path / "l.sqlite")]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    error = capsys.readouterr().err
    assert exit_.value.code == 2 and "Traceback" not in error
    assert message.replace("PORT_IN_USE", str(port_in_use)) in error.strip().splitlines()[-1]


def test_serving_beyond_loopback_warns():
    with pytest.warns(UserWarning, match="serving on 0.0.0.0, not loopback: other machines may reach"):
        service.bind("0.0.0.0", 0).close()


def test_an_answer_that_fails_in_the_service_is_refunded(moons, trained, monkeypatch):
    api = kit.PredictionAPI(trained["logreg"], moons.features, price_per_query=1.0)

    def fail(X):
        raise MemoryError("the model broke")

    monkeypatch.setattr(api, "answer", fail)
    with service.start(api) as started:
        key = started.create_key("unlucky")
        status, _, _ = raw(started, "POST", "/models/model/batchprediction", b'{"rows": [[0.1, 0.2]]}', JSON, key)
        assert status == 500 and nothing_charged(started, key)
