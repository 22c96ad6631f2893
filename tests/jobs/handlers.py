"""Job handlers used only by the job tests: they record what ran, in this process."""
import threading

RAN: list[tuple[str, int]] = []
_lock = threading.Lock()


def flaky(services, payload, ctx):
    """Fails until attempt ``succeed_on``; records every attempt."""
    with _lock:
        RAN.append((payload["name"], ctx.attempt))
    if ctx.attempt < payload.get("succeed_on", 1):
        raise RuntimeError(f"platform unreachable (attempt {ctx.attempt})")
    ctx.progress(1, 1, name=payload["name"])
    return {"answer": payload["name"].upper()}


GATE = threading.Event()  # a "blocking" job waits for it
STARTED = threading.Event()  # set when a "blocking" job starts


def blocking(services, payload, ctx):
    """Waits for GATE (a long job), then reports progress (which checks the lease)."""
    with _lock:
        RAN.append((payload["name"], ctx.attempt))
    STARTED.set()
    GATE.wait(payload.get("timeout", 30))
    ctx.progress(1, 1)
    return {"finished_by": ctx.owner}
