"""Serve trytond's WSGI app on 127.0.0.1:PORT, one request at a time.

Runs INSIDE the Tryton venv: server.py executes it as
`<tryton python> serve_script.py CONFIG_FILE PORT DATABASE...`.

Why not the stock `trytond` command: it always serves multi-threaded, and concurrent writers
on SQLite fail ("code must be unique": 58 of 100 parallel party creates, measured). A
single-threaded server queues requests instead. It loads each database's pool before
listening, like `trytond -d ...`; that also avoids trytond 8.2.1's failing first login to a
database not loaded at start, and means "port answers" implies "ready".
"""

import logging
import os
import signal
import sys

from trytond import config


def serve(config_file: str, port: int, databases: list[str]) -> None:
    config.update_etc(config_file)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # Imported after the configuration is loaded, as trytond's own launcher does.
    from trytond.pool import Pool
    from trytond.wsgi import app
    from werkzeug.serving import make_server

    Pool.start()
    for database in databases:
        Pool(database).init()
    server = make_server("127.0.0.1", port, app, threaded=False)
    # On SIGTERM (stop_server) exit at once: skipping interpreter teardown saves ~0.9 s per
    # restart, and SQLite makes it safe (committed work is in the WAL; a request in flight
    # is rolled back, as after a crash).
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    logging.getLogger("concord").info("serving %s on 127.0.0.1:%d", databases, port)
    server.serve_forever()


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
