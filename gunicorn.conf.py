"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py "coordinator:create_app()"`."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, multiprocessing.cpu_count())))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
worker_class = "gthread"
# PDFs render on the worker, not here, so a request never needs long; recycle workers now and then anyway.
timeout = 60
graceful_timeout = 30
max_requests = 2000
max_requests_jitter = 200
# The app is built in each worker after the fork, so no database connection is shared across processes.
preload_app = False
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
