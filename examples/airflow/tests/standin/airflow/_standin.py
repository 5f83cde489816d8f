"""STAND-IN for Apache Airflow, for musicpipe's tests only. This is NOT Airflow.

Airflow cannot be installed where musicpipe's tests run, so this module imitates the small
part of Airflow's DAG-authoring API that the DAG files in ``examples/airflow/dags/`` use, to
check their task graph: DAG as a context manager with ``default_args``, operators and their
``>>`` dependencies, ``.output`` XCom references, ``@task`` functions, and dynamic task
mapping (``.partial(...).expand(...)``). It executes nothing: no scheduler, no templating, no
XCom storage, no AWS. Like Airflow, it rejects unknown operator arguments and duplicate task
ids, and it links a task to the tasks whose ``.output`` it takes.

Signatures follow Airflow 2.x (``airflow.DAG``, ``airflow.decorators.task``,
``airflow.operators.python``) and apache-airflow-providers-amazon
(``LambdaInvokeFunctionOperator``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable

__all__ = [
    "DAG",
    "BaseOperator",
    "MappedOperator",
    "XComArg",
    "PythonOperator",
    "ShortCircuitOperator",
    "task",
    "LambdaInvokeFunctionOperator",
]

_DAG_STACK: list["DAG"] = []

#: Arguments every Airflow operator accepts (the subset a DAG here may use).
BASE_ARGUMENTS = frozenset(
    {
        "task_id",
        "owner",
        "email",
        "email_on_failure",
        "email_on_retry",
        "retries",
        "retry_delay",
        "retry_exponential_backoff",
        "max_retry_delay",
        "depends_on_past",
        "trigger_rule",
        "execution_timeout",
        "pool",
        "queue",
        "priority_weight",
        "max_active_tis_per_dag",
        "max_active_tis_per_dagrun",
        "doc_md",
        "dag",
    }
)

TRIGGER_RULES = frozenset(
    {"all_success", "all_failed", "all_done", "one_success", "one_failed", "none_failed", "none_skipped", "always"}
)


class StandInError(Exception):
    """What Airflow would refuse at parse time (AirflowException, DuplicateTaskIdFound)."""


class DAG:
    def __init__(
        self,
        dag_id: str,
        *,
        description: str | None = None,
        default_args: dict[str, Any] | None = None,
        schedule: Any = "@daily",
        start_date: Any = None,
        catchup: bool = True,
        tags: list[str] | None = None,
        doc_md: str | None = None,
        max_active_runs: int | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        self.dag_id = dag_id
        self.description = description
        self.default_args = dict(default_args or {})
        self.schedule = schedule
        self.start_date = start_date
        self.catchup = catchup
        self.tags = list(tags or [])
        self.doc_md = doc_md
        self.max_active_runs = max_active_runs
        self.params = dict(params or {})
        self.task_dict: dict[str, BaseOperator] = {}

    def __enter__(self) -> "DAG":
        _DAG_STACK.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        _DAG_STACK.pop()

    @property
    def task_ids(self) -> list[str]:
        return list(self.task_dict)

    def get_task(self, task_id: str) -> "BaseOperator":
        return self.task_dict[task_id]

    def add_task(self, op: "BaseOperator") -> None:
        if op.task_id in self.task_dict:
            raise StandInError(f"Task id '{op.task_id}' has already been added to the DAG")
        self.task_dict[op.task_id] = op


def _current_dag() -> DAG | None:
    return _DAG_STACK[-1] if _DAG_STACK else None


class XComArg:
    """A reference to a task's return value, as ``operator.output`` or a ``@task`` call gives."""

    def __init__(self, operator: "BaseOperator", key: str = "return_value") -> None:
        self.operator = operator
        self.key = key

    def __rshift__(self, other: Any) -> Any:
        return self.operator >> other

    def __lshift__(self, other: Any) -> Any:
        return self.operator << other

    def __rrshift__(self, other: Any) -> Any:
        return self.operator.__rrshift__(other)

    def __repr__(self) -> str:
        return f"XComArg({self.operator.task_id!r})"


