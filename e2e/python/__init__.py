"""The fixture suite run against ferroweb: generated apps and tests, and their hand-written helpers."""
