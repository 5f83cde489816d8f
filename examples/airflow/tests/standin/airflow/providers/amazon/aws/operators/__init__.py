"""STAND-IN for ``airflow.providers.amazon.aws.operators`` (tests only; NOT Airflow)."""
