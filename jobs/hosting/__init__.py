"""Serving models: the worker's side of endpoints (starting, checking, replacing and draining
serving containers) and what the invocation router reads to reach them."""
