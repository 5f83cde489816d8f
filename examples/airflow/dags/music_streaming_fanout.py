"""musicpipe fan-out: many streams files in one run, each listen date loaded once.

For backfills and bulk deliveries. Triggered by hand or by the API with
``conf = {"bucket": "...", "keys": ["data/raw/streams/a.csv", ...]}`` (or a single ``"key"``).
Dynamic task mapping (``.partial()`` / ``.expand()``) runs one stage Lambda invocation per file:

1. ``plan_files``: one ``validate`` event per key;
2. ``validate`` (mapped per file), then ``select_valid`` keeps the files whose result is
   ``SUCCESS`` (a rejected file is already moved to ``data/error/`` and notified);
3. ``transform`` (mapped per valid file): stores each file's KPI partial per listen date;
4. ``plan_dates`` collects the listen dates from the transform results, and ``load_date``
   (mapped per date) merges each date's partials and writes its KPIs ONCE, however many files
   touch it (instead of once per file and date);
5. ``load`` (mapped per file; cheap now: every date is up to date) records each file's KPIs as
   loaded, then ``archive`` (mapped per file) moves it to ``data/archive/``.

The stages are the same ones the single-file DAG runs, with the same idempotency, so files of
one run may also be in flight in other runs. The partial is the unit of distribution
(docs/performance.md, "Byte ranges"): sharding ONE large file by byte ranges is not offered by the stage
Lambda (its stages work on whole files); split such a file into several objects instead.

Same retries and settings as ``music_streaming_pipeline``; see docs/orchestration.md.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Iterable

try:  # Airflow 3
    from airflow.sdk import DAG, task
except ImportError:  # Airflow 2 (MWAA 2.x)
    from airflow import DAG
    from airflow.decorators import task

from airflow.providers.amazon.aws.operators.lambda_function import LambdaInvokeFunctionOperator
from musicpipe_common import (
    AWS_CONN_ID,
    DEFAULT_ARGS,
    LAMBDA_CLIENT_CONFIG,
    STAGE_FUNCTION,
    stage_event,
    stage_result,
)

DAG_ID = "music_streaming_fanout"

#: Mapped invocations of one task running at once (the stage Lambda's reserved concurrency
#: should allow at least this many).
MAX_PARALLEL_INVOCATIONS = 16


def keys_of(conf: dict[str, Any]) -> list[str]:
    """The distinct object keys of the run's conf (``keys`` and/or ``key``), in order."""
    keys = list(conf.get("keys") or [])
    if conf.get("key"):
        keys.append(conf["key"])
    if not all(isinstance(k, str) and k for k in keys):
        raise ValueError("dag_run.conf 'keys' must be a list of non-empty object keys")
    return list(dict.fromkeys(keys))


def file_events(stage: str, conf: dict[str, Any], run_id: str | None) -> list[str]:
    """One ``stage`` event per key of the conf."""
    bucket = conf.get("bucket")
    if not isinstance(bucket, str) or not bucket:
        raise ValueError("dag_run.conf needs a 'bucket'")
    return [stage_event(stage, bucket, run_id, key=key) for key in keys_of(conf)]


def restage(events: Iterable[str], stage: str) -> list[str]:
    """The same file events for another stage."""
    return [json.dumps({**json.loads(e), "stage": stage}, ensure_ascii=False, sort_keys=True) for e in events]


def valid_events(events: Iterable[str], results: Iterable[Any]) -> list[str]:
    """``transform`` events of the files whose ``validate`` result is ``SUCCESS``. Mapped
    results come back in map-index order, the order of ``events``."""
    return restage(
        (e for e, r in zip(events, results, strict=True) if stage_result(r).get("status") == "SUCCESS"),
        "transform",
    )


def date_events(results: Iterable[Any], conf: dict[str, Any], run_id: str | None) -> list[str]:
    """One ``load_date`` event per listen date touched by the transformed files, sorted."""
    dates = sorted({d for r in results for d in stage_result(r).get("listenDates") or []})
    return [stage_event("load_date", conf["bucket"], run_id, listenDate=d) for d in dates]


def invoke_mapped(task_id: str, **kwargs: Any) -> Any:
    """A stage Lambda invocation per element of the list it is expanded over."""
    return LambdaInvokeFunctionOperator.partial(
        task_id=task_id,
        function_name=STAGE_FUNCTION,
        aws_conn_id=AWS_CONN_ID,
        botocore_config=LAMBDA_CLIENT_CONFIG,
        max_active_tis_per_dag=MAX_PARALLEL_INVOCATIONS,
        **kwargs,
    )


@task
def plan_files(dag_run: Any = None, run_id: str | None = None) -> list[str]:
    return file_events("validate", dict(dag_run.conf or {}), run_id)


@task
def select_valid(events: list[str], results: Any) -> list[str]:
    return valid_events(events, list(results))


@task
def plan_dates(results: Any, dag_run: Any = None, run_id: str | None = None) -> list[str]:
    return date_events(list(results), dict(dag_run.conf or {}), run_id)


@task
def plan_stage(events: list[str], stage: str) -> list[str]:
    return restage(events, stage)


with DAG(
    dag_id=DAG_ID,
    description="musicpipe: many streams files, mapped per file, each listen date loaded once",
    default_args=DEFAULT_ARGS,
    schedule=None,
    start_date=datetime(2025, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    tags=["musicpipe"],
    doc_md=__doc__,
) as dag:
    files = plan_files()
    validate = invoke_mapped("validate").expand(payload=files)
    valid = select_valid(files, validate.output)
    transform = invoke_mapped("transform").expand(payload=valid)
    dates = plan_dates(transform.output)
    load_date = invoke_mapped("load_date").expand(payload=dates)
    loaded = plan_stage.override(task_id="plan_load")(valid, "load")
    # Also when no date needed loading (load_date expanded to nothing, so it is skipped).
    load = invoke_mapped("load", trigger_rule="none_failed").expand(payload=loaded)
    archived = plan_stage.override(task_id="plan_archive")(valid, "archive")
    archive = invoke_mapped("archive").expand(payload=archived)

    load_date >> load
    load >> archived
