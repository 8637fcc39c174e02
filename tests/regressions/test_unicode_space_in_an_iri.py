"""A source IRI with a Unicode space (here U+00A0) was accepted and stored, but rdflib's
N-Triples parser refuses it, so the entry could not be read back through N-Triples.
Found by the fuzz tests of the write path; now refused at the door with the field named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rdflib import Graph

ENTRY = json.loads((Path(__file__).parent.parent / "data" / "valid-entries" / "minimal.json").read_text())


@pytest.mark.parametrize("space", ["\u00a0", "\u2003", "\u3000"])
def test_a_source_with_a_unicode_space_is_refused(
    client: TestClient, auth: dict[str, str], space: str
) -> None:
    entry = {**ENTRY, "sources": [f"https://example.org/paper{space}2024"]}
    answer = client.post("/models", json=entry, headers=auth)
    assert answer.status_code == 422, answer.text
    assert "source" in answer.text.lower()
    assert client.get(f"/models/{ENTRY['id']}").status_code == 404


def test_a_plain_source_still_reads_back_as_n_triples(client: TestClient, auth: dict[str, str]) -> None:
    assert client.post("/models", json=ENTRY, headers=auth).status_code == 201
    text = client.get(f"/models/{ENTRY['id']}", headers={"Accept": "application/n-triples"}).text
    assert len(Graph().parse(data=text, format="nt")) > 0
