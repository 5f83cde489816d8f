"""Checks the musicpipe DAG files without Airflow: they compile, and imported against the
Airflow STAND-IN in ``standin/`` (not Airflow: it only records the task graph) they declare the
expected tasks, dependencies, retries, payload templates and mapping.

Run: ``python3 -m unittest discover -s examples/airflow/tests -v`` (vitest runs it too:
``dag.test.ts``).
"""

from __future__ import annotations

import importlib
import json
import py_compile
import sys
import tempfile
import unittest
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent
DAGS = HERE.parent / "dags"
sys.path[:0] = [str(HERE / "standin"), str(DAGS)]

from airflow._standin import MappedOperator, StandInError, XComArg  # noqa: E402

pipeline = importlib.import_module("music_streaming_pipeline")
fanout = importlib.import_module("music_streaming_fanout")
common = importlib.import_module("musicpipe_common")

try:
    from jinja2.sandbox import SandboxedEnvironment
except ImportError:  # pragma: no cover - jinja2 is optional here
    SandboxedEnvironment = None

TRICKY_KEY = 'data/raw/streams/a "quoted" \\ back\\slash, ünïcode & <tag> 10%.csv'


def render(template: str, conf: dict, run_id: str) -> str:
    """Renders a payload template the way Airflow's Jinja environment does."""
    return SandboxedEnvironment().from_string(template).render(dag_run=SimpleNamespace(conf=conf), run_id=run_id)


class FakeTaskInstance:
    def __init__(self, value):
        self.value = value
        self.asked = []

    def xcom_pull(self, task_ids=None, **_):
        self.asked.append(task_ids)
        return self.value


class Files(unittest.TestCase):
    def test_dag_files_compile(self):
        with tempfile.TemporaryDirectory() as out:
            for path in sorted(DAGS.glob("*.py")):
                with self.subTest(path=path.name):
                    py_compile.compile(str(path), doraise=True, cfile=str(Path(out) / (path.name + "c")))

    def test_helper_module_is_airflowignored(self):
        patterns = (DAGS / ".airflowignore").read_text().split()
        self.assertIn(r"musicpipe_common\.py", patterns)


