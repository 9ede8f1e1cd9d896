"""The API over HTTP: same answers, same counts, clear refusals that cost nothing."""

import http.client
import json
import socket

import numpy as np
import pytest

import kit
from kit import service
from kit.attacks import equation_solving


@pytest.fixture
def served(moons, moons_logreg):
    api = kit.PredictionAPI(moons_logreg, moons.features, budget=50, price_per_query=0.001)
    server = service.serve(api)
    yield api, server
    server.shutdown()
    server.server_close()


def raw_request(server, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection(server.server_address[0], server.server_address[1], timeout=10)
    connection.request(method, path, body=body, headers=headers or {})
    try:
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_remote_answers_like_the_local_api(served, moons, moons_logreg):
    api, server = served
    remote = service.RemoteAPI(server.url)
    assert remote.features == api.features and remote.classes == api.classes
    answer = remote.query(moons.X_test[:5])
    assert np.array_equal(answer.labels, moons_logreg.predict(moons.X_test[:5]))
    assert np.allclose(answer.proba, moons_logreg.predict_proba(moons.X_test[:5]))
    assert remote.queries_used == api.queries_used == len(remote.log) == 5
    assert remote.cost == pytest.approx(api.cost) and remote.remaining == 45


def test_budget_refusal_crosses_the_wire_and_counts_nothing(served, moons):
    api, server = served
    remote = service.RemoteAPI(server.url)
    remote.query(moons.X_test[:48])
    with pytest.raises(kit.BudgetExceeded, match="query budget of 50 exceeded: 48 used"):
        remote.query(moons.X_test[:3])
    assert api.queries_used == remote.queries_used == 48


@pytest.mark.parametrize("body, headers, status, message", [
    (b"{not json", {"Content-Length": "9"}, 400, "not valid JSON"),
    (b"[1, 2]", {"Content-Length": "6"}, 400, 'expected a JSON object {"rows"'),
    (b'{"rows": [[1, 2, 3]]}', {"Content-Length": "21"}, 400, "expected 2 features per row, got 3"),
    (b'{"rows": [[0.1, null]]}', {"Content-Length": "23"}, 400, "missing value"),
    (b'{"rows": [["a", 1]]}', {"Content-Length": "20"}, 400, "queries must be numbers"),
    (b"\xff\xfe", {"Content-Length": "2"}, 400, "not valid JSON"),
    (b"", {}, 400, "not valid JSON"),
    (b"", {"Content-Length": str(service.MAX_BODY_BYTES + 1)}, 413, "send smaller batches"),
])
def test_malformed_requests_get_one_line_and_cost_nothing(served, body, headers, status, message):
    api, server = served
    got_status, reply = raw_request(server, "POST", "/query", body, headers)
    assert got_status == status and message in reply["error"] and "\n" not in reply["error"]
    assert api.queries_used == len(api.log) == 0


def test_a_query_without_length_is_refused(served):
    api, server = served
    with socket.create_connection(server.server_address, timeout=10) as raw:
        raw.sendall(b"POST /query HTTP/1.1\r\nHost: test\r\n\r\n")
        reply = b"".join(iter(lambda: raw.recv(4096), b"")).decode()
    assert reply.startswith("HTTP/1.0 411") and "a query needs a Content-Length header" in reply
    assert api.queries_used == 0


def test_unknown_endpoint(served):
    _, server = served
    assert raw_request(server, "GET", "/model")[0] == 404
    assert raw_request(server, "POST", "/steal", b"{}", {"Content-Length": "2"})[0] == 404


def test_tree_node_ids_and_incomplete_queries_over_http(moons):
    tree = kit.train_target(moons, "tree", max_depth=3)
    for node_ids in ("unique", "bigml"):
        api = kit.PredictionAPI(tree, moons.features, output="leaf", node_ids=node_ids)
        server = service.serve(api)
        try:
            remote = service.RemoteAPI(server.url)
            rows = [[0.2, np.nan], [np.nan, 0.3], [0.1, 0.4]]
            local = kit.PredictionAPI(tree, moons.features, output="leaf", node_ids=node_ids).query(rows)
            assert remote.query(rows).nodes.tolist() == local.nodes.tolist()
        finally:
            server.shutdown()
            server.server_close()


def test_command_line_rejects_bad_settings_in_one_line(capsys):
    from kit.__main__ import main

    with pytest.raises(SystemExit):
        main(["serve", "--budget", "-3"])
    assert "budget must be None (unlimited) or a positive whole number" in capsys.readouterr().err


def test_an_attack_runs_unchanged_against_the_served_api(served, moons, moons_logreg):
    api, server = served
    stolen = equation_solving(service.RemoteAPI(server.url), model="logreg")
    assert stolen.queries == api.queries_used == 3
    assert kit.agreement(moons_logreg, stolen.model, moons, n_uniform=2000).tv_uniform < 1e-9
