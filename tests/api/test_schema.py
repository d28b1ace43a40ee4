"""The schema is the contract: generated without a warning, every operation and parameter
documented in Chinese with examples, every error answer documented; the Swagger UI is served
from the vendored files, with no CDN."""

import re

from django.core.management import call_command
from django.test import Client

from common.api.routers import registry, sync_resources

CJK = re.compile(r"[\u4e00-\u9fff]")


def schema() -> dict:
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_schema_generates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
    assert (tmp_path / "s.yml").read_text().startswith("openapi:")


def test_every_operation_is_documented_in_chinese_with_errors_and_examples():
    doc = schema()
    operations = [
        (path, method, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if path.startswith("/api/v1/")
    ]
    resources = {path.split("/")[3] for path, _method, _op in operations}
    assert resources == set(registry())
    for path, method, op in operations:
        if path.split("/")[3] in sync_resources():
            assert method == "get", (path, method)  # read endpoints only
        assert CJK.search(op["summary"]), path
        assert CJK.search(op["description"]), path
        assert any(CJK.search(tag) for tag in op["tags"]), path
        for parameter in op.get("parameters", []):
            assert CJK.search(parameter.get("description", "")), (path, parameter["name"])
        # Every success answer has examples; a workflow step may answer 202 (accepted), a
        # download a file (a binary of its media type, its description in Chinese).
        successes = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        assert successes, path
        for code, ok in successes.items():
            assert CJK.search(ok["description"]), (path, code)
            if "application/json" in ok["content"]:
                assert ok["content"]["application/json"]["examples"], (path, code)
            else:
                files = ok["content"]
                assert all(t.startswith(("application/", "text/csv")) for t in files), path
                assert all(c["schema"]["format"] == "binary" for c in files.values()), path
        # Every read endpoint can answer each of these; a workflow endpoint documents the ones
        # it answers, at least those of the framework. Each is the one error format.
        required = {"400", "401", "403", "404", "405", "429"}
        if path.split("/")[3] not in sync_resources():
            required = {"401", "403", "405", "429"}
        errors = {code for code in op["responses"] if code.startswith(("4", "5"))}
        assert required <= errors, (path, method, required - errors)
        for code in errors:
            error = op["responses"][code]
            assert CJK.search(error["description"]), (path, code)
            assert error["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            }
        assert {"tokenAuth": []} in op["security"] or [] in op["security"], path
    assert doc["components"]["securitySchemes"]["tokenAuth"]["in"] == "header"


def test_list_endpoints_document_the_filters():
    doc = schema()
    for resource in sync_resources():
        params = {p["name"] for p in doc["paths"][f"/api/v1/{resource}/"]["get"]["parameters"]}
        assert {"cursor", "page_size", "region"} <= params, resource
        if resource != "deletions":
            assert "updated_since" in params, resource
    households = {p["name"] for p in doc["paths"]["/api/v1/households/"]["get"]["parameters"]}
    assert {"status", "household_type", "main_cause", "risk", "reveal", "reason"} <= households
    paged = doc["components"]["schemas"]["PaginatedHouseholdList"]
    assert set(paged["required"]) == {"next", "has_more", "results"}


def test_swagger_ui_is_served_from_vendored_files():
    client = Client()
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("swagger-ui-bundle.js" in a for a in assets), assets
    assert not re.search(r"https?://(?!testserver)", html), "no asset from another host"
    for asset in assets:
        if asset.startswith("/static/"):
            assert client.get(asset).status_code == 200, asset
