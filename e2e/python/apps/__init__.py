"""Generated ferroweb apps, one module per fixture category (tools/generate_e2e.py)."""
