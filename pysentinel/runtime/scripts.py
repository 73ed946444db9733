"""Run ``RunScript`` effects as child processes and report how they ended.

Rules of this module:

* argv only, never a shell; the child inherits the environment, the current directory
  (the ``dir`` directive) and stdout/stderr, and no other file descriptor
  (``close_fds``; trio's sockets are close-on-exec as well), as spec §9.8 requires.
* Every ``RunScript`` is answered by ``ScriptStarted`` then ``ScriptExited``, or by a
  lone ``ScriptExited`` when the program could not be started.
* Queueing, retries, the 16-at-once limit and the 60 s timeout are the core's business
  (it sends ``KillScript``); this module only spawns, waits and kills.
"""

from __future__ import annotations

import errno
import signal
from collections.abc import Callable

import trio

from pysentinel.core.effects import RunScript
from pysentinel.core.inputs import Input, ScriptExited, ScriptStarted
from pysentinel.core.types import ScriptId

__all__ = ["EXEC_FAILED_EXIT_CODE", "Scripts"]

#: What sentinel.c's child does when execve fails: ``_exit(2)``, an error that is not
#: retried. We report the same status when the program cannot be started.
EXEC_FAILED_EXIT_CODE = 2

Report = Callable[[Input], None]


class Scripts:
    """Running scripts of the process.

    Args:
        nursery: where the waiting tasks run.
        report: called (synchronously, never blocking) with every input.
    """

    def __init__(self, nursery: trio.Nursery, report: Report) -> None:
        self._nursery = nursery
        self._report = report
        self._running: dict[ScriptId, trio.Process] = {}

    def run(self, effect: RunScript) -> None:
        """Spawn ``effect.argv`` in the background."""
        self._nursery.start_soon(self._run, effect)

    def kill(self, script: ScriptId) -> None:
        """SIGKILL the script if it is still running."""
        process = self._running.get(script)
        if process is not None and process.returncode is None:
            process.send_signal(signal.SIGKILL)

    async def _run(self, effect: RunScript) -> None:
        try:
            process = await trio.lowlevel.open_process(list(effect.argv), close_fds=True)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.ENOMEM):
                # fork itself failed: spec §9.8 reports this as signal 99.
                self._report(ScriptExited(script=effect.script, exit_code=0, spawn_failed=True))
            else:
                self._report(ScriptExited(script=effect.script, exit_code=EXEC_FAILED_EXIT_CODE))
            return
        self._running[effect.script] = process
        self._report(ScriptStarted(script=effect.script, pid=process.pid))
        try:
            code = await process.wait()
        finally:
            del self._running[effect.script]
        if code < 0:
            self._report(ScriptExited(script=effect.script, exit_code=0, signal=-code))
        else:
            self._report(ScriptExited(script=effect.script, exit_code=code))
