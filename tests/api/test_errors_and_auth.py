"""Errors carry their HTTP status, one handler answers them; the tokens are security
dependencies, so the OpenAPI document says which routes need them."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import lmkg
from lmkg.api import create_app
from lmkg.config import Settings
from lmkg.errors import EntryError, InputError, LmkgError, StoreError
from tests.conftest import TOKEN

# Every module imported, so that every subclass of LmkgError is known (some live beside their use).
for _module in pkgutil.walk_packages(lmkg.__path__, "lmkg."):
    importlib.import_module(_module.name)


def _subclasses(cls: type[LmkgError]) -> list[type[LmkgError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found += _subclasses(sub)
    return found


ERRORS = _subclasses(LmkgError)
SERVER_FAULTS = {"LmkgError", "StoreError", "StoreUnavailableError", "QueryTimeoutError", "StoreBusyError"}
SERVER_FAULTS |= {"ReasoningError", "OwlApiUnavailableError"}


def _raise(cls: type[LmkgError]) -> LmkgError:
    if issubclass(cls, EntryError):
        return cls([("parameterCount", "must be a whole number")])
    return cls(f"what failed: a {cls.__name__}")


@pytest.fixture(scope="module")
def app_and_client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    settings = replace(Settings(), token=TOKEN, store=str(tmp_path_factory.mktemp("errors") / "store"))
    app = create_app(settings)

    for cls in ERRORS:

        def raising(cls: type[LmkgError] = cls) -> None:
            raise _raise(cls)

        app.add_api_route(f"/raise/{cls.__name__}", raising, methods=["GET"])
    with TestClient(app, raise_server_exceptions=False) as client:
        yield app, client


def test_every_error_class_says_its_status() -> None:
    assert LmkgError.status == 500  # raised when nothing more specific applies: a fault of this server
    for cls in ERRORS:
        assert 400 <= cls.status < 600, cls
        if cls.__name__ in SERVER_FAULTS or issubclass(cls, StoreError):
            assert cls.status >= 500, cls
        if issubclass(cls, InputError):
            assert 400 <= cls.status < 500, cls


@pytest.mark.parametrize("cls", ERRORS, ids=lambda c: c.__name__)
def test_one_handler_answers_each_error_with_its_status(app_and_client: Any, cls: type[LmkgError]) -> None:
    _, client = app_and_client
    response = client.get(f"/raise/{cls.__name__}")
    assert response.status_code == cls.status, response.text
    body = response.json()
    assert body["status"] == cls.status
    for header, value in cls.headers.items():
        assert response.headers[header] == value
    if issubclass(cls, EntryError):
        assert body["problems"] == [{"where": "parameterCount", "message": "must be a whole number"}]
        assert body["detail"].startswith("The model entry cannot be read: parameterCount")
    else:
        assert body["detail"] == f"what failed: a {cls.__name__}"


def _security(document: dict[str, Any], path: str, method: str) -> set[str]:
    operation = document["paths"][path][method]
    return {name for requirement in operation.get("security", []) for name in requirement}


def test_openapi_names_the_write_token_on_the_routes_that_write(app_and_client: Any) -> None:
    _, client = app_and_client
    document = client.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["writeToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["writeToken"]["description"],
    }
    assert "LMKG_TOKEN" in schemes["writeToken"]["description"]
    for path, method in [
        ("/models", "post"),
        ("/models/{model_id}", "put"),
        ("/models/{model_id}", "delete"),
        ("/sparql", "post"),  # a SPARQL Update comes by POST
        ("/imports/{source}", "post"),
    ]:
        assert _security(document, path, method) == {"writeToken"}, (path, method)
    for path, method in [
        ("/models", "get"),
        ("/models/{model_id}", "get"),
        ("/sparql", "get"),
        ("/health", "get"),
    ]:
        assert _security(document, path, method) == set(), (path, method)
    assert "readToken" not in schemes  # this server has no read token


def test_with_a_read_token_openapi_names_it_on_the_reads(tmp_path: Path) -> None:
    settings = replace(Settings(), token=TOKEN, read_token="reader", store=str(tmp_path / "store"))
    with TestClient(create_app(settings)) as client:
        document = client.get("/openapi.json").json()
        assert client.get("/models").status_code == 401
        assert client.get("/models", headers={"Authorization": "Bearer reader"}).status_code == 200
    assert _security(document, "/models", "get") == {"readToken"}
    assert _security(document, "/queries", "get") == {"readToken"}
    assert _security(document, "/models", "post") == {"readToken", "writeToken"}
    assert _security(document, "/health", "get") == set()
