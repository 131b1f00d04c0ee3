"""Datasets' files: receiving an upload and inspecting what a CSV or Parquet file holds. The
services that create and delete datasets are `jobs.services.datasets`."""
