"""Importers of real data sets, one module per source."""

from __future__ import annotations

SOURCES = ("epoch",)