class Pipeline(unittest.TestCase):
    dag = pipeline.dag

    def test_dag_settings(self):
        self.assertEqual(self.dag.dag_id, "music_streaming_pipeline")
        self.assertIsNone(self.dag.schedule)
        self.assertFalse(self.dag.catchup)
        self.assertIsNotNone(self.dag.start_date)

    def test_task_ids(self):
        self.assertEqual(self.dag.task_ids, ["validate", "short_circuit", "transform", "load", "archive"])

    def test_chain(self):
        chain = ["validate", "short_circuit", "transform", "load", "archive"]
        for before, after in zip(chain, chain[1:]):
            with self.subTest(edge=f"{before} >> {after}"):
                self.assertEqual(self.dag.get_task(before).downstream_task_ids, {after})
                self.assertEqual(self.dag.get_task(after).upstream_task_ids, {before})
        self.assertEqual(self.dag.get_task("validate").upstream_task_ids, set())
        self.assertEqual(self.dag.get_task("archive").downstream_task_ids, set())

    def test_retries(self):
        for op in self.dag.task_dict.values():
            with self.subTest(task=op.task_id):
                self.assertEqual(op.retries, 15)
                self.assertEqual(op.retry_delay, timedelta(seconds=60))
                self.assertIs(op.retry_exponential_backoff, True)
                self.assertEqual(op.max_retry_delay, timedelta(minutes=30))

    def test_each_stage_invokes_the_stage_lambda(self):
        for stage in ("validate", "transform", "load", "archive"):
            op = self.dag.get_task(stage)
            with self.subTest(stage=stage):
                self.assertEqual(type(op).__name__, "LambdaInvokeFunctionOperator")
                self.assertEqual(
                    op.function_name, "{{ var.value.get('musicpipe_stage_function', 'musicpipe-stage') }}"
                )
                self.assertIn("function_name", op.template_fields)
                self.assertIn("payload", op.template_fields)
                self.assertEqual(op.aws_conn_id, "aws_default")
                self.assertGreater(op.botocore_config["read_timeout"], 900)
                self.assertTrue(op.botocore_config["tcp_keepalive"])
                self.assertEqual(
                    op.payload,
                    '{"stage": "%s", "bucket": {{ dag_run.conf["bucket"] | tojson }}, '
                    '"key": {{ dag_run.conf["key"] | tojson }}, "runId": {{ run_id | tojson }}}' % stage,
                )

    @unittest.skipIf(SandboxedEnvironment is None, "jinja2 is not installed")
    def test_payloads_render_to_the_stage_event_for_any_key(self):
        conf = {"bucket": "music-bucket", "key": TRICKY_KEY, "etag": "abc"}
        for stage in ("validate", "transform", "load", "archive"):
            with self.subTest(stage=stage):
                event = json.loads(render(self.dag.get_task(stage).payload, conf, "s3__music__k__abc"))
                self.assertEqual(
                    event, {"stage": stage, "bucket": "music-bucket", "key": TRICKY_KEY, "runId": "s3__music__k__abc"}
                )

    def test_short_circuit_reads_the_validate_result(self):
        op = self.dag.get_task("short_circuit")
        self.assertEqual(type(op).__name__, "ShortCircuitOperator")
        check = op.python_callable
        ti = FakeTaskInstance('{"fileKey": "k", "stage": "validate", "status": "SUCCESS"}')
        self.assertIs(check(ti=ti), True)
        self.assertEqual(ti.asked, ["validate"])
        self.assertIs(check(ti=FakeTaskInstance('{"status": "FAILED", "rejection": {"code": "missing_column"}}')), False)
        self.assertIs(check(ti=FakeTaskInstance({"status": "SUCCESS"})), True)
        self.assertIs(check(ti=FakeTaskInstance(b'{"status": "SUCCESS"}')), True)
        self.assertIs(check(ti=FakeTaskInstance(None)), False)
        self.assertIs(check(ti=FakeTaskInstance("")), False)


