"""Entry point of a Kiln cluster driver: `python3 -m kiln_runtime.driver`.

Connects to the server's Unix socket (KILN_DRIVER_SOCKET) and speaks newline-delimited
JSON. Like Databricks' Python REPL per notebook, every execution context runs in its own
process, a context worker, forked from the driver on the context's first command: contexts
run concurrently (a job's notebooks, or a notebook and the child run it started with
dbutils.notebook.run), and a context whose process dies takes only itself down.

The driver runs no user code. A single-threaded selector loop routes execute and cancel to
the context's worker over a socket pair (the same JSON lines), forwards the worker's
started and finished, and reports the commands of a worker that died. Being
single-threaded is what makes forking it safe: no other thread can hold a lock that the
child would inherit locked. A worker takes commands off its socket in a reader thread and
runs them one at a time in its main thread, so a cancel can interrupt them with SIGINT.
This process's own stdout and stderr, shared with the workers, are the cluster's driver log.
"""

import ctypes
import json
import logging
import os
import platform
import selectors
import signal
import socket
import sys
import threading
import time

from .executor import Executor

log = logging.getLogger("kiln_runtime")

# How long a worker asked to stop (SIGTERM) may take before it is killed.
TERM_GRACE_SECONDS = 2.0
INTERRUPT_RETRY_SECONDS = 0.1
READ_SIZE = 1 << 16
PR_SET_PDEATHSIG = 1


def _encode(message):
    return (json.dumps(message, ensure_ascii=False, allow_nan=False, default=str) + "\n").encode("utf-8")


def _finished(command_id, status, results=None, exit_value=None):
    return {"op": "finished", "command_id": command_id, "status": status, "results": results, "exit_value": exit_value}


def _load_prctl():
    # Resolved once in the driver, so a fork does not pay for it.
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl()


class ContextWorker:
    """The forked process of one execution context: runs its commands in arrival order."""

    def __init__(self, sock, executor):
        self._sock = sock
        self._executor = executor
        self._write_lock = threading.Lock()
        self._state = threading.Condition()
        self._queue = []  # execute messages, in arrival order
        self._running_id = None
        self._interrupt_seen = False  # the running command's cancel reached the SIGINT handler

    def send(self, message):
        line = _encode(message)
        with self._write_lock:
            try:
                self._sock.sendall(line)
            except OSError:
                os._exit(0)  # the driver is gone: no one is left to report to

    def on_sigint(self, signum, frame):
        # Only a cancel of the running command interrupts, and only inside user code;
        # a stray SIGINT (e.g. Ctrl-C aimed at the server's process group) is ignored.
        if self._executor.in_user_code and self._executor.cancel_requested:
            self._interrupt_seen = True
            raise KeyboardInterrupt

    def _interrupt_running(self):
        if not self._executor.cancel_requested:  # a repeated cancel must not interrupt twice
            self._executor.cancel_requested = True
            threading.Thread(target=self._keep_interrupting, args=(self._running_id,),
                             name="kiln-interrupt", daemon=True).start()

    def _keep_interrupting(self, command_id):
        # A SIGINT that lands after a blocking call (time.sleep, say) released the GIL but
        # before it entered the kernel is lost; that gap is just when this thread gets the
        # GIL. So it is repeated until the handler has seen it or the command is over.
        while True:
            with self._state:
                if self._running_id != command_id or self._interrupt_seen:
                    return
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
            time.sleep(INTERRUPT_RETRY_SECONDS)

    def _read_loop(self):
        try:
            for raw in self._sock.makefile("rb"):
                try:
                    message = json.loads(raw.decode("utf-8"))
                except ValueError:
                    log.warning("ignoring a malformed line from the driver")
                    continue
                if isinstance(message, dict):
                    self._dispatch(message)
        except OSError:
            pass
        # The driver closed the socket: it destroyed this context, stopped or died.
        os._exit(0)

    def _dispatch(self, message):
        op = message.get("op")
        if op == "execute":
            with self._state:
                self._queue.append(message)
                self._state.notify()
        elif op == "cancel":
            self._cancel(message.get("command_id"))
        else:
            log.warning("context worker ignoring op %r", op)

    def _cancel(self, command_id):
        with self._state:
            queued = [m for m in self._queue if m.get("command_id") == command_id]
            if not queued:
                if command_id is not None and command_id == self._running_id:
                    self._interrupt_running()
                return
            self._queue.remove(queued[0])
        self.send(_finished(command_id, "Cancelled"))

    def serve(self):
        threading.Thread(target=self._read_loop, name="kiln-context-reader", daemon=True).start()
        while True:
            with self._state:
                while not self._queue:
                    self._state.wait()
                message = self._queue.pop(0)
                self._running_id = message.get("command_id")
                self._executor.cancel_requested = False
                self._interrupt_seen = False
            self._run(message)

    def _run(self, message):
        command_id = message.get("command_id")
        self.send({"op": "started", "command_id": command_id})
        try:
            status, results, exit_value = self._executor.execute(message)
        except Exception as err:  # a runtime bug must not take the context down
            log.exception("command %s failed inside the runtime", command_id)
            status, exit_value = "Error", None
            results = {"resultType": "error", "summary": f"Kiln runtime error: {type(err).__name__}",
                       "cause": "The Kiln Python runtime failed; see the driver log."}
        with self._state:
            self._running_id = None
        self.send(_finished(command_id, status, results, exit_value))


