"""The compute half of the probe catalogue (see hardening_catalogue.py): jobs and runs,
clusters, and command execution 1.2.

Job baselines use condition tasks, which run without a cluster, so accepted run-now and submit
cases cost little. An accepted cluster create starts a driver (a fraction of a second), and is
permanently deleted right after the read-back.
"""

from __future__ import annotations

import re
import time

from databricks.sdk.service import compute, jobs

from hardening_inputs import EITHER, INT64_MAX, MIB, REJECT, UNKNOWN_ENUM, Case, Mutation, fields_from, query_cases, sdk_query_params
from hardening_catalogue import CLUSTERS, JOBS, SPARK_VERSION, Probe, capped, route, standard

CONDITION = {"op": "EQUAL_TO", "left": "1", "right": "1"}


def job_task(key: str = "a") -> dict:
    return {"task_key": key, "description": "probe", "condition_task": dict(CONDITION), "timeout_seconds": 60, "max_retries": 0,
            "min_retry_interval_millis": 0, "retry_on_timeout": False, "run_if": "ALL_SUCCESS"}


def job_settings(ctx) -> dict:
    return {"name": ctx.unique("probe-job"), "description": "probe", "max_concurrent_runs": 1, "timeout_seconds": 600, "tags": {"team": "probe"},
            "format": "MULTI_TASK", "edit_mode": "EDITABLE", "email_notifications": {"on_failure": ["probe@example.com"]},
            "notification_settings": {"no_alert_for_skipped_runs": True}, "queue": {"enabled": True},
            "schedule": {"quartz_cron_expression": "0 0 0 * * ?", "timezone_id": "UTC", "pause_status": "PAUSED"},
            "parameters": [{"name": "p", "default": "1"}], "tasks": [job_task()]}


def job_fields(prefix: str = "", nested: bool = True):
    fields = fields_from(prefix, jobs.JobsAPI.create)
    if nested:
        fields += fields_from(f"{prefix}tasks[0].", jobs.Task)
        fields += fields_from(f"{prefix}tasks[0].condition_task.", jobs.ConditionTask)
        fields += fields_from(f"{prefix}schedule.", jobs.CronSchedule)
        fields += fields_from(f"{prefix}parameters[0].", jobs.JobParameterDefinition)
        fields += fields_from(f"{prefix}queue.", jobs.QueueSettings)
        fields += fields_from(f"{prefix}email_notifications.", jobs.JobEmailNotifications)
        fields += fields_from(f"{prefix}notification_settings.", jobs.JobNotificationSettings)
    return fields


def job_extra(prefix: str = "") -> dict:
    return {
        # -1 retries means "always" on Databricks.
        f"{prefix}tasks[0].max_retries": [Mutation("minus one means always", -1, EITHER, False), Mutation("-2", -2)],
        f"{prefix}tasks[0].depends_on": [Mutation("a dependency on itself", [{"task_key": "a"}], REJECT, False), Mutation("a dependency that does not exist", [{"task_key": "zz"}], REJECT, False)],
        f"{prefix}tasks": [Mutation("1,001 tasks", [job_task(f"t{i}") for i in range(1001)], REJECT, False), Mutation("no tasks", [], EITHER, False),
                           Mutation("two tasks with one key", [job_task(), job_task()], REJECT, False), Mutation("a task without a type", [{"task_key": "a"}], REJECT, False)],
        f"{prefix}schedule.quartz_cron_expression": [Mutation("not cron", "every day"), Mutation("out of range", "0 61 * * * ?")],
        f"{prefix}schedule.timezone_id": [Mutation("unknown zone", "Mars/Olympus")],
        f"{prefix}max_concurrent_runs": [Mutation("above 1000", 1001)],
        f"{prefix}trigger": [Mutation("periodic interval zero", {"periodic": {"interval": 0, "unit": "HOURS"}}, REJECT, False),
                             Mutation("periodic interval int64 max", {"periodic": {"interval": INT64_MAX, "unit": "DAYS"}}, EITHER, False),
                             Mutation("periodic unit unknown", {"periodic": {"interval": 1, "unit": UNKNOWN_ENUM}}, REJECT, False)],
        f"{prefix}tasks[0].timeout_seconds": [Mutation("int64 max (the run deadline overflows)", INT64_MAX)],
        f"{prefix}name": [Mutation("over 4096 characters", "x" * 4097)],
        f"{prefix}tags": [Mutation("10,000 tags", {f"k{i}": "v" for i in range(10_000)}, EITHER, False)],
    }


