"""Jobs through the official SDK: jobs, multi-task runs that execute real notebooks, Python
files and SQL, conditions, retries, timeouts, cancel, repair, queues, job clusters, nested
jobs and loops, task values, permissions, and the `kiln jobs` trigger-and-poll client.
"""

import json
import os
import subprocess
import time

import pytest
from databricks.sdk import errors
from databricks.sdk.service import compute, iam, jobs
from databricks.sdk.service.workspace import ImportFormat, Language

from kilnlib import server_message, starter_warehouse_id, unique

SPARK_VERSION = "15.4.x-scala2.12"


@pytest.fixture(scope="module")
def cluster_id(admin):
    details = admin.clusters.create_and_wait(cluster_name=unique("jobs"), spark_version=SPARK_VERSION, num_workers=0)
    yield details.cluster_id
    admin.clusters.permanent_delete(details.cluster_id)


@pytest.fixture(scope="module")
def folder(admin):
    path = f"/Shared/{unique('jobs')}"
    admin.workspace.mkdirs(path)
    yield path
    admin.workspace.delete(path, recursive=True)


def notebook(admin, path, source, language=Language.PYTHON):
    admin.workspace.upload(path, source.encode(), language=language, overwrite=True)
    return path


def notebook_task(key, path, cluster_id, **kwargs):
    return jobs.Task(task_key=key, existing_cluster_id=cluster_id, notebook_task=jobs.NotebookTask(notebook_path=path, base_parameters=kwargs.pop("params", None)), **kwargs)


def outputs(admin, run):
    return {task.task_key: admin.jobs.get_run_output(task.run_id) for task in run.tasks}


def test_create_get_update_reset_delete_and_list_pages(admin, folder, cluster_id):
    path = notebook(admin, f"{folder}/noop", "1")
    created = admin.jobs.create(name=unique("crud"), tasks=[notebook_task("a", path, cluster_id)], max_concurrent_runs=2, tags={"team": "data"})
    job = admin.jobs.get(created.job_id)
    assert job.settings.max_concurrent_runs == 2 and job.settings.tasks[0].task_key == "a" and job.creator_user_name
    admin.jobs.update(created.job_id, new_settings=jobs.JobSettings(tasks=[notebook_task("b", path, cluster_id)], timeout_seconds=600), fields_to_remove=["tags"])
    updated = admin.jobs.get(created.job_id).settings
    assert [t.task_key for t in updated.tasks] == ["a", "b"] and updated.timeout_seconds == 600 and not updated.tags
    admin.jobs.reset(created.job_id, new_settings=jobs.JobSettings(name="reset", tasks=[notebook_task("c", path, cluster_id)]))
    assert [t.task_key for t in admin.jobs.get(created.job_id).settings.tasks] == ["c"]

    name = unique("paged")
    ids = {admin.jobs.create(name=name, tasks=[notebook_task("a", path, cluster_id)]).job_id for _ in range(105)}
    listed = [j.job_id for j in admin.jobs.list(name=name, limit=100)]
    assert len(listed) == 105 and set(listed) == ids, "the SDK follows next_page_token past 100"
    with pytest.raises(errors.InvalidParameterValue):
        next(iter(admin.jobs.list(limit=101)))
    for job_id in ids | {created.job_id}:
        admin.jobs.delete(job_id)
    with pytest.raises(errors.NotFound) as missing:  # a 400 the SDK maps by its message
        admin.jobs.get(created.job_id)
    assert "does not exist" in server_message(missing.value)


def test_bad_settings_are_refused_naming_the_field(admin, cluster_id):
    cases = [
        ([jobs.Task(task_key="a", existing_cluster_id=cluster_id)], "must set one task type"),
        ([notebook_task("a", "/x", cluster_id), notebook_task("b", "/x", cluster_id, depends_on=[jobs.TaskDependency(task_key="nope")])], "'nope' is not a task"),
        ([notebook_task("a", "/x", cluster_id, depends_on=[jobs.TaskDependency(task_key="b")]), notebook_task("b", "/x", cluster_id, depends_on=[jobs.TaskDependency(task_key="a")])], "cycle"),
    ]
    for tasks, fragment in cases:
        with pytest.raises(errors.InvalidParameterValue) as bad:
            admin.jobs.create(name="bad", tasks=tasks)
        assert fragment in server_message(bad.value)


