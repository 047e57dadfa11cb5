"""localstripe (PyPI ``localstack-localstripe``), a third-party Stripe emulator, for the e2e tests.

Its own ``python -m localstripe`` listens on every interface (``::``) and keeps its store in
``/tmp/localstripe.pickle``; this starts the same aiohttp app on 127.0.0.1 only, its store in memory:

    python -m tests.support.localstripe_server --port 8420
"""

from __future__ import annotations

import argparse

from aiohttp import web
from localstripe import resources, server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    resources.Store.dump_to_disk = lambda self: None  # type: ignore[method-assign]  # nothing on disk
    web.run_app(server.app, host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