# Settings the executor reads when a job runs: an accepted job with a bad value in one of them
# is also run (the rest only cost time).
EXECUTED = re.compile(r"(timeout_seconds|max_retries|retry|max_concurrent_runs|queue|run_as|parameters|job_clusters|^tasks$|depends_on|notifications|"
                      r"notification_settings|condition_task|run_if|trigger|schedule|environment|libraries|existing_cluster_id|task_key|disabled|health|kiln_probe)")


def run_stored_job(ctx, job_id: int) -> None:
    """What was stored must also run: run-now the job and see the run end."""
    try:
        response = ctx.session.post(f"{ctx.host}{JOBS}/run-now", json={"job_id": job_id}, timeout=10)
    except Exception as error:  # noqa: BLE001
        ctx.record("stored job cannot run", f"run-now: {type(error).__name__}")
        return
    if response.status_code >= 500:
        ctx.record("stored job cannot run", f"run-now -> {response.status_code} {response.text[:200]}")
    elif not response.ok:
        ctx.record("stored job refused by run-now (validation gap)", f"run-now -> {response.status_code} {response.text[:200]}")
    else:
        ctx.run_finishes(response.json()["run_id"])


def probe_jobs_create(ctx) -> Probe:
    path = f"{JOBS}/create"
    cases = standard(ctx, "POST", path, lambda: job_settings(ctx), job_fields(), extra=job_extra(), freeform=("tasks[0].kiln_probe_nested",), nested_unknown=("tasks[0]", "tasks[0].condition_task"))
    for version in ("2.0", "2.1"):
        cases += [c for c in standard(ctx, "POST", f"/api/{version}/jobs/create", lambda: job_settings(ctx), []) if c.field == "(body)" and "nested" in c.mutation]

    def after(case: Case, answer):
        job_id = (answer or {}).get("job_id")
        if job_id:
            ctx.check("SDK jobs.get", lambda: ctx.sdk.jobs.get(job_id))
        ctx.check("SDK jobs.list(expand_tasks)", lambda: capped(ctx.sdk.jobs.list(expand_tasks=True)))
        if job_id:
            if EXECUTED.search(case.field):
                run_stored_job(ctx, job_id)
            ctx.quiet("POST", f"{JOBS}/delete", {"job_id": job_id})

    return Probe(cases, after)


