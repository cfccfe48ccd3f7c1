"""faults.py - break a daemon's spool, then mend it, for the fault tests.

    from lib.faults import FaultFS, Tmpfs

    fs = FaultFS(d.dir, d.spool)        # the LD_PRELOAD shim of tests/faultfs
    d.start(env=fs.env())
    fs.set("write EIO")                 # write(2) on the spool's files fails
    fs.set("fsync EIO", "read delay=2000")
    fs.clear()

    t = Tmpfs(path, "1m")               # a small file system (root only)
    t.fill()                            # a file takes all that is left
    t.unfill()
    t.remount(read_only=True)
    t.close()

    class T(unittest.TestCase, Answers):  # what the inputs answer
        ...  self.accepted(d, "X"), self.refused(d, "Y", "spool write failed")

FaultFS works for any user and in both builds: in the sanitizer build,
ASan's runtime is preloaded before the shim, so that ASan's interceptors
come first and call the shim's wrappers, which call libc's.  Tmpfs needs
root (mount(8)); Tmpfs.available() says whether this machine lets us.
"""
import json
import os
import subprocess
import tempfile
import time

from .alertsink import BINARY, alert, wait_for

__all__ = ["FaultFS", "Tmpfs", "SHIM", "Answers", "health", "wait_healthy"]

ALERTS = "/api/v1/alerts"


def health(d):
    """(status, body) of GET /healthz."""
    r = d.get("/healthz")
    return r.status, r.body.decode()


def wait_healthy(d, timeout=5):
    """Seconds until /healthz answers 200, with no alert sent meanwhile."""
    t0 = time.monotonic()
    wait_for(lambda: health(d)[0] == 200, timeout, interval=0.05, what="/healthz 200")
    return time.monotonic() - t0


class Answers:
    """unittest.TestCase helpers: an alert taken (its id) or refused, over
    HTTP and the socket."""

    def accepted(self, d, name, **labels):
        r = d.post(ALERTS, alert(name, **labels))
        self.assertEqual(r.status, 200, r)
        return r.json["id"]

    def accepted_unix(self, d, name):
        answer, = d.unix(json.dumps(alert(name)) + "\n")
        self.assertRegex(answer, r"^OK \S+$")
        return answer.split()[1]

    def refused(self, d, name, error):
        """503 {"error": error} over HTTP, ERR error on the socket."""
        r = d.post(ALERTS, alert(name))
        self.assertEqual((r.status, r.json), (503, {"status": "error", "error": error}))
        self.assertEqual(d.unix(json.dumps(alert(name + "Unix")) + "\n"), ["ERR " + error])

SHIM = os.environ.get("AS_FAULTFS") or os.path.join(
    os.path.dirname(BINARY), "tools", "faultfs.so")


def _asan_runtime():
    """The ASan runtime the binary links dynamically (sanitizer build), or None."""
    out = subprocess.run(["ldd", BINARY], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if "libasan" in line and "=>" in line:
            return line.split("=>")[1].split()[0]
    return None


class FaultFS:
    """tests/faultfs for a daemon: rules in a control file that the shim
    reads again whenever it changes."""

    def __init__(self, directory, path):
        self.control = os.path.join(directory, "faultfs.control")
        self.path = os.path.realpath(path)  # the shim compares resolved paths
        self.clear()

    def env(self):
        preload = [SHIM]
        asan = _asan_runtime()
        if asan:
            preload.insert(0, asan)
        return {"LD_PRELOAD": ":".join(preload), "FAULTFS_CONTROL": self.control,
                "FAULTFS_PATH": self.path}

    def set(self, *rules):
        """Rules "CALL ACTION": write|fsync|read, EIO|ENOSPC|EDQUOT|EROFS|delay=MS|KILL."""
        tmp = self.control + ".tmp"
        with open(tmp, "w") as f:
            f.write("".join(r + "\n" for r in rules))
        os.rename(tmp, self.control)  # the shim never sees half a file

    def clear(self):
        self.set()


def _run(*cmd):
    return subprocess.run(list(cmd), capture_output=True, text=True)


class Tmpfs:
    """A tmpfs of the given size mounted at path (created if missing)."""

    @staticmethod
    def available():
        """(True, "") if tmpfs can be mounted here, else (False, why)."""
        if os.geteuid() != 0:
            return False, "needs root to mount a tmpfs"
        d = tempfile.mkdtemp(prefix="as-tmpfs-probe-")
        try:
            r = _run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", d)
            if r.returncode != 0:
                return False, "cannot mount a tmpfs: " + r.stderr.strip()
            _run("umount", d)
            return True, ""
        finally:
            os.rmdir(d)

    def __init__(self, path, size):
        os.makedirs(path, exist_ok=True)
        r = _run("mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size, "tmpfs", path)
        if r.returncode != 0:
            raise RuntimeError("mount tmpfs at %s: %s" % (path, r.stderr))
        self.path = path
        self.filler = os.path.join(path, "filler")

    def fill(self):
        """Write a file until the file system is full."""
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for size in (65536, 4096, 1):  # what is left after each is less than it
                try:
                    while True:
                        os.write(fd, b"\0" * size)
                except OSError:
                    pass
        finally:
            os.close(fd)

    def unfill(self):
        os.unlink(self.filler)

    def remount(self, read_only, timeout=5):
        """Read-only is refused (busy) while a file is open for writing on
        it: a journal of a batch being delivered.  Tried again until then."""
        deadline = time.monotonic() + timeout
        while True:
            r = _run("mount", "-o", "remount," + ("ro" if read_only else "rw"), self.path)
            if r.returncode == 0:
                return
            if "busy" not in r.stderr or time.monotonic() > deadline:
                raise RuntimeError("remount %s: %s" % (self.path, r.stderr))
            time.sleep(0.05)

    def close(self):
        # Lazy: a daemon killed by a failing test may still hold it open.
        _run("umount", "-l", self.path)
