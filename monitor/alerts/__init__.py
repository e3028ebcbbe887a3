"""Alerts: deliveries derived from the event log, sent through channels exactly
once from the receiver's view (see dispatcher.py and README.md)."""

from __future__ import annotations

from monitor.alerts.alert import Alert
from monitor.alerts.dispatcher import Dispatcher, DispatchSummary

__all__ = ["Alert", "DispatchSummary", "Dispatcher"]