def test_multi_task_run_with_parameters_task_values_and_conditions(admin, folder, cluster_id):
    produce = notebook(admin, f"{folder}/produce", "n = int(dbutils.widgets.get('n'))\ndbutils.jobs.taskValues.set('rows', n * 2)\nprint('produced')\ndbutils.notebook.exit(f'made {n * 2}')")
    consume = notebook(admin, f"{folder}/consume", "rows = dbutils.jobs.taskValues.get('produce', 'rows')\ndbutils.notebook.exit(f\"{dbutils.widgets.get('label')}:{rows}\")")
    job = admin.jobs.create(
        name=unique("dag"),
        parameters=[jobs.JobParameterDefinition(name="n", default="5")],
        tasks=[
            notebook_task("produce", produce, cluster_id),
            jobs.Task(task_key="big", depends_on=[jobs.TaskDependency(task_key="produce")], condition_task=jobs.ConditionTask(op=jobs.ConditionTaskOp.GREATER_THAN, left="{{tasks.produce.values.rows}}", right="15")),
            notebook_task("consume", consume, cluster_id, params={"label": "run {{job.run_id}}"}, depends_on=[jobs.TaskDependency(task_key="big", outcome="true")]),
            notebook_task("small", consume, cluster_id, params={"label": "small"}, depends_on=[jobs.TaskDependency(task_key="big", outcome="false")]),
        ],
    )
    run = admin.jobs.run_now_and_wait(job.job_id, job_parameters={"n": "21"})
    assert run.state.life_cycle_state == jobs.RunLifeCycleState.TERMINATED and run.state.result_state == jobs.RunResultState.SUCCESS, run.state
    assert run.end_time > run.start_time and run.run_page_url and run.number_in_job == 1
    states = {t.task_key: t.state.result_state for t in run.tasks}
    assert states == {"produce": jobs.RunResultState.SUCCESS, "big": jobs.RunResultState.SUCCESS, "consume": jobs.RunResultState.SUCCESS, "small": jobs.RunResultState.EXCLUDED}
    assert next(t for t in run.tasks if t.task_key == "big").condition_task.outcome == "true"
    got = outputs(admin, run)
    assert got["produce"].notebook_output.result == "made 42"
    assert got["consume"].notebook_output.result == f"run {run.run_id}:42"
    assert got["produce"].metadata.cluster_instance.cluster_id == cluster_id
    with pytest.raises(errors.InvalidParameterValue) as multi:
        admin.jobs.get_run_output(run.run_id)
    assert "multiple tasks" in server_message(multi.value)
    admin.jobs.delete(job.job_id)


def test_failure_error_trace_and_repair(admin, folder, cluster_id):
    flaky = notebook(admin, f"{folder}/flaky", "if dbutils.widgets.get('mode') == 'fail':\n    raise ValueError('bad input')\ndbutils.notebook.exit('fixed')")
    after = notebook(admin, f"{folder}/after", "dbutils.notebook.exit('after')")
    job = admin.jobs.create(
        name=unique("repair"),
        tasks=[notebook_task("flaky", flaky, cluster_id, params={"mode": "fail"}), notebook_task("after", after, cluster_id, depends_on=[jobs.TaskDependency(task_key="flaky")])],
    )
    run = admin.jobs.run_now_and_wait(job.job_id)
    assert run.state.result_state == jobs.RunResultState.FAILED and "flaky" in run.state.state_message
    failed = outputs(admin, run)
    assert failed["flaky"].error == "ValueError: bad input" and "raise ValueError" in failed["flaky"].error_trace
    assert {t.task_key: t.state.result_state for t in run.tasks}["after"] == jobs.RunResultState.UPSTREAM_FAILED

    notebook(admin, flaky, "dbutils.notebook.exit('fixed')")
    repaired = admin.jobs.repair_run_and_wait(run.run_id, rerun_all_failed_tasks=True, rerun_dependent_tasks=True)
    assert repaired.state.result_state == jobs.RunResultState.SUCCESS
    latest = {}
    for task in repaired.tasks:
        if task.attempt_number >= latest.get(task.task_key, (-1, None))[0]:
            latest[task.task_key] = (task.attempt_number, task)
    assert latest["flaky"][0] == 1 and latest["after"][0] == 1
    assert admin.jobs.get_run_output(latest["flaky"][1].run_id).notebook_output.result == "fixed"
    assert [h.type for h in repaired.repair_history][-1] == jobs.RepairHistoryItemType.REPAIR
    admin.jobs.delete(job.job_id)


