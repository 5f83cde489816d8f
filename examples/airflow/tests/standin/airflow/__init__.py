"""STAND-IN for Apache Airflow (tests only; NOT Airflow): see ``airflow._standin``."""

from airflow._standin import DAG

__all__ = ["DAG"]
