"""STAND-IN for ``airflow.decorators`` (tests only; NOT Airflow): see ``airflow._standin``."""

from airflow._standin import task

__all__ = ["task"]
