"""The revisions, oldest first by `down_revision` (a package so that setuptools ships them)."""
