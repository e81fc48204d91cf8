"""Where runs execute, for sweeps and calibration alike: one executor layer.

Kinds (``--executor`` of ``cityrisk sweep`` and ``cityrisk calibrate``, ``calibrate.executor``):

* ``serial`` — one task after another in this process (debugging, tests, single-core shards);
* ``processes`` — a local ``ProcessPoolExecutor`` (spawn); no scheduler to start, but a worker
  that dies takes every pending task with it (they come back as failures);
* ``local`` — a Dask LocalCluster on 127.0.0.1, one single-threaded worker process per core;
* ``dask`` — a running Dask scheduler (``--scheduler ADDRESS``) or, for sweeps, a dask-jobqueue
  SLURM/PBS cluster started from the spec's ``[cluster]`` section.

Every executor has one method, ``map_unordered(fn, tasks, key)``, yielding ``(task,
result_or_exception)`` as runs finish, and ``close()``. Sweeps stream rows from it; calibration
uses :func:`run_ordered` (results in task order, first failure raised). Runs are seeded
explicitly, so results never depend on which worker ran what, or when.

Importing this package is cheap: Dask and dask-jobqueue are imported only when a Dask
executor is made (Dask workers and the core CLI do not pay for them).
"""

from .base import (
    KINDS,
    Executor,
    ExecutorError,
    ProcessExecutor,
    SerialExecutor,
    make_executor,
    resolve,
    run_ordered,
)
from .dask_cluster import DaskExecutor
from .jobqueue import jobqueue_job_script
from .options import add_executor_options, executor_options

__all__ = ["KINDS", "DaskExecutor", "Executor", "ExecutorError", "ProcessExecutor",
           "SerialExecutor", "add_executor_options", "executor_options", "jobqueue_job_script",
           "make_executor", "resolve", "run_ordered"]
