"""A crash of Kiln while a run is active: after the restart the run has ended INTERNAL_ERROR
with a message saying why, nothing silently vanishes, and the cluster is back."""

import time

from databricks.sdk.service import jobs
from databricks.sdk.service.workspace import Language

import kilnlib


def test_runs_active_during_a_crash_end_as_internal_error(kiln_bin, tmp_path):
    server = kilnlib.start_kiln(kiln_bin, tmp_path)
    try:
        admin = server.admin_client()
        cluster = admin.clusters.create_and_wait(cluster_name="crash", spark_version="15.4.x-scala2.12", num_workers=0)
        admin.workspace.upload("/Shared/sleep", b"import time\ntime.sleep(120)", language=Language.PYTHON)
        job = admin.jobs.create(name="crash", tasks=[jobs.Task(task_key="s", existing_cluster_id=cluster.cluster_id, notebook_task=jobs.NotebookTask(notebook_path="/Shared/sleep"))])
        run_id = admin.jobs.run_now(job.job_id).response.run_id
        while admin.jobs.get_run(run_id).tasks[0].state.life_cycle_state != jobs.RunLifeCycleState.RUNNING:
            time.sleep(0.1)

        server = kilnlib.crash_and_restart(kiln_bin, server)
        admin = server.admin_client()
        run = admin.jobs.get_run(run_id)
        assert run.state.life_cycle_state == jobs.RunLifeCycleState.INTERNAL_ERROR
        assert "Kiln stopped while this run was active" in run.state.state_message
        assert run.tasks[0].state.life_cycle_state == jobs.RunLifeCycleState.INTERNAL_ERROR and run.end_time > 0
        assert admin.clusters.wait_get_cluster_running(cluster.cluster_id).state.value == "RUNNING", "clusters come back"
        again = admin.jobs.run_now(job.job_id).response.run_id
        admin.jobs.cancel_run(again)
    finally:
        problems = kilnlib.stop_kiln(server)
    assert not problems, problems
