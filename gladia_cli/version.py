"""The package's version, read by the build (pyproject's dynamic version), the User-Agent header and `--version`."""

__version__ = "0.1.0"
