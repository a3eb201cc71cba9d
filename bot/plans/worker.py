"""Reading a plan in a separate process with a time limit.

pypdf can spend minutes on one page of a hostile PDF (a few KB that inflate to a huge content stream),
python-docx seconds on a few KB of empty table cells, and a thread cannot be stopped. A spawned process
can: it is killed at the limit and the person is told the file takes too long to read. The result (or
the PlanError, rebuilt from its class and values) comes back through a pipe. Spawning costs a fraction
of a second, which a plan upload can afford.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from bot.plans.extract import PlanProposal, extract_plan
from bot.plans.limits import PlanError, SlowPlanError, UnreadablePlanError
from bot.plans.text import PlanText, plan_text_from_bytes

T = TypeVar("T")
# Reading and extracting one plan, the process's start included: a 30-page plan takes about a second, so
# any upload is answered within 5 s (the limit, then the kill).
READ_SECONDS = 4.5


def text_and_proposal(data: bytes, name: str) -> tuple[PlanText, PlanProposal]:
    text = plan_text_from_bytes(data, name)
    return text, extract_plan(text.text)


def _child(conn: Connection, fn: Callable[..., Any], args: tuple[Any, ...], name: str) -> None:
    try:
        conn.send((True, fn(*args)))
    except PlanError as exc:
        conn.send((False, (type(exc), exc.params)))
    except Exception as exc:  # noqa: BLE001 - whatever broke, the person hears "cannot be read"
        conn.send((False, (UnreadablePlanError, {"name": name, "detail": type(exc).__name__})))
    finally:
        conn.close()


def run_bounded(fn: Callable[..., T], *args: Any, name: str, seconds: float = READ_SECONDS) -> T:
    """fn(*args) in a spawned process; SlowPlanError after `seconds` (the process is killed), a PlanError
    raised by fn is raised here. Blocking: from the event loop, call it through asyncio.to_thread."""
    ctx = multiprocessing.get_context("spawn")  # not fork: the parent has threads (aiosqlite, the loop's)
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(sender, fn, args, name), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(seconds):
            raise SlowPlanError(name, seconds=int(seconds))
        ok, payload = receiver.recv()
    except EOFError:  # the process died without an answer (out of memory, killed)
        raise UnreadablePlanError(name, detail="the reader stopped") from None
    finally:
        if process.is_alive():
            process.kill()
        process.join(5)
        receiver.close()
    if ok:
        return payload
    error_class, params = payload
    raise error_class(**params)
