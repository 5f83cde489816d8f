"""STAND-IN for ``airflow.models`` (tests only; NOT Airflow): see ``airflow._standin``."""

from airflow._standin import DAG, BaseOperator, MappedOperator

__all__ = ["DAG", "BaseOperator", "MappedOperator"]
