"""STAND-IN for ``airflow.providers.amazon.aws.operators.lambda_function`` (tests only; NOT
Airflow or its Amazon provider): see ``airflow._standin``."""

from airflow._standin import LambdaInvokeFunctionOperator

__all__ = ["LambdaInvokeFunctionOperator"]
