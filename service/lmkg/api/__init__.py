"""The HTTP service: an app factory and one router per concern."""

from __future__ import annotations

from lmkg.api.app import create_app

__all__ = ["create_app"]
