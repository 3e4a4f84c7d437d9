#!/usr/bin/env python3
"""Opens the dashboard in headless Chromium (Debian's `chromium`) and waits until its chart
has applied MIN_UPDATES live rows from the SSE stream; then prints the chart's data
attributes as JSON on stdout and saves OUT_PREFIX.png (screenshot) and OUT_PREFIX.html (DOM).

Drives Chromium through the DevTools protocol over --remote-debugging-pipe (fds 3 and 4,
NUL-terminated JSON), so it needs only Python's standard library and no network. Plain
`--dump-dom`/`--screenshot` cannot wait for live data: with an EventSource open, virtual
time never runs out, and `--timeout` fires before the first event. Exits 1 past DEADLINE_S,
killing everything it started.

usage: browser-snapshot.py URL OUT_PREFIX [MIN_UPDATES=3] [DEADLINE_S=30]

Optional environment: ALSO_WAIT_FOR, a JavaScript condition to wait for as well;
REPORT_TOO, a JavaScript expression whose value is added to the report as "extra";
EVAL_AFTER and SETTLE_S, an interaction to run once ready and the pause after it."""
import base64, fcntl, json, os, shutil, signal, subprocess, sys, tempfile, time

url, out = sys.argv[1], sys.argv[2]
need = int(sys.argv[3]) if len(sys.argv) > 3 else 3
deadline = time.monotonic() + (float(sys.argv[4]) if len(sys.argv) > 4 else 30)
t0 = time.monotonic()
profile = tempfile.mkdtemp(prefix="chromium-")
r_in, w_in = os.pipe()    # we write commands -> chromium reads fd 3
r_out, w_out = os.pipe()  # chromium writes fd 4 -> we read
for name in ("r_in", "w_out"):   # move the child's ends above fd 4 so the dup2 below cannot clobber them
    fd = globals()[name]; globals()[name] = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10); os.close(fd)
def child_fds():          # runs in the child: put the pipe ends on fds 3 and 4 (kept via pass_fds)
    os.dup2(r_in, 3); os.dup2(w_out, 4)
proc = subprocess.Popen(
    ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
     "--user-data-dir=" + profile, "--no-first-run", "--no-default-browser-check", "--disable-extensions",
     "--disable-background-networking", "--disable-component-update", "--disable-sync", "--mute-audio",
     "--hide-scrollbars", "--window-size=1200,800"] + os.environ.get("EXTRA_FLAGS", "").split() + ["about:blank"],
    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(out + ".chromium.log", "w"),
    pass_fds=(3, 4, r_in, w_out), preexec_fn=child_fds, start_new_session=True)
os.close(r_in); os.close(w_out)
buf, next_id, page_errors = b"", 0, []

def send(method, params=None, session=None):
    global buf, next_id
    next_id += 1; msg = {"id": next_id, "method": method, "params": params or {}}
    if session: msg["sessionId"] = session
    os.write(w_in, json.dumps(msg).encode() + b"\0")
    while True:                                   # read NUL-terminated messages until our reply
        while b"\0" not in buf:
            if time.monotonic() > deadline: raise TimeoutError(method)
            chunk = os.read(r_out, 1 << 20)
            if not chunk: raise EOFError("chromium closed the pipe")
            buf += chunk
        raw, buf = buf.split(b"\0", 1)
        reply = json.loads(raw)
        if reply.get("method") == "Runtime.exceptionThrown":   # uncaught JS errors on the page
            page_errors.append(reply["params"]["exceptionDetails"].get("exception", {}).get("description", "?"))
        if reply.get("id") == next_id:
            if "error" in reply: raise RuntimeError(f"{method}: {reply['error']}")
            return reply.get("result", {})

def js(expr, session):
    return send("Runtime.evaluate", {"expression": expr, "returnByValue": True}, session)["result"].get("value")

rc = 1
try:
    signal.signal(signal.SIGALRM, lambda *a: (_ for _ in ()).throw(TimeoutError("deadline")))
    signal.alarm(int(deadline - time.monotonic()) + 1)   # also guards a blocking os.read
    target = send("Target.createTarget", {"url": "about:blank"})["targetId"]
    sess = send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    send("Page.enable", session=sess)
    send("Runtime.enable", session=sess)
    send("Page.navigate", {"url": url}, session=sess)
    cond = f"+(document.getElementById('chart')?.dataset.liveUpdates || 0) >= {need}"
    if os.environ.get("ALSO_WAIT_FOR"):          # optional second condition (a JS expression)
        cond = f"({cond}) && ({os.environ['ALSO_WAIT_FOR']})"
    while not js(cond, sess):
        time.sleep(0.1)
    t_ready = time.monotonic() - t0
    if os.environ.get("EVAL_AFTER"):             # optional interaction, e.g. a click, then settle
        js(os.environ["EVAL_AFTER"], sess); time.sleep(float(os.environ.get("SETTLE_S", "1.5")))
    attrs = js("JSON.stringify(Object.assign({}, document.getElementById('chart').dataset))", sess)
    open(out + ".html", "w").write(js("document.documentElement.outerHTML", sess))
    png = send("Page.captureScreenshot", {"format": "png"}, session=sess)["data"]
    open(out + ".png", "wb").write(base64.b64decode(png))
    report = {"ready_s": round(t_ready, 2), "chart": json.loads(attrs), "page_errors": page_errors}
    if os.environ.get("REPORT_TOO"):             # optional extra value (a JS expression) in the report
        report["extra"] = js(os.environ["REPORT_TOO"], sess)
    print(json.dumps(report))
    try: send("Browser.close")
    except (EOFError, TimeoutError, OSError): pass
    rc = 0
except Exception as e:
    print("FAILED:", type(e).__name__, e, file=sys.stderr)
finally:
    signal.alarm(0)
    try: proc.wait(timeout=5 if rc == 0 else 0.1)   # after Browser.close it exits by itself
    except subprocess.TimeoutExpired: pass
    try: os.killpg(proc.pid, signal.SIGKILL)   # our own session/group only: zygote/renderer leftovers
    except ProcessLookupError: pass
    proc.wait()
    shutil.rmtree(profile, ignore_errors=True)
    print(f"total_s={time.monotonic() - t0:.2f} rc={rc}", file=sys.stderr)
sys.exit(rc)