def probe_jobs_reset_update(ctx) -> Probe:
    reset = lambda: {"job_id": ctx.ref("job"), "new_settings": job_settings(ctx)}
    reset_fields = fields_from("", jobs.JobsAPI.reset) + job_fields("new_settings.", nested=False)
    cases = standard(ctx, "POST", f"{JOBS}/reset", reset, reset_fields, extra={"new_settings.tasks": job_extra("new_settings.")["new_settings.tasks"]})
    update = lambda: {"job_id": ctx.ref("job"), "new_settings": {"timeout_seconds": 300, "tasks": [job_task("b")]}, "fields_to_remove": []}
    update_fields = fields_from("", jobs.JobsAPI.update) + job_fields("new_settings.", nested=False)
    update_extra = {"fields_to_remove": [Mutation("a field that does not exist", ["kiln_no_such_field"], EITHER, False), Mutation("10,000 entries", ["tags"] * 10_000, EITHER, False),
                                         Mutation("a task key path that does not exist", ["tasks/zz"], EITHER, False)],
                    "new_settings.tasks[0].timeout_seconds": [Mutation("wrong type: string", "abc"), Mutation("int64 max", INT64_MAX)]}
    cases += standard(ctx, "POST", f"{JOBS}/update", update, update_fields, extra=update_extra)
    cases += [c for c in standard(ctx, "POST", f"{JOBS}/delete", lambda: {"job_id": 987654321}, fields_from("", jobs.JobsAPI.delete), unknown=False) if c.field != "(method)"]
    cases += query_cases(route("GET", f"{JOBS}/list"), f"{JOBS}/list", "", sdk_query_params(jobs.JobsAPI.list))
    cases += query_cases(route("GET", f"{JOBS}/get"), f"{JOBS}/get", "", {"job_id": "id"})
    for version in ("2.0", "2.1"):
        cases += query_cases(route("GET", f"/api/{version}/jobs/get"), f"/api/{version}/jobs/get", "", {"job_id": "id"})

    def after(case: Case, answer):
        job_id = ctx.target("job")
        ctx.check("SDK jobs.get", lambda: ctx.sdk.jobs.get(job_id), allow_not_found=True)
        ctx.check("SDK jobs.list(expand_tasks)", lambda: capped(ctx.sdk.jobs.list(expand_tasks=True)))
        ctx.reset("job")

    return Probe(cases, after)


def probe_jobs_runs(ctx) -> Probe:
    job_id = ctx.target("runs_job")
    run_now = lambda: {"job_id": job_id, "job_parameters": {"p": "2"}}
    extra = {"idempotency_token": [Mutation("over 64 characters", "x" * 65), Mutation("1 MiB", "x" * MIB)],
             "job_parameters": [Mutation("a parameter the job does not define", {"kiln_no_such": "1"}, EITHER, False), Mutation("10,000 parameters", {f"k{i}": "v" for i in range(10_000)}, EITHER, False)],
             "python_params": [Mutation("wrong type: string", "x"), Mutation("list element of the wrong type", [{"a": 1}])]}
    cases = standard(ctx, "POST", f"{JOBS}/run-now", run_now, fields_from("", jobs.JobsAPI.run_now), extra=extra)
    submit = lambda: {"run_name": ctx.unique("probe-run"), "timeout_seconds": 600, "tasks": [{"task_key": "a", "condition_task": dict(CONDITION), "timeout_seconds": 60}]}
    submit_fields = fields_from("", jobs.JobsAPI.submit) + fields_from("tasks[0].", jobs.SubmitTask) + fields_from("tasks[0].condition_task.", jobs.ConditionTask)
    cases += standard(ctx, "POST", f"{JOBS}/runs/submit", submit, submit_fields, extra={"tasks": [Mutation("no tasks", [], REJECT, False)], "tasks[0].timeout_seconds": [Mutation("int64 max", INT64_MAX)],
                              "tasks[0].max_retries": job_extra()["tasks[0].max_retries"]},
                      nested_unknown=("tasks[0]",))
    repair = lambda: {"run_id": ctx.target("run"), "rerun_tasks": ["a"], "rerun_all_failed_tasks": False}
    cases += standard(ctx, "POST", f"{JOBS}/runs/repair", repair, fields_from("", jobs.JobsAPI.repair_run),
                      extra={"rerun_tasks": [Mutation("a task the run does not have", ["zz"], REJECT, False), Mutation("10,000 task keys", ["a"] * 10_000, EITHER, False)]})
    cancel = lambda: {"run_id": ctx.target("run")}
    cases += standard(ctx, "POST", f"{JOBS}/runs/cancel", cancel, fields_from("", jobs.JobsAPI.cancel_run))
    cases += standard(ctx, "POST", f"{JOBS}/runs/cancel-all", lambda: {"job_id": job_id, "all_queued_runs": False}, fields_from("", jobs.JobsAPI.cancel_all_runs), unknown=False)
    cases += [c for c in standard(ctx, "POST", f"{JOBS}/runs/delete", lambda: {"run_id": 987654321}, fields_from("", jobs.JobsAPI.delete_run), unknown=False)]
    cases += query_cases(route("GET", f"{JOBS}/runs/list"), f"{JOBS}/runs/list", "", sdk_query_params(jobs.JobsAPI.list_runs, skip=("run_type",)))
    for name in ("runs/get", "runs/get-output", "runs/export"):
        cases += query_cases(route("GET", f"{JOBS}/{name}"), f"{JOBS}/{name}", "", {"run_id": "id"})

    def after(case: Case, answer):
        if case.path.endswith("/runs/repair"):
            ctx.run_finishes(ctx.target("run"))
        run_id = (answer or {}).get("run_id") or (ctx.target("run") if "/runs/" in case.path else None)
        if run_id:
            ctx.check("SDK jobs.get_run", lambda: ctx.sdk.jobs.get_run(run_id))
        # Newest first: the first page holds the run just made. Without tasks: the repaired
        # target run grows with every repair, and get_run above reads its tasks.
        ctx.check("SDK jobs.list_runs", lambda: capped(ctx.sdk.jobs.list_runs(), 25))
        if case.path.endswith("/run-now"):
            ctx.check("SDK jobs.get", lambda: ctx.sdk.jobs.get(job_id))
        run_id = (answer or {}).get("run_id")
        if run_id:
            ctx.run_finishes(run_id)
            ctx.quiet("POST", f"{JOBS}/runs/cancel", {"run_id": run_id})
            ctx.quiet("POST", f"{JOBS}/runs/delete", {"run_id": run_id})

    return Probe(cases, after)


