"""govkz-monitor: an evidence-grade watchdog for official documents."""

__version__ = "0.1.0"
