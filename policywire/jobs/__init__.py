"""The service's scheduled jobs, one module per job (composed by policywire/service.py)."""