class Fanout(unittest.TestCase):
    dag = fanout.dag

    def test_dag_settings(self):
        self.assertEqual(self.dag.dag_id, "music_streaming_fanout")
        self.assertIsNone(self.dag.schedule)
        self.assertFalse(self.dag.catchup)

    def test_task_graph(self):
        edges = {
            "plan_files": {"validate", "select_valid"},
            "validate": {"select_valid"},
            "select_valid": {"transform", "plan_load", "plan_archive"},
            "transform": {"plan_dates"},
            "plan_dates": {"load_date"},
            "load_date": {"load"},
            "plan_load": {"load"},
            "load": {"plan_archive"},
            "plan_archive": {"archive"},
            "archive": set(),
        }
        self.assertEqual(set(self.dag.task_ids), set(edges))
        for task_id, downstream in edges.items():
            with self.subTest(task=task_id):
                self.assertEqual(self.dag.get_task(task_id).downstream_task_ids, downstream)

    def test_stages_are_mapped_lambda_invocations(self):
        expanded_over = {
            "validate": "plan_files",
            "transform": "select_valid",
            "load_date": "plan_dates",
            "load": "plan_load",
            "archive": "plan_archive",
        }
        for task_id, source in expanded_over.items():
            op = self.dag.get_task(task_id)
            with self.subTest(task=task_id):
                self.assertIsInstance(op, MappedOperator)
                self.assertEqual(op.operator_class.__name__, "LambdaInvokeFunctionOperator")
                self.assertEqual(set(op.expand_input), {"payload"})
                self.assertIsInstance(op.expand_input["payload"], XComArg)
                self.assertEqual(op.expand_input["payload"].operator.task_id, source)
                self.assertEqual(op.function_name, common.STAGE_FUNCTION)
                self.assertEqual(op.botocore_config, common.LAMBDA_CLIENT_CONFIG)
        self.assertEqual(self.dag.get_task("load").trigger_rule, "none_failed")

    def test_retries(self):
        for op in self.dag.task_dict.values():
            with self.subTest(task=op.task_id):
                self.assertEqual((op.retries, op.retry_delay, op.retry_exponential_backoff), (15, timedelta(minutes=1), True))

    def test_plans_one_validate_event_per_distinct_key(self):
        conf = {"bucket": "b", "keys": ["data/raw/streams/a.csv", TRICKY_KEY, "data/raw/streams/a.csv"]}
        run = SimpleNamespace(conf=conf)
        events = [json.loads(e) for e in fanout.plan_files.function(dag_run=run, run_id="r1")]
        self.assertEqual(
            events,
            [
                {"stage": "validate", "bucket": "b", "key": "data/raw/streams/a.csv", "runId": "r1"},
                {"stage": "validate", "bucket": "b", "key": TRICKY_KEY, "runId": "r1"},
            ],
        )
        single = fanout.file_events("validate", {"bucket": "b", "key": "data/raw/streams/z.csv"}, None)
        self.assertEqual([json.loads(e) for e in single], [{"stage": "validate", "bucket": "b", "key": "data/raw/streams/z.csv"}])
        with self.assertRaises(ValueError):
            fanout.file_events("validate", {"keys": ["k"]}, "r")
        with self.assertRaises(ValueError):
            fanout.file_events("validate", {"bucket": "b", "keys": ["ok", ""]}, "r")

    def test_transforms_only_valid_files_then_loads_each_date_once(self):
        events = fanout.file_events("validate", {"bucket": "b", "keys": ["a.csv", "b.csv", "c.csv"]}, "r1")
        results = ['{"status": "SUCCESS"}', '{"status": "FAILED"}', {"status": "SUCCESS"}]
        valid = fanout.select_valid.function(events, iter(results))
        self.assertEqual([(json.loads(e)["stage"], json.loads(e)["key"]) for e in valid], [("transform", "a.csv"), ("transform", "c.csv")])
        transformed = [
            '{"stage": "transform", "status": "SUCCESS", "listenDates": ["2025-06-23", "2025-06-22"]}',
            '{"stage": "transform", "status": "SUCCESS", "listenDates": ["2025-06-22"]}',
        ]
        dates = fanout.plan_dates.function(transformed, dag_run=SimpleNamespace(conf={"bucket": "b"}), run_id="r1")
        self.assertEqual(
            [json.loads(e) for e in dates],
            [
                {"stage": "load_date", "bucket": "b", "listenDate": "2025-06-22", "runId": "r1"},
                {"stage": "load_date", "bucket": "b", "listenDate": "2025-06-23", "runId": "r1"},
            ],
        )
        archive = fanout.plan_stage.function(valid, "archive")
        self.assertEqual([json.loads(e)["stage"] for e in archive], ["archive", "archive"])
        with self.assertRaises(ValueError):
            fanout.valid_events(events, results[:2])


class StandIn(unittest.TestCase):
    """The stand-in refuses what Airflow refuses, so the checks above mean something."""

    def test_rejects_unknown_arguments_and_duplicate_ids(self):
        from airflow import DAG
        from airflow.providers.amazon.aws.operators.lambda_function import LambdaInvokeFunctionOperator

        with DAG("standin_check", schedule=None):
            LambdaInvokeFunctionOperator(task_id="ok", function_name="f")
            with self.assertRaises(StandInError):
                LambdaInvokeFunctionOperator(task_id="typo", function_name="f", paylaod="{}")
            with self.assertRaises(StandInError):
                LambdaInvokeFunctionOperator(task_id="ok", function_name="f")
            with self.assertRaises(StandInError):
                LambdaInvokeFunctionOperator.partial(task_id="m", function_name="f").expand(paylaod=["{}"])


if __name__ == "__main__":
    unittest.main()
