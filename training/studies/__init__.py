"""Studies: scripts with a main() that produce the numbers in docs/ (python -m training.studies.<name>)."""
