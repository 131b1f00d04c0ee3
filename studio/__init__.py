"""Studio: a self-hosted ML platform in the shape of SageMaker Studio."""

from studio.celery import app as celery_app

__all__ = ("celery_app",)
