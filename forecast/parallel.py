"""A pool of worker processes, one thread each, for the cells of one `train`: on a CPU the small recurrent steps
use two cores poorly, and separate processes measured 1.1-1.3x faster (benchmarks/defaults.md).

This module imports only the standard library at the top and knows nothing of what its jobs do: the caller
passes the function (module-level, so it can be pickled) and the jobs. A worker sets one thread per library and
silences TensorFlow's start-up lines before Keras loads, then runs `fn(job, on_epoch)`; the parent shows each
job's progress and collects the results.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import traceback
from collections.abc import Callable

# Set in each worker before its backend loads: TensorFlow, PyTorch (OpenMP) and JAX (XLA) on one thread.
ONE_THREAD = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1",
              "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
              "TF_CPP_MIN_LOG_LEVEL": "3"}


def _worker(events, key: str, fn: Callable, job) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the parent, which stops the workers
    os.environ.update(ONE_THREAD)
    parent = os.getppid()
    try:
        from forecast.backend import load_keras
        from forecast.errors import ForecastError, quiet_warnings

        quiet_warnings()  # this process's stderr is the user's terminal too
        load_keras()

        def on_epoch(epoch: int, logs: dict, seconds: float) -> None:
            if os.getppid() != parent:  # the parent was killed (SIGKILL, out of memory): nobody collects this work
                os._exit(1)
            events.put(("epoch", key, epoch, {k: float(v) for k, v in logs.items()}, seconds))

        try:
            events.put(("done", key, fn(job, on_epoch)))
        except ForecastError as exc:
            events.put(("error", key, exc))
    except BaseException:  # noqa: BLE001 - a bug: its traceback goes to the parent
        events.put(("bug", key, traceback.format_exc()))


def run_jobs(fn: Callable, jobs: dict[str, object], labels: dict[str, str], tracker) -> dict:
    """Run `fn(job, on_epoch)` for every job in its own process, its progress shown under `labels[key]`;
    return {key: what fn returned}.

    A user error in one job lets the others finish, then is raised. An interruption of the parent (Ctrl-C,
    SIGTERM) stops every worker.
    """
    ctx = multiprocessing.get_context("spawn")
    events = ctx.Queue()
    procs = {key: ctx.Process(target=_worker, args=(events, key, fn, job), daemon=True, name=f"forecast-{key}")
             for key, job in jobs.items()}
    results, errors = {}, []
    with contextlib.ExitStack() as shown:
        reporters = {key: shown.enter_context(tracker.cell(labels[key])) for key in jobs}
        try:
            for proc in procs.values():
                proc.start()
            pending = set(jobs)
            while pending:
                try:
                    kind, key, *rest = events.get(timeout=1.0)
                except queue.Empty:
                    for key in pending:
                        code = procs[key].exitcode
                        if code is not None and code != 0:
                            raise RuntimeError(f"the process of job {key} ended with exit code {code}") from None
                    continue
                if kind == "epoch":
                    reporters[key](*rest)
                    continue
                pending.discard(key)
                if kind == "done":
                    results[key] = rest[0]
                elif kind == "error":
                    errors.append(rest[0])
                else:
                    raise RuntimeError(f"job {key} failed in its process:\n{rest[0]}")
        except BaseException:
            for proc in procs.values():
                if proc.is_alive():
                    proc.terminate()
            for proc in procs.values():
                proc.join(timeout=10)
            raise
    for proc in procs.values():
        proc.join()
    if errors:
        raise errors[0]
    return results