def test_python_file_and_sql_file_tasks(admin, folder, cluster_id, server):
    admin.workspace.upload(f"{folder}/script.py", b"import sys\nprint('args', sys.argv[1:])\n", format=ImportFormat.AUTO, overwrite=True)
    dbfs_path = f"dbfs:/tmp/{unique('job')}.py"
    admin.dbutils.fs.put(dbfs_path, "print('from dbfs')", True)
    table = unique("job_t").replace("-", "_")
    admin.workspace.upload(f"{folder}/query.sql", f"CREATE TABLE main.default.{table} AS SELECT 1 AS n;\nSELECT count(*) AS c FROM main.default.{table};".encode(), format=ImportFormat.AUTO, overwrite=True)
    run = admin.jobs.submit_and_wait(
        run_name="files",
        tasks=[
            jobs.SubmitTask(task_key="script", existing_cluster_id=cluster_id, spark_python_task=jobs.SparkPythonTask(python_file=f"{folder}/script.py", parameters=["a", "b"])),
            jobs.SubmitTask(task_key="from_dbfs", existing_cluster_id=cluster_id, spark_python_task=jobs.SparkPythonTask(python_file=dbfs_path)),
            jobs.SubmitTask(task_key="sql", sql_task=jobs.SqlTask(warehouse_id=starter_warehouse_id(admin), file=jobs.SqlTaskFile(path=f"{folder}/query.sql"))),
        ],
    )
    assert run.state.result_state == jobs.RunResultState.SUCCESS, [(t.task_key, t.state.state_message) for t in run.tasks]
    got = outputs(admin, run)
    assert got["script"].logs == "args ['a', 'b']"
    assert got["from_dbfs"].logs == "from dbfs"
    assert got["sql"].sql_output.query_output.warehouse_id and got["sql"].logs == "c\n1"


def test_retries_timeouts_and_cancel(admin, folder, cluster_id):
    marker = f"dbfs:/tmp/{unique('retry')}"
    retry = notebook(admin, f"{folder}/retry", f"import os\ntry:\n    dbutils.fs.head('{marker}')\nexcept Exception:\n    dbutils.fs.put('{marker}', 'x', True)\n    raise RuntimeError('first attempt fails')\ndbutils.notebook.exit('second attempt')")
    sleepy = notebook(admin, f"{folder}/sleepy", "import time\ntime.sleep(30)")
    run = admin.jobs.submit_and_wait(
        run_name="retries",
        tasks=[
            jobs.SubmitTask(task_key="retry", existing_cluster_id=cluster_id, notebook_task=jobs.NotebookTask(notebook_path=retry), max_retries=1, min_retry_interval_millis=100),
            jobs.SubmitTask(task_key="slow", existing_cluster_id=cluster_id, notebook_task=jobs.NotebookTask(notebook_path=sleepy), timeout_seconds=1),
        ],
    )
    attempts = sorted((t.attempt_number, t.state.result_state) for t in run.tasks if t.task_key == "retry")
    assert attempts == [(0, jobs.RunResultState.FAILED), (1, jobs.RunResultState.SUCCESS)]
    assert [t.state.result_state for t in run.tasks if t.task_key == "slow"] == [jobs.RunResultState.TIMEDOUT]
    assert run.state.result_state == jobs.RunResultState.FAILED

    started = admin.jobs.submit(run_name="cancel", tasks=[jobs.SubmitTask(task_key="slow", existing_cluster_id=cluster_id, notebook_task=jobs.NotebookTask(notebook_path=sleepy))])
    time.sleep(1)
    begun = time.time()
    cancelled = admin.jobs.cancel_run_and_wait(started.response.run_id)
    assert cancelled.state.result_state == jobs.RunResultState.CANCELED and time.time() - begun < 15


