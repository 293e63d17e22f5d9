"""The database: the Store (store.py) and everything under it. Imports nothing itself."""
