"""STAND-IN for ``airflow.providers.amazon`` (tests only; NOT Airflow)."""
