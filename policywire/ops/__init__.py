"""The service as its operator's tools see it: what systemd is told (systemd.py), the chat
clients kept running (supervise.py), /healthz and /metrics (http.py, metrics.py), JSON log
lines (jsonlog.py)."""