# --- clusters -------------------------------------------------------------------------------------


def cluster_spec(ctx) -> dict:
    return {"cluster_name": ctx.unique("probe-cluster"), "spark_version": SPARK_VERSION, "num_workers": 0, "autotermination_minutes": 10, "node_type_id": "m5d.large",
            "spark_conf": {"spark.probe": "1"}, "spark_env_vars": {"PROBE": "1"}, "custom_tags": {"team": "probe"}, "data_security_mode": "NONE", "runtime_engine": "STANDARD"}


def cluster_extra() -> dict:
    bad_autoscale = [Mutation(label, value) for label, value in (
        ("min_workers a string", {"min_workers": "abc", "max_workers": 2}), ("max_workers a fraction", {"min_workers": 1, "max_workers": 1.5}),
        ("max_workers int64 max", {"min_workers": 1, "max_workers": INT64_MAX}), ("max_workers negative", {"min_workers": 0, "max_workers": -1}),
        ("min_workers 1e300", {"min_workers": 1e300, "max_workers": 2}), ("max_workers an object", {"min_workers": 1, "max_workers": {"a": 1}}))]
    return {"spark_version": [Mutation("a version Kiln does not offer", "1.0.x-scala2.10")],
            "node_type_id": [Mutation("unknown node type", "galactic.huge")],
            "autotermination_minutes": [Mutation("below 10", 5)],
            "num_workers": [Mutation("above 100,000", 100_001)],
            "autoscale": bad_autoscale + [Mutation("max below min", {"min_workers": 3, "max_workers": 1})],
            "spark_env_vars": [Mutation("NUL in a variable name", {"A\u0000B": "1"}), Mutation("= in a variable name", {"A=B": "1"}), Mutation("NUL in a value", {"A": "1\u0000"}),
                               Mutation("10,000 variables", {f"V{i}": "x" for i in range(10_000)}, EITHER, False)],
            "spark_conf": [Mutation("1 MiB value", {"spark.x": "x" * MIB}, EITHER, False)]}


