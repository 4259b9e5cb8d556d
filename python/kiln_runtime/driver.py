"""Entry point of a Kiln cluster driver: `python3 -m kiln_runtime.driver`.

Connects to the server's Unix socket (KILN_DRIVER_SOCKET) and speaks newline-delimited
JSON. A reader thread takes messages off the socket; commands run one at a time, in
arrival order, in the main thread, so a cancel can interrupt them with SIGINT.
This process's own stdout and stderr are the cluster's driver log.
"""

import json
import logging
import os
import platform
import signal
import socket
import sys
import threading

from .executor import Executor

log = logging.getLogger("kiln_runtime")

STOP_GRACE_SECONDS = 10.0


class Driver:
    def __init__(self, sock, executor, cluster_id):
        self._sock = sock
        self._executor = executor
        self._cluster_id = cluster_id
        self._write_lock = threading.Lock()
        self._state = threading.Condition()
        self._queue = []  # execute and destroy_context messages, in arrival order
        self._running_id = None
        self._stopping = False

    def send(self, message):
        line = json.dumps(message, ensure_ascii=False, allow_nan=False, default=str) + "\n"
        with self._write_lock:
            self._sock.sendall(line.encode("utf-8"))

    def _send_finished(self, command_id, status, results, exit_value):
        self.send({"op": "finished", "command_id": command_id, "status": status,
                   "results": results, "exit_value": exit_value})

    def on_sigint(self, signum, frame):
        # Only a cancel of the running command interrupts, and only inside user code;
        # a stray SIGINT (e.g. Ctrl-C aimed at the server's process group) is ignored.
        if self._executor.in_user_code and self._executor.cancel_requested:
            raise KeyboardInterrupt

    def _interrupt_running(self):
        self._executor.cancel_requested = True
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    def _read_loop(self):
        try:
            for raw in self._sock.makefile("rb"):
                try:
                    message = json.loads(raw.decode("utf-8"))
                except ValueError:
                    log.warning("ignoring a malformed protocol line")
                    continue
                if isinstance(message, dict):
                    self._dispatch(message)
        except OSError as err:
            log.warning("driver socket failed: %s", err)
        self._stop("the server closed the driver socket")

    def _dispatch(self, message):
        op = message.get("op")
        if op in ("execute", "destroy_context"):
            with self._state:
                if not self._stopping:
                    self._queue.append(message)
                    self._state.notify()
        elif op == "cancel":
            self._cancel(message.get("command_id"))
        elif op == "shutdown":
            self._stop("shutdown requested")
        else:
            log.warning("ignoring unknown op %r", op)

    def _cancel(self, command_id):
        with self._state:
            queued = [m for m in self._queue if m.get("op") == "execute" and m.get("command_id") == command_id]
            if not queued:
                if command_id is not None and command_id == self._running_id:
                    self._interrupt_running()
                return
            self._queue.remove(queued[0])
        self._send_finished(command_id, "Cancelled", None, None)

    def _stop(self, reason):
        with self._state:
            if self._stopping:
                return
            self._stopping = True
            log.info("stopping: %s", reason)
            dropped = [m for m in self._queue if m.get("op") == "execute"]
            self._queue.clear()
            if self._running_id is not None:
                self._interrupt_running()
            self._state.notify_all()
        for message in dropped:
            try:
                self._send_finished(message.get("command_id"), "Cancelled", None, None)
            except OSError:
                break
        # User code that swallows KeyboardInterrupt must not keep the cluster alive.
        timer = threading.Timer(STOP_GRACE_SECONDS, os._exit, args=(0,))
        timer.daemon = True
        timer.start()

    def serve(self):
        # The nonce proves to Kiln that this is the process it started.
        self.send({"op": "hello", "cluster_id": self._cluster_id, "pid": os.getpid(),
                   "nonce": os.environ.get("KILN_DRIVER_NONCE", ""),
                   "python_version": platform.python_version()})
        threading.Thread(target=self._read_loop, name="kiln-socket-reader", daemon=True).start()
        while True:
            with self._state:
                while not self._queue and not self._stopping:
                    self._state.wait()
                if not self._queue:
                    return
                message = self._queue.pop(0)
                if message["op"] == "execute":
                    self._running_id = message.get("command_id")
                    self._executor.cancel_requested = False
            if message["op"] == "destroy_context":
                self._executor.destroy_context(message.get("context_id"))
                continue
            self._run(message)

    def _run(self, message):
        command_id = message.get("command_id")
        try:
            self.send({"op": "started", "command_id": command_id})
            try:
                status, results, exit_value = self._executor.execute(message)
            except Exception as err:  # a runtime bug must not take the cluster down
                log.exception("command %s failed inside the runtime", command_id)
                status, exit_value = "Error", None
                results = {"resultType": "error", "summary": f"Kiln runtime error: {type(err).__name__}",
                           "cause": "The Kiln Python runtime failed; see the driver log."}
            with self._state:
                self._running_id = None
            self._send_finished(command_id, status, results, exit_value)
        except OSError as err:
            log.warning("cannot answer command %s: %s", command_id, err)
            self._stop("the driver socket is gone")


def main():
    logging.basicConfig(stream=sys.__stderr__, level=logging.INFO,
                        format="%(asctime)s %(levelname)s kiln_runtime: %(message)s")
    socket_path = os.environ["KILN_DRIVER_SOCKET"]
    executor = Executor(os.environ.get("KILN_HOST", "http://127.0.0.1:8080"), os.environ.get("KILN_CLUSTER_ID", ""))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(socket_path)
    driver = Driver(sock, executor, os.environ.get("KILN_CLUSTER_ID", ""))
    signal.signal(signal.SIGINT, driver.on_sigint)
    log.info("driver %d connected to %s", os.getpid(), socket_path)
    driver.serve()
    log.info("driver exiting")
    return 0


if __name__ == "__main__":
    sys.exit(main())
