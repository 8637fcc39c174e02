"""POST /imports/epoch: import Epoch AI's CSV through the same gate as every write (token needed)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from lmkg.api.deps import KGDep, WriteAccess
from lmkg.importers.epoch import import_epoch

router = APIRouter(tags=["imports"])


@router.post(
    "/imports/epoch",
    response_model=dict[str, Any],
    dependencies=[WriteAccess],
    responses={
        400: {"description": "The CSV is not an Epoch AI models file (the columns it lacks)."},
        401: {"description": "No 'Authorization: Bearer <token>' header."},
        403: {"description": "A wrong token, or a server without one."},
        413: {"description": "A body larger than LMKG_MAX_BODY_BYTES."},
        422: {"description": "The body is empty or not UTF-8."},
    },
)
async def import_epoch_csv(request: Request, kg: KGDep) -> dict[str, Any]:
    """Import the language-model rows of an Epoch AI CSV (the request body); the report as JSON."""
    body = await request.body()
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HTTPException(422, f"The CSV is not UTF-8: byte {exc.start} cannot be decoded.") from exc
    if not text.strip():
        raise HTTPException(422, "The body is empty: send the CSV file (text/csv).")
    report = await run_in_threadpool(import_epoch, kg, text, progress=False)
    return report.as_json()
