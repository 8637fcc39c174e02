"""Importers of real data sets, one module per source; `import_path` runs one by its name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lmkg.errors import InputError

SOURCES = {
    "epoch": "Epoch AI's models database (a CSV file)",
    "ecosystem-graphs": "Stanford CRFM's Ecosystem Graphs (a folder with assets/*.yaml and SOURCE.md)",
}


def import_path(kg: Any, source: str, path: Path, **options: Any) -> Any:
    """Import the data set at `path` with the importer of `source` (a key of SOURCES); the
    report says what became of every row."""
    if source == "epoch":
        from lmkg.importers.epoch import import_epoch_file

        if not path.is_file():
            raise InputError(f"{path}: not a file; 'lmkg import epoch' reads Epoch AI's CSV file")
        return import_epoch_file(kg, path, **options)
    if source == "ecosystem-graphs":
        from lmkg.importers.ecosystem_graphs import import_ecosystem_graphs

        if not path.is_dir():
            raise InputError(
                f"{path}: not a folder; 'lmkg import ecosystem-graphs' reads the folder that holds assets/"
            )
        return import_ecosystem_graphs(kg, path, **options)
    raise InputError(f"unknown source {source!r}; known: {', '.join(SOURCES)}")
