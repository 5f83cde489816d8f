"""STAND-IN for ``airflow.providers`` (tests only; NOT Airflow)."""
