"""Shared pieces of the musicpipe DAGs: how the stage Lambda is invoked and how its results read.

Lives beside the DAG files in the DAGs folder, which Airflow (and MWAA) puts on ``sys.path``;
``.airflowignore`` keeps the scheduler from looking for DAGs in it.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

#: The stage Lambda's name (or ARN, or ``name:alias``), from the Airflow Variable
#: ``musicpipe_stage_function``; rendered when each task runs, so parsing the DAG never reads
#: the metadata database.
STAGE_FUNCTION = "{{ var.value.get('musicpipe_stage_function', 'musicpipe-stage') }}"

#: The Airflow connection of the AWS credentials (on MWAA: the execution role).
AWS_CONN_ID = "aws_default"

#: botocore settings of the Lambda client. A stage may run for Lambda's maximum of 15 minutes:
#: botocore's default read timeout (60 s) would give up on it and invoke again, so wait longer,
#: with TCP keep-alive so that NAT gateways do not drop the idle connection (350 s).
LAMBDA_CLIENT_CONFIG: dict[str, Any] = {
    "connect_timeout": 10,
    "read_timeout": 910,
    "tcp_keepalive": True,
    "retries": {"mode": "standard", "max_attempts": 3},
}

#: Every task: 15 retries, starting 1 minute apart and doubling (capped at 30 minutes). Every
#: stage is idempotent, so a retry after any failure finishes the work without double counting.
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "musicpipe",
    "depends_on_past": False,
    "retries": 15,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
}


def stage_result(value: Any) -> dict[str, Any]:
    """The stage Lambda's result as a dict, whether the operator pushed it as the JSON string
    (``deserialize_payload=False``, the default), bytes, or an already decoded dict."""
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("utf-8")
    if isinstance(value, str):
        value = json.loads(value) if value.strip() else {}
    return value if isinstance(value, dict) else {}


def stage_event(stage: str, bucket: str, run_id: str | None, **fields: Any) -> str:
    """The stage Lambda's event as the JSON payload of one invocation."""
    event: dict[str, Any] = {"stage": stage, "bucket": bucket, **fields}
    if run_id:
        event["runId"] = run_id
    return json.dumps(event, ensure_ascii=False, sort_keys=True)
