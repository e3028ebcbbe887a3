"""Benchmarks: govkz-monitor against urlwatch on a local noisy site (`make bench`)."""
