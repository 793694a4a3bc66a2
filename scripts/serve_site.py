"""Serve a built site on 127.0.0.1 with correct MIME types, optionally under a strict CSP.

Why: tests and the benchmark need a static host that behaves like production (`.wasm` as
application/wasm, `.mjs` as JavaScript) and can add the Content-Security-Policy header.
Usage: python scripts/serve_site.py [--dir site] [--port 8000] [--csp]
"""

from __future__ import annotations

import argparse
import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

# Inline style *attributes* stay allowed because KaTeX sizes its stretchy delimiters (e.g. a brace around a
# fraction) with them; inline <style> elements are not.
STRICT_CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; "
              "style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
              "connect-src 'self'")
TYPES = {".wasm": "application/wasm", ".mjs": "text/javascript", ".js": "text/javascript",
         ".whl": "application/zip", ".json": "application/json", ".py": "text/plain; charset=utf-8"}


class Handler(SimpleHTTPRequestHandler):
    """Static files with production MIME types; quiet logs."""

    extensions_map: ClassVar[dict] = {**SimpleHTTPRequestHandler.extensions_map, **TYPES}
    csp: str | None = None

    def end_headers(self):
        if self.csp:
            self.send_header("Content-Security-Policy", self.csp)
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format, *args):
        pass


def start(directory: Path, port: int = 0, csp: str | None = None, handler: type[Handler] = Handler) -> ThreadingHTTPServer:
    """Start serving in a daemon thread (`handler` may be a subclass of Handler); `server.server_address[1]` is the port."""
    handler = type("H", (handler,), {"csp": csp})
    server = ThreadingHTTPServer(("127.0.0.1", port), functools.partial(handler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path("site"))
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--csp", action="store_true", help="send the strict Content-Security-Policy")
    args = parser.parse_args()
    server = start(args.dir, args.port, STRICT_CSP if args.csp else None)
    print(f"serving {args.dir} on http://127.0.0.1:{server.server_address[1]}/")
    threading.Event().wait()


if __name__ == "__main__":
    main()
