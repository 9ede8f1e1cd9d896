"""A schema-driven fuzzer (schemathesis) against the service's OpenAPI description.

Every generated request, valid or not, must get an answer (never a dropped connection),
never a 5xx, and an answer that matches the description (status, content type, schema).
Rows the schema allows can still be refused (a wrong width, a value out of range, a spent
budget), so the check that schema-valid data is accepted is left out.
"""

import json
import urllib.request

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

import kit
from kit import service

MOONS = kit.load_dataset("moons")
MODELS = {
    "moons": kit.PredictionAPI(kit.train_target(MOONS, "logreg"), MOONS.features, price_per_query=0.001),
    "moons-tree": kit.PredictionAPI(kit.train_target(MOONS, "tree", max_depth=3), MOONS.features, output="leaf"),
}
LIMITS = {"max_rows": 50, "max_body_bytes": 64 * 1024}
DESCRIPTION = service.create_app(MODELS, service.Ledger(), **LIMITS).openapi()
schema = schemathesis.openapi.from_dict(DESCRIPTION)


@pytest.fixture(scope="module")
def fuzzed():
    with service.start(MODELS, **LIMITS) as started:
        yield started, started.create_key("fuzzer", budget=2000)


def test_the_fuzzed_description_is_the_one_served(fuzzed):
    with urllib.request.urlopen(f"{fuzzed[0].url}/openapi.json", timeout=10) as response:
        assert json.loads(response.read()) == DESCRIPTION


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_5xx_no_dropped_connection_and_answers_match_the_schema(case, fuzzed):
    running, key = fuzzed
    case.call_and_validate(base_url=running.url, headers={"X-API-Key": key}, excluded_checks=[positive_data_acceptance],
                           timeout=10)
