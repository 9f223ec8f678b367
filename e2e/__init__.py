"""End-to-end suites generated from testing_data/ (see tools/generate_e2e.py)."""