def test_max_concurrent_runs_queue_and_skip(admin, folder, cluster_id):
    sleepy = notebook(admin, f"{folder}/short-sleep", "import time\ntime.sleep(2)")
    queued_job = admin.jobs.create(name=unique("queue"), max_concurrent_runs=1, queue=jobs.QueueSettings(enabled=True), tasks=[notebook_task("s", sleepy, cluster_id)])
    first = admin.jobs.run_now(queued_job.job_id).response.run_id
    second = admin.jobs.run_now(queued_job.job_id).response.run_id
    assert admin.jobs.get_run(second).state.life_cycle_state == jobs.RunLifeCycleState.QUEUED
    assert [r.run_id for r in admin.jobs.list_runs(job_id=queued_job.job_id, active_only=True)] == [second, first]
    done = admin.jobs.wait_get_run_job_terminated_or_skipped(second)
    assert done.state.result_state == jobs.RunResultState.SUCCESS and admin.jobs.get_run(first).end_time <= done.start_time + done.queue_duration if done.queue_duration else True

    skipping = admin.jobs.create(name=unique("skip"), max_concurrent_runs=1, tasks=[notebook_task("s", sleepy, cluster_id)])
    admin.jobs.run_now(skipping.job_id)
    skipped = admin.jobs.run_now_and_wait(skipping.job_id)
    assert skipped.state.life_cycle_state == jobs.RunLifeCycleState.SKIPPED and "maximum concurrent runs" in skipped.state.state_message
    for job_id in [queued_job.job_id, skipping.job_id]:
        admin.jobs.cancel_all_runs(job_id=job_id)
        admin.jobs.delete(job_id)


def test_job_clusters_run_job_for_each_and_notebook_run(admin, folder, cluster_id):
    child_nb = notebook(admin, f"{folder}/child", "dbutils.notebook.exit('child:' + dbutils.widgets.get('x'))")
    parent_nb = notebook(admin, f"{folder}/parent", "dbutils.notebook.exit(dbutils.notebook.run('./child', 60, {'x': dbutils.widgets.get('item')}))")
    inner = admin.jobs.create(name=unique("inner"), tasks=[notebook_task("only", child_nb, cluster_id, params={"x": "inner"})])
    outer = admin.jobs.create(
        name=unique("outer"),
        job_clusters=[jobs.JobCluster(job_cluster_key="shared", new_cluster=compute.ClusterSpec(spark_version=SPARK_VERSION, num_workers=0))],
        tasks=[
            jobs.Task(task_key="on_job_cluster", job_cluster_key="shared", notebook_task=jobs.NotebookTask(notebook_path=child_nb, base_parameters={"x": "jc"})),
            jobs.Task(task_key="nested_job", run_job_task=jobs.RunJobTask(job_id=inner.job_id)),
            jobs.Task(
                task_key="loop",
                for_each_task=jobs.ForEachTask(inputs='["a", "b", "c"]', concurrency=2, task=notebook_task("iteration", parent_nb, cluster_id, params={"item": "{{input}}"})),
            ),
        ],
    )
    run = admin.jobs.run_now_and_wait(outer.job_id)
    assert run.state.result_state == jobs.RunResultState.SUCCESS, [(t.task_key, t.state.state_message) for t in run.tasks]
    by_key = {t.task_key: t for t in run.tasks}
    assert admin.jobs.get_run_output(by_key["on_job_cluster"].run_id).notebook_output.result == "child:jc"
    job_cluster = admin.clusters.get(by_key["on_job_cluster"].cluster_instance.cluster_id)
    assert job_cluster.cluster_source == compute.ClusterSource.JOB and job_cluster.state in (compute.State.TERMINATING, compute.State.TERMINATED)
    nested = admin.jobs.get_run_output(by_key["nested_job"].run_id).run_job_output.run_id
    assert admin.jobs.get_run(nested).job_id == inner.job_id
    loop = admin.jobs.get_run(by_key["loop"].run_id)
    results = sorted(admin.jobs.get_run_output(i.run_id).notebook_output.result for i in loop.iterations)
    assert results == ["child:a", "child:b", "child:c"], "each iteration ran notebook.run on the same cluster"
    for job_id in [outer.job_id, inner.job_id]:
        admin.jobs.delete(job_id)