def _operators(value: Any) -> list["BaseOperator"]:
    if isinstance(value, XComArg):
        return [value.operator]
    if isinstance(value, BaseOperator):
        return [value]
    if isinstance(value, (list, tuple)):
        return [op for item in value for op in _operators(item)]
    raise TypeError(f"cannot set a dependency on {value!r}")


def _xcom_args(value: Any) -> list[XComArg]:
    if isinstance(value, XComArg):
        return [value]
    if isinstance(value, (list, tuple)):
        return [a for item in value for a in _xcom_args(item)]
    if isinstance(value, dict):
        return [a for item in value.values() for a in _xcom_args(item)]
    return []


class BaseOperator:
    template_fields: tuple[str, ...] = ()

    def __init__(self, *, task_id: str, dag: DAG | None = None, **kwargs: Any) -> None:
        unknown = set(kwargs) - BASE_ARGUMENTS
        if unknown:
            raise StandInError(f"Invalid arguments were passed to {type(self).__name__}: {sorted(unknown)}")
        self.dag = dag or _current_dag()
        if self.dag is None:
            raise StandInError(f"task '{task_id}' was created outside a DAG")
        settings = {**self.dag.default_args, **kwargs}
        unknown_defaults = set(settings) - BASE_ARGUMENTS
        if unknown_defaults:
            raise StandInError(f"Invalid default_args: {sorted(unknown_defaults)}")
        self.task_id = task_id
        self.owner = settings.get("owner", "airflow")
        self.retries = settings.get("retries", 0)
        self.retry_delay = settings.get("retry_delay", timedelta(seconds=300))
        self.retry_exponential_backoff = settings.get("retry_exponential_backoff", False)
        self.max_retry_delay = settings.get("max_retry_delay")
        self.depends_on_past = settings.get("depends_on_past", False)
        self.trigger_rule = settings.get("trigger_rule", "all_success")
        if self.trigger_rule not in TRIGGER_RULES:
            raise StandInError(f"'{self.trigger_rule}' is not a trigger rule")
        self.max_active_tis_per_dag = settings.get("max_active_tis_per_dag")
        self.upstream_task_ids: set[str] = set()
        self.downstream_task_ids: set[str] = set()
        self.dag.add_task(self)

    @property
    def output(self) -> XComArg:
        return XComArg(self)

    def set_downstream(self, other: Any) -> None:
        for op in _operators(other):
            self.downstream_task_ids.add(op.task_id)
            op.upstream_task_ids.add(self.task_id)

    def set_upstream(self, other: Any) -> None:
        for op in _operators(other):
            op.set_downstream(self)

    def __rshift__(self, other: Any) -> Any:
        self.set_downstream(other)
        return other

    def __lshift__(self, other: Any) -> Any:
        self.set_upstream(other)
        return other

    def __rrshift__(self, other: Any) -> "BaseOperator":
        self.set_upstream(other)
        return self

    def _link_inputs(self, values: Any) -> None:
        for arg in _xcom_args(values):
            arg.operator.set_downstream(self)

    @classmethod
    def partial(cls, **kwargs: Any) -> "_PartialOperator":
        if "task_id" not in kwargs:
            raise StandInError("partial() needs a task_id")
        return _PartialOperator(cls, kwargs)


class _PartialOperator:
    def __init__(self, operator_class: type, kwargs: dict[str, Any]) -> None:
        self.operator_class = operator_class
        self.kwargs = kwargs

    def expand(self, **mapped: Any) -> "MappedOperator":
        if not mapped:
            raise StandInError("expand() needs at least one argument to map over")
        both = set(mapped) & set(self.kwargs)
        if both:
            raise StandInError(f"arguments given to both partial() and expand(): {sorted(both)}")
        for name, value in mapped.items():
            if not isinstance(value, (XComArg, list, tuple, dict)):
                raise StandInError(f"expand() argument '{name}' must be a list, a dict or an XComArg")
        return MappedOperator(self.operator_class, self.kwargs, mapped)