def probe_clusters(ctx) -> Probe:
    fields = fields_from("", compute.ClustersAPI.create)
    # Create and edit check a spec with the same code (kiln_core::clusters::spec::validate) and
    # keep it the same way. An accepted create starts a driver, an edit of a terminated cluster
    # does not: edit gets every field, create the fields that code checks and a few it keeps.
    create_only = ("spark_version", "cluster_name", "node_type_id", "driver_node_type_id", "num_workers", "autoscale", "autotermination_minutes",
                   "spark_conf", "spark_env_vars", "custom_tags", "aws_attributes", "data_security_mode", "single_user_name", "init_scripts", "docker_image")
    cases = standard(ctx, "POST", f"{CLUSTERS}/create", lambda: cluster_spec(ctx), [f for f in fields if f.path.split(".")[0] in create_only], extra=cluster_extra())
    target = ctx.target("cluster")
    edit = lambda: {**cluster_spec(ctx), "cluster_id": ctx.target("cluster")}
    cases += standard(ctx, "POST", f"{CLUSTERS}/edit", edit, fields + fields_from("", compute.ClustersAPI.edit, only=("cluster_id",)), extra=cluster_extra())
    # Only a running cluster can be resized: its checks come after the state check.
    resize = lambda: {"cluster_id": ctx.target("running_cluster"), "num_workers": 1}
    cases += standard(ctx, "POST", f"{CLUSTERS}/resize", resize, fields_from("", compute.ClustersAPI.resize), extra={"autoscale": cluster_extra()["autoscale"]})
    events = lambda: {"cluster_id": ctx.target("cluster"), "order": "DESC", "event_types": ["CREATING", "TERMINATING"], "limit": 10, "start_time": 0, "end_time": int(time.time() * 1000)}
    events_extra = {"event_types": [Mutation("100,000 known types", ["CREATING"] * 100_000, EITHER, False), Mutation("100,000 unknown types", [f"{UNKNOWN_ENUM}_{i}" for i in range(100_000)], REJECT, False)],
                    "limit": [Mutation("zero", 0, EITHER, False), Mutation("above 500", 501, EITHER, False)],
                    "page_token": [Mutation("garbage", "not-a-token!!")]}
    cases += standard(ctx, "POST", f"{CLUSTERS}/events", events, fields_from("", compute.ClustersAPI.events), extra=events_extra)
    for name, method in (("start", compute.ClustersAPI.start), ("restart", compute.ClustersAPI.restart), ("delete", compute.ClustersAPI.delete), ("permanent-delete", compute.ClustersAPI.permanent_delete),
                         ("pin", compute.ClustersAPI.pin), ("unpin", compute.ClustersAPI.unpin), ("change-owner", compute.ClustersAPI.change_owner)):
        body = lambda: {"cluster_id": "kiln-no-such-cluster", "owner_username": ctx.admin_name}
        cases += [c for c in standard(ctx, "POST", f"{CLUSTERS}/{name}", body, fields_from("", method), unknown=False) if c.field != "(method)"]
    cases += query_cases(route("GET", f"{CLUSTERS}/list"), f"{CLUSTERS}/list", "", {"page_size": "size", "page_token": "token", "filter_by.is_pinned": "bool", "filter_by.cluster_states": "enum", "filter_by.cluster_sources": "enum"})
    cases += query_cases(route("GET", f"{CLUSTERS}/get"), f"{CLUSTERS}/get", "", {"cluster_id": "token"})

    def after(case: Case, answer):
        created = (answer or {}).get("cluster_id")
        cluster_id = created or ctx.target("cluster")
        ctx.check("SDK clusters.get", lambda: ctx.sdk.clusters.get(cluster_id), allow_not_found=True)
        ctx.check("SDK clusters.list", lambda: capped(ctx.sdk.clusters.list()))
        if not created:
            # Each accepted edit adds events that echo the spec (1 MiB values too): one small page.
            ctx.check("SDK clusters.events", lambda: capped(ctx.sdk.clusters.events(cluster_id, limit=5), 5), allow_not_found=True)
        if created:
            ctx.quiet("POST", f"{CLUSTERS}/permanent-delete", {"cluster_id": created})
        elif case.path.endswith("/edit"):
            ctx.quiet("POST", f"{CLUSTERS}/edit", {**cluster_spec(ctx), "cluster_id": target})

    return Probe(cases, after)


