"""STAND-IN for ``airflow.providers.amazon.aws`` (tests only; NOT Airflow)."""
