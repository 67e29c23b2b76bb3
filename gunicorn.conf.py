"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py "coordinator:create_app()"`."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, multiprocessing.cpu_count())))
# Each worker keeps its share of the cores for render processes (coordinator.jobs.render_processes).
os.environ["WEB_CONCURRENCY"] = str(workers)
# "Download PDF" waits in its thread while the leaflet renders in a render process, holding no database
# connection. On a campaign launch hundreds can be waiting at once; with few threads they would take every
# thread and the pages would queue behind them. 256 kept every page under 300 ms (p95) with 600 coordinators
# in a minute on 2 cores (bench/load.py); a waiting thread costs about 1 MB.
threads = int(os.environ.get("GUNICORN_THREADS", "256"))
worker_class = "gthread"
timeout = 60
# A worker being recycled lets the downloads still waiting for their render finish first.
graceful_timeout = 120
max_requests = 2000
max_requests_jitter = 200
# The app is built in each worker after the fork, so no database connection is shared across processes.
preload_app = False
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
