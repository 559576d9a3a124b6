"""linerisk."""
