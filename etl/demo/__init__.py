"""The synthetic demo county: generator, its assumptions and vendored reference data."""
