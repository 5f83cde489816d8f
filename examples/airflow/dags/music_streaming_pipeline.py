"""musicpipe: one streams file through validate -> short-circuit -> transform -> load -> archive.

Triggered by the S3 trigger Lambda (``examples/lambda-trigger/``) for every new object under
``data/raw/streams/``, with ``conf = {"bucket", "key", "etag", ...}`` and a run id derived from the
bucket, key and etag, so a re-delivered S3 event starts no second run.

Each stage is one synchronous invocation of the stage Lambda (``examples/lambda-stages/``) with
the payload ``{"stage", "bucket", "key", "runId"}``. The Lambda returns a small JSON result
(pushed to XCom) or fails, and then Airflow retries the task: 15 times, 1 minute apart at first,
doubling. A rejected file is a result, not a failure: ``validate`` returns ``"status": "FAILED"``
(the file is already moved to ``data/error/`` and the SNS topic told), and the short-circuit
skips the rest of the run.

Variables: ``musicpipe_stage_function`` (default ``musicpipe-stage``). Connection:
``aws_default``. See docs/orchestration.md.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2 (MWAA 2.x)
    from airflow import DAG

try:  # Airflow 3, or Airflow 2 with apache-airflow-providers-standard
    from airflow.providers.standard.operators.python import ShortCircuitOperator
except ImportError:
    from airflow.operators.python import ShortCircuitOperator

from airflow.providers.amazon.aws.operators.lambda_function import LambdaInvokeFunctionOperator
from musicpipe_common import AWS_CONN_ID, DEFAULT_ARGS, LAMBDA_CLIENT_CONFIG, STAGE_FUNCTION, stage_result

DAG_ID = "music_streaming_pipeline"
STAGES = ("validate", "transform", "load", "archive")


def stage_payload(stage: str) -> str:
    """The stage Lambda's event for ``stage``, as a Jinja template Airflow renders when the task
    runs: the bucket and key from ``dag_run.conf``, the run id. ``tojson`` quotes them as JSON
    strings, so a key with quotes, backslashes or non-ASCII characters stays one valid value."""
    return (
        '{"stage": "' + stage + '", '
        '"bucket": {{ dag_run.conf["bucket"] | tojson }}, '
        '"key": {{ dag_run.conf["key"] | tojson }}, '
        '"runId": {{ run_id | tojson }}}'
    )


def validation_succeeded(ti: Any, **_: Any) -> bool:
    """Short-circuit condition: go on only when ``validate`` said the file is valid."""
    return stage_result(ti.xcom_pull(task_ids="validate")).get("status") == "SUCCESS"


def invoke_stage(stage: str) -> LambdaInvokeFunctionOperator:
    return LambdaInvokeFunctionOperator(
        task_id=stage,
        function_name=STAGE_FUNCTION,
        payload=stage_payload(stage),
        aws_conn_id=AWS_CONN_ID,
        botocore_config=LAMBDA_CLIENT_CONFIG,
    )


with DAG(
    dag_id=DAG_ID,
    description="musicpipe: validate, transform, load and archive one streams file (stage Lambda)",
    default_args=DEFAULT_ARGS,
    schedule=None,
    start_date=datetime(2025, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["musicpipe"],
    doc_md=__doc__,
) as dag:
    validate = invoke_stage("validate")
    short_circuit = ShortCircuitOperator(task_id="short_circuit", python_callable=validation_succeeded)
    transform = invoke_stage("transform")
    load = invoke_stage("load")
    archive = invoke_stage("archive")

    validate >> short_circuit >> transform >> load >> archive
