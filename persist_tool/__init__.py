"""persist-tool: generate typed entity modules, migrations and compat checks."""

__version__ = "0.1.0"
