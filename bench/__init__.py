"""policywire's benchmark suite: `python -m bench --quick` (smoke) or `python -m bench` (full)."""