class MappedOperator(BaseOperator):
    """A task mapped over its ``expand_input``: one task instance per element at run time."""

    def __init__(self, operator_class: type, partial_kwargs: dict[str, Any], expand_input: dict[str, Any]):
        base = {k: v for k, v in partial_kwargs.items() if k in BASE_ARGUMENTS}
        own = {k: v for k, v in partial_kwargs.items() if k not in BASE_ARGUMENTS}
        # The operator must accept every argument it is given, mapped or not (checked as Airflow does, on the class).
        operator_class._check_arguments({**own, **{k: None for k in expand_input}})
        super().__init__(**base)
        self.operator_class = operator_class
        self.partial_kwargs = dict(partial_kwargs)
        self.expand_input = dict(expand_input)
        for name, value in own.items():
            setattr(self, name, value)
        self._link_inputs(expand_input)


class PythonOperator(BaseOperator):
    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: list[Any] | None = None,
        op_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not callable(python_callable):
            raise StandInError("python_callable must be callable")
        super().__init__(**kwargs)
        self.python_callable = python_callable
        self.op_args = list(op_args or [])
        self.op_kwargs = dict(op_kwargs or {})
        self._link_inputs([self.op_args, self.op_kwargs])

    @classmethod
    def _check_arguments(cls, kwargs: dict[str, Any]) -> None:
        unknown = set(kwargs) - {"python_callable", "op_args", "op_kwargs"}
        if unknown:
            raise StandInError(f"Invalid arguments were passed to {cls.__name__}: {sorted(unknown)}")


class ShortCircuitOperator(PythonOperator):
    def __init__(self, *, ignore_downstream_trigger_rules: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ignore_downstream_trigger_rules = ignore_downstream_trigger_rules


class _DecoratedPythonOperator(PythonOperator):
    pass


class _TaskDecorator:
    """What ``@task`` makes of a function: calling it inside a DAG adds a task and returns its XComArg."""

    def __init__(self, function: Callable[..., Any], kwargs: dict[str, Any]) -> None:
        self.function = function
        self.kwargs = kwargs

    def override(self, **kwargs: Any) -> "_TaskDecorator":
        return _TaskDecorator(self.function, {**self.kwargs, **kwargs})

    def __call__(self, *args: Any, **kwargs: Any) -> XComArg:
        settings = {"task_id": self.function.__name__, **self.kwargs}
        op = _DecoratedPythonOperator(python_callable=self.function, op_args=list(args), op_kwargs=kwargs, **settings)
        return XComArg(op)


def task(python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
    if python_callable is not None:
        return _TaskDecorator(python_callable, kwargs)
    return lambda function: _TaskDecorator(function, kwargs)


class LambdaInvokeFunctionOperator(BaseOperator):
    """Stand-in of airflow.providers.amazon.aws.operators.lambda_function.LambdaInvokeFunctionOperator."""

    template_fields = ("function_name", "payload", "qualifier", "invocation_type", "aws_conn_id", "region_name", "verify", "botocore_config")

    OWN_ARGUMENTS = frozenset(
        {
            "function_name",
            "log_type",
            "keep_empty_log_lines",
            "qualifier",
            "invocation_type",
            "client_context",
            "payload",
            "deserialize_payload",
            "aws_conn_id",
            "region_name",
            "verify",
            "botocore_config",
        }
    )

    def __init__(self, *, function_name: str, payload: bytes | str | None = None, **kwargs: Any) -> None:
        own = {k: kwargs.pop(k) for k in list(kwargs) if k in self.OWN_ARGUMENTS}
        super().__init__(**kwargs)
        self.function_name = function_name
        self.payload = payload
        self.log_type = own.get("log_type")
        self.qualifier = own.get("qualifier")
        self.invocation_type = own.get("invocation_type")
        self.deserialize_payload = own.get("deserialize_payload", False)
        self.aws_conn_id = own.get("aws_conn_id", "aws_default")
        self.region_name = own.get("region_name")
        self.botocore_config = own.get("botocore_config")

    @classmethod
    def _check_arguments(cls, kwargs: dict[str, Any]) -> None:
        unknown = set(kwargs) - cls.OWN_ARGUMENTS
        if unknown:
            raise StandInError(f"Invalid arguments were passed to {cls.__name__}: {sorted(unknown)}")
        if "function_name" not in kwargs:
            raise StandInError(f"{cls.__name__} needs a function_name")