def test_job_permissions(admin, folder, cluster_id, non_admin):
    path = notebook(admin, f"{folder}/perm", "dbutils.notebook.exit('ok')")
    job = admin.jobs.create(name=unique("perm"), tasks=[notebook_task("a", path, cluster_id)])
    sp = non_admin.client
    with pytest.raises(errors.NotFound):
        sp.jobs.get(job.job_id)
    assert job.job_id not in {j.job_id for j in sp.jobs.list()}
    admin.jobs.update_permissions(str(job.job_id), access_control_list=[jobs.JobAccessControlRequest(service_principal_name=non_admin.name, permission_level=jobs.JobPermissionLevel.CAN_VIEW)])
    assert sp.jobs.get(job.job_id).job_id == job.job_id
    with pytest.raises(errors.PermissionDenied) as denied:
        sp.jobs.run_now(job.job_id)
    assert "CAN_MANAGE_RUN" in server_message(denied.value)
    admin.jobs.update_permissions(str(job.job_id), access_control_list=[jobs.JobAccessControlRequest(service_principal_name=non_admin.name, permission_level=jobs.JobPermissionLevel.CAN_MANAGE_RUN)])
    run = sp.jobs.run_now_and_wait(job.job_id)
    assert run.state.result_state == jobs.RunResultState.SUCCESS, "the run executes as the job's owner"
    with pytest.raises(errors.PermissionDenied):
        sp.jobs.delete(job.job_id)
    with pytest.raises(errors.PermissionDenied) as run_as:
        sp.jobs.create(name="x", run_as=jobs.JobRunAs(user_name=admin.current_user.me().user_name), tasks=[notebook_task("a", path, cluster_id)])
    assert "run_as" in server_message(run_as.value)
    admin.jobs.delete_run(run.run_id)
    with pytest.raises(errors.NotFound):
        admin.jobs.get_run(run.run_id)
    admin.jobs.delete(job.job_id)


