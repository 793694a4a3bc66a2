"""Interactive fine-tuning labs: pure Python + numpy, run by CPython at build time and Pyodide in the browser."""

__version__ = "0.1.0"
