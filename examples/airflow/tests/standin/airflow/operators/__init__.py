"""STAND-IN for ``airflow.operators`` (tests only; NOT Airflow)."""
