"""Workloads that run containers (processing, training, hosting) arrive with later issues."""