# --- command execution 1.2 --------------------------------------------------------------------------


def probe_commands(ctx) -> Probe:
    """On a cluster that really runs (ctx.target("running_cluster")) and one context of it."""
    base = "/api/1.2"
    cluster_id, context_id = ctx.target("running_cluster"), ctx.target("context")
    extra_language = {"language": [Mutation("a language Kiln does not run", "scala", EITHER, False)]}
    cases = standard(ctx, "POST", f"{base}/contexts/create", lambda: {"clusterId": cluster_id, "language": "python"}, fields_from("", compute.CommandExecutionAPI.create), extra=extra_language)
    execute = lambda: {"clusterId": cluster_id, "contextId": context_id, "language": "python", "command": "1 + 1"}
    cases += standard(ctx, "POST", f"{base}/commands/execute", execute, fields_from("", compute.CommandExecutionAPI.execute),
                      extra={**extra_language, "command": [Mutation("1 MiB command", "#" + "x" * MIB, EITHER, False), Mutation("NUL in the command", "1\u0000", EITHER, False)]})
    cases += standard(ctx, "POST", f"{base}/contexts/destroy", lambda: {"clusterId": cluster_id, "contextId": "kiln-no-such-context"}, fields_from("", compute.CommandExecutionAPI.destroy), unknown=False)
    cases += standard(ctx, "POST", f"{base}/commands/cancel", lambda: {"clusterId": cluster_id, "contextId": context_id, "commandId": "kiln-no-such-command"}, fields_from("", compute.CommandExecutionAPI.cancel), unknown=False)
    cases += query_cases(route("GET", f"{base}/contexts/status"), f"{base}/contexts/status", f"clusterId={cluster_id}&contextId={context_id}", {"clusterId": "token", "contextId": "token"})
    cases += query_cases(route("GET", f"{base}/commands/status"), f"{base}/commands/status", f"clusterId={cluster_id}&contextId={context_id}&commandId=x", {"clusterId": "token", "contextId": "token", "commandId": "token"})

    def after(case: Case, answer):
        created = (answer or {}).get("id")
        ctx.check("SDK clusters.get", lambda: ctx.sdk.clusters.get(cluster_id))
        if case.path.endswith("/contexts/create") and created:
            ctx.check("SDK command_execution.context_status", lambda: ctx.sdk.command_execution.context_status(cluster_id, created))
            ctx.quiet("POST", f"{base}/contexts/destroy", {"clusterId": cluster_id, "contextId": created})
        if case.path.endswith("/commands/execute") and created:
            ctx.check("SDK command_execution.command_status", lambda: ctx.sdk.command_execution.command_status(cluster_id, context_id, created))

    return Probe(cases, after)


def part(builder, *fragments: str, exclude: bool = False):
    """The cases of `builder`'s probe whose route holds one of `fragments` (or none of them):
    big probes run as two tests, each well inside the suite's per-test time limit."""
    def build(ctx) -> Probe:
        probe = builder(ctx)
        keep = [c for c in probe.cases if any(f in c.route for f in fragments) != exclude]
        return Probe(keep, probe.after_accept, probe.taint)
    return build


PROBES = {
    "jobs-create": probe_jobs_create,
    "jobs-reset-update": probe_jobs_reset_update,
    "jobs-run-now-submit": part(probe_jobs_runs, "/run-now", "/runs/submit"),
    "jobs-runs-repair-cancel-list": part(probe_jobs_runs, "/run-now", "/runs/submit", exclude=True),
    "clusters-create-edit": part(probe_clusters, "/create", "/edit"),
    "clusters-resize-events-actions": part(probe_clusters, "/create", "/edit", exclude=True),
    "commands-1.2": probe_commands,
}