class WorkerHandle:
    """The driver's side of one context worker."""

    def __init__(self, context_id, pid, sock):
        self.context_id = context_id
        self.pid = pid
        self.sock = sock  # None once closed
        self.received = bytearray()  # the start of a line not yet complete
        self.outgoing = bytearray()  # what the worker has not taken yet
        self.pending = {}  # command id -> None, in order: sent and not finished
        self.kill_at = None  # when a worker asked to stop gets SIGKILL


class Driver:
    def __init__(self, sock, host, cluster_id):
        self._sock = sock
        self._host = host
        self._cluster_id = cluster_id
        self._selector = selectors.DefaultSelector()
        self._received = bytearray()
        self._workers = {}  # context id -> its live worker
        self._by_pid = {}  # pid -> worker, live or stopping, until reaped
        self._by_command = {}  # command id -> the worker it is pending in
        self._stopping = False
        self._server_gone = False
        self._stop_deadline = None
        self._driver_pid = os.getpid()
        self._wake_read, self._wake_write = os.pipe()

    # The server side.

    def send(self, message):
        self._send_line(_encode(message))

    def _send_line(self, line):
        """Sends one complete line, newline included."""
        if self._server_gone:
            return
        try:
            self._sock.sendall(line)
        except OSError as err:
            log.warning("cannot write to the driver socket: %s", err)
            self._server_gone = True
            self._stop("the driver socket is gone")

    def _on_server_readable(self):
        try:
            data = self._sock.recv(READ_SIZE)
        except OSError as err:
            log.warning("driver socket failed: %s", err)
            data = b""
        if not data:
            self._server_gone = True
            self._selector.unregister(self._sock)
            self._stop("the server closed the driver socket")
            return
        for raw in self._lines(self._received, data):
            try:
                message = json.loads(raw.decode("utf-8"))
            except ValueError:
                log.warning("ignoring a malformed protocol line")
                continue
            if isinstance(message, dict):
                self._dispatch(message, raw)

    @staticmethod
    def _lines(buffer, data):
        """Appends data to buffer and takes the complete lines off it, without their newline."""
        buffer += data
        end = buffer.rfind(b"\n")
        if end < 0:
            return []
        lines = bytes(buffer[:end]).split(b"\n")
        del buffer[:end + 1]
        return lines

    def _dispatch(self, message, raw):
        op = message.get("op")
        if op == "execute":
            self._execute(message, raw)
        elif op == "cancel":
            worker = self._by_command.get(message.get("command_id"))
            if worker is not None:
                self._to_worker(worker, raw)
        elif op == "destroy_context":
            worker = self._workers.pop(message.get("context_id") or "", None)
            if worker is not None:
                self._terminate(worker, "Cancelled")
        elif op == "shutdown":
            self._stop("shutdown requested")
        else:
            log.warning("ignoring unknown op %r", op)

    def _execute(self, message, raw):
        command_id, context_id = message.get("command_id"), message.get("context_id") or ""
        if self._stopping or command_id in self._by_command:
            return
        worker = self._workers.get(context_id)
        if worker is None:
            try:
                worker = self._workers[context_id] = self._fork_worker(context_id)
            except OSError as err:
                log.error("cannot start a process for context %s: %s", context_id, err)
                self.send(_finished(command_id, "Error", {
                    "resultType": "error", "summary": f"Cannot start the execution context's Python process: {err}",
                    "cause": ""}))
                return
        worker.pending[command_id] = None
        self._by_command[command_id] = worker
        self._to_worker(worker, raw)

    # The worker side.

    def _fork_worker(self, context_id):
        driver_end, worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        sys.stdout.flush()
        sys.stderr.flush()
        started = time.monotonic()
        try:
            pid = os.fork()
        except OSError:
            driver_end.close()
            worker_end.close()
            raise
        if pid == 0:
            # The worker only ever ends with os._exit: returning would run the driver's loop.
            try:
                driver_end.close()
                self._become_worker(worker_end, context_id)
            except BaseException:  # noqa: B902 - whatever happens, the child must not return into the driver
                log.exception("context worker %s failed", context_id)
            finally:
                os._exit(1)
        worker_end.close()
        driver_end.setblocking(False)
        worker = WorkerHandle(context_id, pid, driver_end)
        self._by_pid[pid] = worker
        self._selector.register(driver_end, selectors.EVENT_READ, worker)
        log.info("context %s: worker %d forked in %.1f ms", context_id, pid, (time.monotonic() - started) * 1000)
        return worker

    def _become_worker(self, sock, context_id):
        """Runs in the forked child: drops the driver's resources and serves the context."""
        if _PRCTL is not None:
            _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != self._driver_pid:  # the driver died before prctl took effect
            os._exit(0)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        # Only close here: unregistering would change the epoll set the driver shares.
        try:
            self._selector.close()
        except OSError:
            pass  # a kqueue (macOS) is not inherited by a fork
        self._sock.close()
        os.close(self._wake_read)
        os.close(self._wake_write)
        for other in self._by_pid.values():
            if other.sock is not None:
                other.sock.close()
        executor = Executor(self._host, self._cluster_id, context_id)
        worker = ContextWorker(sock, executor)
        signal.signal(signal.SIGINT, worker.on_sigint)
        worker.serve()

    def _to_worker(self, worker, line):
        if worker.sock is None:
            return
        worker.outgoing += line + b"\n"
        self._flush_worker(worker)

    def _flush_worker(self, worker):
        # Non-blocking: a worker whose reader thread stalls must not stall the other contexts.
        try:
            sent = worker.sock.send(worker.outgoing)
            del worker.outgoing[:sent]
        except BlockingIOError:
            pass
        except OSError:
            worker.outgoing.clear()  # the worker is gone; reaping it reports its commands
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if worker.outgoing else 0)
        self._selector.modify(worker.sock, events, worker)

    def _on_worker_ready(self, worker, mask):
        if mask & selectors.EVENT_WRITE and worker.sock is not None:
            self._flush_worker(worker)
        if mask & selectors.EVENT_READ and worker.sock is not None:
            if self._read_worker(worker) is False:
                # A worker that closed its socket can no longer report: end it, and let
                # reaping report its commands.
                self._close_worker_socket(worker)
                if worker.pid in self._by_pid:
                    self._signal(worker, signal.SIGKILL)

    def _read_worker(self, worker):
        """Handles what the worker wrote: True if it read some, None if there was nothing
        to read yet, False at the end of its socket."""
        try:
            data = worker.sock.recv(READ_SIZE)
        except BlockingIOError:
            return None
        except OSError:
            data = b""
        for raw in self._lines(worker.received, data):
            try:
                message = json.loads(raw.decode("utf-8"))
            except ValueError:
                log.warning("ignoring a malformed line from context %s", worker.context_id)
                continue
            command_id = message.get("command_id") if isinstance(message, dict) else None
            # Commands already reported (cancelled by a destroy, say) stay reported.
            if command_id not in worker.pending:
                continue
            if message.get("op") == "finished":
                self._forget_command(worker, command_id)
            self._send_line(raw + b"\n")
        return bool(data)

    def _forget_command(self, worker, command_id):
        worker.pending.pop(command_id, None)
        self._by_command.pop(command_id, None)

    def _finish_all(self, worker, status, results):
        for command_id in list(worker.pending):
            self._forget_command(worker, command_id)
            self.send(_finished(command_id, status, results))

    def _close_worker_socket(self, worker):
        if worker.sock is not None:
            self._selector.unregister(worker.sock)
            worker.sock.close()
            worker.sock = None

    def _signal(self, worker, signum):
        try:
            os.kill(worker.pid, signum)
        except ProcessLookupError:
            pass

    def _terminate(self, worker, status):
        """Stops a worker: its commands finish with status now, SIGKILL follows SIGTERM."""
        if self._workers.get(worker.context_id) is worker:
            del self._workers[worker.context_id]
        self._finish_all(worker, status, None)
        self._close_worker_socket(worker)
        if worker.pid in self._by_pid:
            self._signal(worker, signal.SIGTERM)
            worker.kill_at = time.monotonic() + TERM_GRACE_SECONDS

    def _reap(self):
        while True:
            try:
                pid, wait_status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            # Unknown pids are orphans of user code: in the sandbox's PID namespace the
            # driver is PID 1 and inherits them, so reaping them is its job too.
            worker = self._by_pid.pop(pid, None)
            if worker is not None:
                self._worker_exited(worker, os.waitstatus_to_exitcode(wait_status))

    def _worker_exited(self, worker, exit_code):
        if worker.sock is not None:
            # What it wrote before it died still counts. (A process user code forked may
            # hold the socket open, so the end of it may not come.)
            while worker.sock is not None and self._read_worker(worker):
                pass
            self._close_worker_socket(worker)
        if self._workers.get(worker.context_id) is worker:
            del self._workers[worker.context_id]
        if worker.pending:
            log.warning("context %s: its process %d exited (exit code %d)", worker.context_id, worker.pid, exit_code)
        self._finish_all(worker, "Error", {
            "resultType": "error", "summary": f"The execution context's Python process exited (exit code {exit_code})",
            "cause": ""})

    # The loop.

    def _on_wakeup(self):
        try:
            os.read(self._wake_read, READ_SIZE)
        except BlockingIOError:
            pass
        self._reap()

    def _stop(self, reason):
        if self._stopping:
            return
        self._stopping = True
        log.info("stopping: %s", reason)
        for worker in list(self._by_pid.values()):
            self._terminate(worker, "Cancelled")
        self._stop_deadline = time.monotonic() + TERM_GRACE_SECONDS + 1.0

    def _timeout(self):
        deadlines = [w.kill_at for w in self._by_pid.values() if w.kill_at is not None]
        if self._stop_deadline is not None:
            deadlines.append(self._stop_deadline)
        return max(min(deadlines) - time.monotonic(), 0.0) if deadlines else None

    def _kill_overdue(self):
        now = time.monotonic()
        for worker in self._by_pid.values():
            if worker.kill_at is not None and worker.kill_at <= now:
                self._signal(worker, signal.SIGKILL)
                worker.kill_at = None

    def serve(self):
        # The nonce proves to Kiln that this is the process it started.
        self.send({"op": "hello", "cluster_id": self._cluster_id, "pid": os.getpid(),
                   "nonce": os.environ.get("KILN_DRIVER_NONCE", ""),
                   "python_version": platform.python_version()})
        # A worker's exit wakes the loop through this pipe.
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        signal.set_wakeup_fd(self._wake_write)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        self._selector.register(self._wake_read, selectors.EVENT_READ, None)
        self._selector.register(self._sock, selectors.EVENT_READ, None)
        while not self._stopping or self._by_pid:
            if self._stop_deadline is not None and time.monotonic() >= self._stop_deadline:
                log.warning("exiting with %d context processes not reaped", len(self._by_pid))
                break
            for key, mask in self._selector.select(self._timeout()):
                if key.fd == self._wake_read:
                    self._on_wakeup()
                elif key.fileobj is self._sock:
                    if not self._server_gone:
                        self._on_server_readable()
                else:
                    self._on_worker_ready(key.data, mask)
            self._kill_overdue()
            self._reap()


def main():
    logging.basicConfig(stream=sys.__stderr__, level=logging.INFO,
                        format="%(asctime)s %(levelname)s kiln_runtime[%(process)d]: %(message)s")
    # The driver runs no user code, so no SIGINT is meant for it (workers set their own).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    socket_path = os.environ["KILN_DRIVER_SOCKET"]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(socket_path)
    driver = Driver(sock, os.environ.get("KILN_HOST", "http://127.0.0.1:8080"), os.environ.get("KILN_CLUSTER_ID", ""))
    log.info("driver %d connected to %s", os.getpid(), socket_path)
    driver.serve()
    log.info("driver exiting")
    return 0


if __name__ == "__main__":
    sys.exit(main())
