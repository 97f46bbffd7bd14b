"""Audit events: actions are named ``<area>.<verb>`` by the service that records them
(AuditLog.record checks the shape); outcomes are one of OUTCOMES."""

from __future__ import annotations

OUTCOMES = ("ok", "denied", "failed")
