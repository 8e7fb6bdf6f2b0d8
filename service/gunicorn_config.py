"""gunicorn settings for the service: ``gunicorn -c python:placecode.service.gunicorn_config``.

No access log (it would hold client addresses, user agents and request
times) and an error log whose lines carry no address.
"""

accesslog = None
disable_redirect_access_to_syslog = True
errorlog = "-"
loglevel = "info"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
        "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        "placecode": {"level": "INFO", "handlers": ["console"], "propagate": False},
    },
}
