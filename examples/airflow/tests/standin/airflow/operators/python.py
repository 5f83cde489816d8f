"""STAND-IN for ``airflow.operators.python`` (tests only; NOT Airflow): see ``airflow._standin``."""

from airflow._standin import PythonOperator, ShortCircuitOperator

__all__ = ["PythonOperator", "ShortCircuitOperator"]
