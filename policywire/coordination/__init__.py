"""Several workers on one PostgreSQL database: leases, heartbeats, who receives updates."""
