"""Several cells of one `train` in parallel processes, one thread each: on a CPU the small recurrent steps
use two cores poorly, and separate processes measured 1.1-1.3x faster (benchmarks/defaults.md).

This module imports only the standard library at the top, so a spawned worker can silence TensorFlow's
start-up lines before anything imports Keras. Each worker trains and publishes one run exactly as the
sequential path does (checkpoints, resume, atomic publish); the parent shows their progress.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import traceback

# Set in each worker before its backend loads: TensorFlow, PyTorch (OpenMP) and JAX (XLA) on one thread.
ONE_THREAD = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1",
              "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
              "TF_CPP_MIN_LOG_LEVEL": "3"}
# Training windows x epochs from which `auto` trains in processes. Measured with `--cell all` (defaults.md):
# 1.10x faster on the shipped sine (40,560), 1.30x on electricity (83,220), 1.26x on MSFT (166,110). The sine's
# 10% is within this machine's run-to-run swing, so the bar sits between it and electricity.
MIN_WORK = 60_000


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worth_it(cells: int, work: int, backend: str) -> bool:
    """`--parallel auto` on a CPU: with the TensorFlow backend and several cores, for several cells of real work."""
    return cells > 1 and backend == "tensorflow" and cores() > 1 and work >= MIN_WORK


def _worker(events, key: str, job: dict) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the parent, which stops the workers
    os.environ.update(ONE_THREAD)
    try:
        import logging

        from forecast.errors import ForecastError
        from forecast.files import quiet_stderr

        with quiet_stderr():  # TensorFlow's C++ start-up lines, before its log level applies
            from forecast import runs, train  # train loads Keras and its backend, here
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
        train.GATHER_THREADS = 1  # one thread per worker, as measured; no gathering threads either

        def on_epoch(epoch: int, logs: dict, seconds: float) -> None:
            events.put(("epoch", key, epoch, {k: float(v) for k, v in logs.items()}, seconds))

        try:
            events.put(("done", key, runs.train_one(**job, on_epoch=on_epoch)))
        except ForecastError as exc:
            events.put(("error", key, exc))
    except BaseException:  # noqa: BLE001 - a bug: its traceback goes to the parent
        events.put(("bug", key, traceback.format_exc()))


def run_jobs(jobs: dict[str, dict], tracker) -> dict:
    """Run `forecast.runs.train_one(**job)` for every job in its own process; return {key: SavedRun}.

    A user error in one job lets the others finish and publish, then is raised. An interruption of the
    parent (Ctrl-C, SIGTERM) stops every worker; their checkpoints stay for `--resume`.
    """
    ctx = multiprocessing.get_context("spawn")
    events = ctx.Queue()
    procs = {key: ctx.Process(target=_worker, args=(events, key, job), daemon=True, name=f"forecast-{key}")
             for key, job in jobs.items()}
    results, errors = {}, []
    with contextlib.ExitStack() as shown:
        reporters = {key: shown.enter_context(tracker.cell(job["cfg"].model.cell.value)) for key, job in jobs.items()}
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
                            raise RuntimeError(f"the process training {key} ended with exit code {code}") from None
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
                    raise RuntimeError(f"training {key} failed in its process:\n{rest[0]}")
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