def test_kiln_jobs_cli_triggers_and_polls(server, admin, folder, cluster_id, kiln_bin):
    path = notebook(admin, f"{folder}/cli", "print('working')\ndbutils.notebook.exit('cli says hi')")
    job = admin.jobs.create(name=unique("cli"), tasks=[notebook_task("only", path, cluster_id)])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "KILN_"))}
    env.update({"DATABRICKS_HOST": server.host, "DATABRICKS_TOKEN": server.admin_token, "DATABRICKS_CONFIG_FILE": "/nonexistent"})
    done = subprocess.run([kiln_bin, "jobs", "run-now", "--job-id", str(job.job_id), "--wait", "--poll-start", "50ms", "--poll-max", "500ms"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "cli says hi" in done.stdout and "SUCCESS" in done.stdout
    assert server.admin_token not in done.stdout + done.stderr
    failing = json.dumps({"run_name": "cli-fail", "tasks": [{"task_key": "x", "existing_cluster_id": cluster_id, "notebook_task": {"notebook_path": notebook(admin, f"{folder}/cli-fail", "raise ValueError('nope')")}}]})
    failed = subprocess.run([kiln_bin, "jobs", "submit", "--json", "-", "--wait", "--quiet"], input=failing, env=env, capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1 and "ValueError: nope" in failed.stdout
    admin.jobs.delete(job.job_id)


def test_webhook_notifications_on_start_and_success(admin, folder, cluster_id):
    import http.server
    import threading

    from databricks.sdk.service import settings

    received = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers.get("Authorization"), json.loads(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{hook.server_address[1]}/hook?token=shh"
    destination = admin.notification_destinations.create(
        display_name=unique("hook"), config=settings.Config(generic_webhook=settings.GenericWebhookConfig(url=url, username="kiln", password="pw"))
    )
    try:
        shown = admin.notification_destinations.get(destination.id)
        assert shown.config.generic_webhook.url_set and not shown.config.generic_webhook.url, "the address is never shown again"
        assert destination.id in {d.id for d in admin.notification_destinations.list()}
        path = notebook(admin, f"{folder}/hooked", "dbutils.notebook.exit('ok')")
        hooks = jobs.WebhookNotifications(on_start=[jobs.Webhook(id=destination.id)], on_success=[jobs.Webhook(id=destination.id)])
        job = admin.jobs.create(name=unique("hooked"), webhook_notifications=hooks, tasks=[notebook_task("a", path, cluster_id)])
        run = admin.jobs.run_now_and_wait(job.job_id)
        deadline = time.time() + 10
        while len(received) < 2 and time.time() < deadline:
            time.sleep(0.05)
        events = sorted(payload["event_type"] for _, payload in received)
        assert events == ["jobs.on_start", "jobs.on_success"]
        assert all(payload["run"]["run_id"] == run.run_id and payload["job"]["job_id"] == job.job_id for _, payload in received)
        assert all(auth == "Basic a2lsbjpwdw==" for auth, _ in received), "basic auth kiln:pw"
        admin.jobs.delete(job.job_id)
    finally:
        admin.notification_destinations.delete(destination.id)
        hook.shutdown()


def test_sql_task_runs_a_saved_query(admin, non_admin):
    from databricks.sdk.service import sql

    warehouse = starter_warehouse_id(admin)
    saved = admin.queries.create(query=sql.CreateQueryRequestQuery(display_name=unique("q"), query_text="SELECT current_catalog() AS c, current_schema() AS s", warehouse_id=warehouse, catalog="main", schema="information_schema"))
    try:
        assert admin.queries.get(saved.id).query_text.startswith("SELECT current_catalog()")
        assert saved.id in {q.id for q in admin.queries.list()}
        with pytest.raises(errors.NotFound):
            non_admin.client.queries.get(saved.id)
        admin.queries.update(saved.id, update_mask="description", query=sql.UpdateQueryRequestQuery(description="nations"))
        assert admin.queries.get(saved.id).description == "nations"
        run = admin.jobs.submit_and_wait(run_name="saved", tasks=[jobs.SubmitTask(task_key="q", sql_task=jobs.SqlTask(warehouse_id=warehouse, query=jobs.SqlTaskQuery(query_id=saved.id)))])
        assert run.state.result_state == jobs.RunResultState.SUCCESS, run.tasks[0].state.state_message
        output = admin.jobs.get_run_output(run.tasks[0].run_id)
        assert output.sql_output.query_output.query_text.startswith("SELECT current_catalog()")
        assert output.logs == "c\ts\nmain\tinformation_schema", "the query runs in its catalog and schema"
    finally:
        admin.queries.delete(saved.id)


def test_runs_execute_as_run_as(admin, folder, cluster_id, non_admin):
    """An admin sets run_as to a service principal: the code runs with its identity and its
    rights, and it reaches its own run (task values) without any ACL on the job."""
    admin.clusters.update_permissions(
        cluster_id, access_control_list=[compute.ClusterAccessControlRequest(service_principal_name=non_admin.name, permission_level=compute.ClusterPermissionLevel.CAN_ATTACH_TO)]
    )
    who = notebook(admin, f"{folder}/who", "dbutils.jobs.taskValues.set('me', spark.sql('SELECT current_user() AS u').first().u)")
    echo = notebook(admin, f"{folder}/echo", "dbutils.notebook.exit(dbutils.jobs.taskValues.get('who', 'me'))")
    job = admin.jobs.create(
        name=unique("run-as"),
        run_as=jobs.JobRunAs(service_principal_name=non_admin.name),
        tasks=[notebook_task("who", who, cluster_id), notebook_task("echo", echo, cluster_id, depends_on=[jobs.TaskDependency(task_key="who")])],
    )
    assert admin.jobs.get(job.job_id).run_as_user_name == non_admin.name
    run = admin.jobs.run_now_and_wait(job.job_id)
    assert run.state.result_state == jobs.RunResultState.SUCCESS, [(t.task_key, t.state.state_message) for t in run.tasks]
    echo_run = next(t for t in run.tasks if t.task_key == "echo")
    assert admin.jobs.get_run_output(echo_run.run_id).notebook_output.result == non_admin.name
    admin.jobs.delete(job.job_id)
