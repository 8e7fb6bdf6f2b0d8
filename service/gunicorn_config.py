"""gunicorn settings for the service: ``gunicorn -c python:placecode.service.gunicorn_config``.

No access log (it would hold client addresses, user agents and request
times) and an error log whose lines carry no address: gunicorn's own
"Invalid request from ip=..." line goes through ``logs.NoAddress``.

gevent workers: a connection that trickles its request costs a greenlet, not
a thread, so a hundred slow clients do not starve the health check or the
uploads of everybody else (the threads of a ``gthread`` worker each wait on
one client). psycopg and SQLAlchemy's pool cooperate with gevent's patched
sockets and locks.
"""

import os

worker_class = "gevent"
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
#: connections one worker holds at once, slow ones included
worker_connections = 1000
#: a worker that does not check in for this long is restarted
timeout = 30
graceful_timeout = 30
#: an idle kept-alive connection is closed after this long; under gevent workers
#: it also bounds how long a request head may take to arrive, so a client that
#: trickles its header fields (slowloris) is hung up on
keepalive = 5
#: a request line and its header fields stay small; bodies are capped by the app
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190

accesslog = None
disable_redirect_access_to_syslog = True
errorlog = "-"
loglevel = "info"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "filters": {"no_address": {"()": "placecode.service.logs.NoAddress"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["no_address"],
        },
    },
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
        "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        "placecode": {"level": "INFO", "handlers": ["console"], "propagate": False},
    },
}
