"""Reading and writing layer files."""
