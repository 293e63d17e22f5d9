"""The service as its operator's tools see it (systemd.py: what the service manager is told)."""
