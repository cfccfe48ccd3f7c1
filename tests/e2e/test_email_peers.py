"""test_email_peers.py - the email sink against scripted SMTP peers that
aiosmtpd does not play: a mail is delivered only once the server took it.

libesmtp sends with BDAT when the server offers CHUNKING (Postfix 3.4+,
Exchange): every chunk but the last is answered 250, and that 250 stayed
the message's status when the answer to "BDAT 0 LAST" never came (a
stalled milter): the sink said delivered, the server dropped the unfinished
transaction, the mail was lost and no fallback ran.  The same when a server
answered DATA with 250 instead of 354 (nothing was sent).  Found by review;
the sink now also waits for libesmtp's "message sent" event.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("AS_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("AS_BUILD_DIR") or os.path.join(SRC, "build")
DRIVER = os.path.join(BUILD, "tools", "email_driver")


class Peer:
    """behaviour(conn, rfile) runs one SMTP session."""
    def __init__(self, behaviour):
        self.behaviour = behaviour
        self.lsn = socket.socket()
        self.lsn.bind(("127.0.0.1", 0))
        self.lsn.listen(4)
        self.port = self.lsn.getsockname()[1]
        self.committed = False
        self.log = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.lsn.accept()
            except OSError:
                return
            try:
                self.behaviour(self, conn, conn.makefile("rb"))
            except Exception as e:  # noqa
                self.log.append("peer error %r" % e)
            finally:
                try:
                    conn.close()
                except OSError:
                    pass

    def close(self):
        self.lsn.close()


def run(port, timeout="1s", extra=""):
    """The email sink's result for one mail to the peer, through the driver."""
    d = tempfile.mkdtemp(prefix="rv-email-")
    cfg = os.path.join(d, "a.yaml")
    with open(cfg, "w") as f:
        f.write("""smtp:
  host: 127.0.0.1
  port: %d
  tls: none
  from: "alerts@example.com"
  timeout: %s
%sreceivers:
  - name: oncall
    email:
      to: ["a@example.com"]
route:
  receiver: oncall
""" % (port, timeout, extra))
    r = subprocess.run([DRIVER, "-c", cfg, "-r", "oncall", "--subject", "s"],
                       capture_output=True, text=True, timeout=60)
    return json.loads(r.stdout.splitlines()[0]) if r.stdout else r.stderr


def line(rf):
    l = rf.readline()
    if not l:
        raise EOFError
    return l


# 1. CHUNKING: each BDAT chunk is acknowledged with 250, the final
#    "BDAT 0 LAST" never gets an answer (server hung / crashed before
#    committing the message to its queue).
def chunking_hang_on_last(p, c, rf):
    c.sendall(b"220 mx ESMTP\r\n")
    while True:
        l = line(rf)
        p.log.append(l)
        v = l.split()[0].upper()
        if v == b"EHLO":
            c.sendall(b"250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n")
        elif v == b"BDAT":
            n = int(l.split()[1])
            rf.read(n)
            if l.split()[-1].upper() == b"LAST":
                time.sleep(5)  # never answers within the client's timeout
                return
            c.sendall(b"250 2.0.0 %d octets received\r\n" % n)
        elif v == b"QUIT":
            c.sendall(b"221 bye\r\n")
            return
        else:
            c.sendall(b"250 ok\r\n")


# 2. DATA answered with a 2xx instead of 354: nothing was transferred.
def data_answered_250(p, c, rf):
    c.sendall(b"220 mx ESMTP\r\n")
    while True:
        l = line(rf)
        p.log.append(l)
        v = l.split()[0].upper()
        if v == b"EHLO":
            c.sendall(b"250 mx\r\n")
        elif v == b"DATA":
            c.sendall(b"250 weird\r\n")
        elif v == b"QUIT":
            c.sendall(b"221 bye\r\n")
            return
        else:
            c.sendall(b"250 ok\r\n")


# 3. CHUNKING, the LAST chunk is refused with a transient 451 (control).
def chunking_451_on_last(p, c, rf):
    c.sendall(b"220 mx ESMTP\r\n")
    while True:
        l = line(rf)
        p.log.append(l)
        v = l.split()[0].upper()
        if v == b"EHLO":
            c.sendall(b"250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n")
        elif v == b"BDAT":
            n = int(l.split()[1])
            rf.read(n)
            if l.split()[-1].upper() == b"LAST":
                c.sendall(b"451 4.3.0 queue trouble\r\n")
            else:
                c.sendall(b"250 2.0.0 %d octets received\r\n" % n)
        elif v == b"QUIT":
            c.sendall(b"221 bye\r\n")
            return
        else:
            c.sendall(b"250 ok\r\n")


class Peers(unittest.TestCase):
    def outcome(self, behaviour):
        p = Peer(behaviour)
        self.addCleanup(p.close)
        res = run(p.port)
        self.assertIsInstance(res, dict, res)
        return res

    def test_last_chunk_never_answered_is_not_delivered(self):
        res = self.outcome(chunking_hang_on_last)
        self.assertEqual(res["outcome"], "transient", res)

    def test_data_answered_250_is_not_delivered(self):
        res = self.outcome(data_answered_250)
        self.assertNotEqual(res["outcome"], "delivered", res)

    def test_last_chunk_refused_451_is_transient(self):
        res = self.outcome(chunking_451_on_last)
        self.assertEqual((res["outcome"], res["status"]), ("transient", 451), res)


if __name__ == "__main__":
    unittest.main(verbosity=2)
