"""POST /imports/{source}: import a real data set through the same gate as every write (token needed).

`epoch` takes Epoch AI's CSV as the body; `ecosystem-graphs` takes a zip archive of the data
set's folder (assets/*.yaml, and SOURCE.md for the commit and the licence statement). The
answer is the import's report: every row with its outcome.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from lmkg.api.deps import KGDep, WriteAccess
from lmkg.importers import SOURCES
from lmkg.importers.ecosystem_graphs import import_ecosystem_graphs
from lmkg.importers.epoch import import_epoch
from lmkg.knowledge import KnowledgeGraph

router = APIRouter(tags=["imports"])

MAX_ARCHIVE_MEMBERS = 2_000
MAX_UNPACKED_BYTES = 64 * 1024 * 1024


def _unpack(body: bytes, into: Path) -> None:
    """The folder of an Ecosystem Graphs zip archive, unpacked into `into`: only assets/*.yaml
    and SOURCE.md (wherever the archive roots them), with bounded count and size."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
    except zipfile.BadZipFile as exc:
        raise HTTPException(
            422, "The body is not a zip archive: send the folder with assets/*.yaml, zipped."
        ) from exc
    members = archive.infolist()
    if len(members) > MAX_ARCHIVE_MEMBERS:
        raise HTTPException(
            422, f"The archive holds {len(members)} files; at most {MAX_ARCHIVE_MEMBERS} are read."
        )
    if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        raise HTTPException(422, f"The archive unpacks to more than {MAX_UNPACKED_BYTES} bytes.")
    (into / "assets").mkdir()
    for member in members:
        path = PurePosixPath(member.filename)
        if member.is_dir() or ".." in path.parts:
            continue
        if path.name == "SOURCE.md":
            (into / "SOURCE.md").write_bytes(archive.read(member))
        elif path.suffix == ".yaml" and path.parent.name == "assets":
            (into / "assets" / path.name).write_bytes(archive.read(member))


def _import_archive(kg: KnowledgeGraph, body: bytes) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lmkg-import-") as folder:
        _unpack(body, Path(folder))
        return import_ecosystem_graphs(kg, Path(folder), progress=False).as_json()


@router.post(
    "/imports/{source}",
    response_model=dict[str, Any],
    dependencies=[WriteAccess],
    responses={
        400: {"description": "The file is not what the source's importer reads (what it lacks)."},
        401: {"description": "No 'Authorization: Bearer <token>' header."},
        403: {"description": "A wrong token, or a server without one."},
        404: {"description": "An unknown source."},
        413: {"description": "A body larger than LMKG_MAX_BODY_BYTES."},
        422: {"description": "The body is empty, not UTF-8 (epoch) or not a zip archive (ecosystem-graphs)."},
    },
)
async def import_data_set(source: str, request: Request, kg: KGDep) -> dict[str, Any]:
    """Import a data set (epoch: the CSV; ecosystem-graphs: the folder, zipped); the report as JSON."""
    if source not in SOURCES:
        raise HTTPException(404, f"Unknown source {source!r}; known: {', '.join(SOURCES)}.")
    body = await request.body()
    if not body.strip():
        raise HTTPException(
            422, "The body is empty: send the data set (epoch: the CSV; ecosystem-graphs: a zip)."
        )
    if source == "ecosystem-graphs":
        return await run_in_threadpool(_import_archive, kg, body)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HTTPException(422, f"The CSV is not UTF-8: byte {exc.start} cannot be decoded.") from exc
    report = await run_in_threadpool(import_epoch, kg, text, progress=False)
    return report.as_json()
