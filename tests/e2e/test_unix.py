"""test_unix.py - the Unix socket input against the real binary (docs/inputs.md).

Line handling (text, JSON, malformed JSON, empty and over-long lines, a
last line without a newline), answers in line order, many concurrent
clients, the client limit, the socket file's mode, a stale socket file
replaced, a live one (or a file that is not a socket) refused, SIGTERM.
An id answered OK must show up in the outbox exactly once.
"""
import os
import re
import signal
import socket
import stat
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import SLOW, Daemon, wait_for  # noqa: E402

OK = re.compile(r"^OK ([0-9a-f]{12}-[0-9a-f]{6}-[0-9a-f]{4})$")
MAX = 1024  # http.max_body of the shared daemon: the longest line


def ok_id(test, answer):
    m = OK.match(answer)
    test.assertIsNotNone(m, "expected OK <id>, got %r" % answer)
    return m.group(1)


class UnixInput(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(http=False, max_body="1KiB").start()

    @classmethod
    def tearDownClass(cls):
        cls.d.finish()

    def test_text_and_json_lines(self):
        answers = self.d.unix(
            "disk full on db1\n"
            '{"labels":{"alertname":"JsonAlert","host":"h1"},"annotations":{"summary":"s"}}\n'
            '  {"title":"Indented JSON","message":"m"}\r\n'
            '{"receiver":"x","status":"firing","alerts":[{"status":"firing","labels":'
            '{"alertname":"AmPayload"},"annotations":{},"startsAt":"2026-01-01T00:00:00Z",'
            '"endsAt":"0001-01-01T00:00:00Z"}],"version":"4"}\n'
            '[{"labels":{"alertname":"InArray1"}},{"labels":{"alertname":"InArray2"}}]\n')
        self.assertEqual(len(answers), 5, answers)
        ids = [ok_id(self, a) for a in answers]
        counts = self.d.wait_outbox(ids)
        self.assertEqual([counts[i] for i in ids], [1] * 5)
        text = {l["id"]: l["text"] for l in self.d.outbox_lines()}
        self.assertIn("JsonAlert", text[ids[1]])
        self.assertIn("Indented JSON", text[ids[2]])
        self.assertIn("AmPayload", text[ids[3]])
        self.d.wait_outbox([ids[4] + ".2"])  # two alertnames: two groups
        both = " ".join(self.d.record_texts()[ids[4]])
        self.assertIn("InArray1", both)
        self.assertIn("InArray2", both)

    def test_text_lines_are_the_message(self):
        answers = self.d.unix(b"disk full on db1\nprod: {braces} inside text\n"
                              b"caf\xe9 au lait\n")
        ids = [ok_id(self, a) for a in answers]
        self.d.wait_outbox(ids)
        text = {l["id"]: l["text"] for l in self.d.outbox_lines()}
        self.assertIn("disk full on db1", text[ids[0]])
        self.assertIn("prod: {braces} inside text", text[ids[1]])
        self.assertIn("caf\ufffd au lait", text[ids[2]])  # not UTF-8: repaired, not refused

    def test_malformed_json_lines_are_err(self):
        cases = [
            ('{"labels":', "invalid JSON"),                        # truncated
            ('{"labels":{"alertname":"A"}} x', "after the value"),  # trailing bytes
            ('{"labels":["a"]}', "labels: expected object"),        # wrong type
            ('{"labels":{"a":1}}', "labels.a: expected string"),
            ('{' * 100 + '}' * 100, "nested deeper"),               # deep nesting
            ('{"message":"caf\xe9"}', "UTF-8"),                     # invalid UTF-8 (latin-1 byte)
            ('{"alerts":[]}', "alerts"),
            ('{}', None),
            ('[prod] starts like a JSON array', "invalid JSON"),  # '[' means JSON too
            ('  {"labels":', "invalid JSON"),                      # after blanks
        ]
        data = b"".join(c.encode("latin-1") + b"\n" for c, _ in cases)
        answers = self.d.unix(data)
        self.assertEqual(len(answers), len(cases), answers)
        for (line, msg), a in zip(cases, answers):
            with self.subTest(line=line[:30]):
                self.assertTrue(a.startswith("ERR "), a)
                if msg:
                    self.assertIn(msg, a)

    def test_invalid_utf8_text_is_accepted(self):
        i = ok_id(self, self.d.unix(b"caf\xe9 au lait\n")[0])
        self.d.wait_outbox([i])

    def test_empty_lines_are_ignored_and_answers_keep_line_order(self):
        lines = ['{"labels":{"alertname":"Order%03d"}}' % n for n in range(300)]
        data = "\n\n".join(lines) + "\n\n\r\n"
        answers = self.d.unix(data, timeout=30)
        self.assertEqual(len(answers), 300)
        ids = [ok_id(self, a) for a in answers]
        # Ids are handed out in submission order: line order.
        self.assertEqual(ids, sorted(ids))
        self.d.wait_outbox(ids, timeout=60)
        text = {l["id"]: l["text"] for l in self.d.outbox_lines()}
        for n, i in enumerate(ids):
            self.assertIn("Order%03d" % n, text[i])

    def test_errors_and_oks_interleave_in_order(self):
        answers = self.d.unix("first\n{bad\nsecond\n" + "x" * (MAX + 1) + "\nthird\n")
        self.assertEqual(len(answers), 5, answers)
        ok_id(self, answers[0])
        self.assertTrue(answers[1].startswith("ERR invalid JSON"), answers[1])
        ok_id(self, answers[2])
        self.assertEqual(answers[3], "ERR line too long")
        ok_id(self, answers[4])

    def test_line_length_limit(self):
        exact = "y" * MAX
        answers = self.d.unix(exact + "\n" + "z" * (MAX + 1) + "\n" + "w" * 100000 + "\nafter\n")
        self.assertEqual(len(answers), 4, answers)
        i = ok_id(self, answers[0])
        self.assertEqual(answers[1:3], ["ERR line too long"] * 2)
        ok_id(self, answers[3])
        self.d.wait_outbox([i])
        # A too-long last line without a newline.
        self.assertEqual(self.d.unix("v" * (MAX + 10)), ["ERR line too long"])
        # CRLF: the CR is not part of the line (a line of MAX bytes was
        # refused for it); MAX + 1 bytes and a CR, or no CR and one byte
        # too many at the end, are too long.
        answers = self.d.unix("c" * MAX + "\r\n" + "d" * (MAX + 1) + "\r\n" + "e" * (MAX + 1))
        self.assertEqual(len(answers), 3, answers)
        ok_id(self, answers[0])
        self.assertEqual(answers[1:], ["ERR line too long"] * 2)

    def test_last_line_without_newline(self):
        answers = self.d.unix("no newline at the end")
        self.assertEqual(len(answers), 1)
        i = ok_id(self, answers[0])
        self.d.wait_outbox([i])

    def test_many_concurrent_clients(self):
        results, errors = [], []
        lock = threading.Lock()

        def client(n):
            try:
                lines = "".join("client %d line %d\n" % (n, k) for k in range(10))
                a = self.d.unix(lines, timeout=60)
                with lock:
                    results.extend(a)
            except Exception as e:  # noqa: BLE001
                with lock:
                    errors.append(repr(e))
        threads = [threading.Thread(target=client, args=(n,)) for n in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(len(results), 500)
        ids = [ok_id(self, a) for a in results]
        self.assertEqual(len(set(ids)), 500)
        counts = self.d.wait_outbox(ids, timeout=60)
        self.assertTrue(all(counts[i] == 1 for i in ids))

    def test_connection_stays_open_between_lines(self):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10 * SLOW)
        try:
            s.connect(self.d.sock)
            f = s.makefile("rwb")
            for n in range(5):
                f.write(b"interactive %d\n" % n)
                f.flush()
                ok_id(self, f.readline().decode().rstrip("\n"))
        finally:
            s.close()

    def test_socket_mode_default(self):
        st = os.stat(self.d.sock)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)


class UnixSocketFile(unittest.TestCase):
    def test_mode_from_config_and_parent_created(self):
        d = Daemon(http=False, unix_extra={"mode": "0640"})
        d.sock = os.path.join(d.dir, "run", "sub", "a.sock")
        d.write_config(unix_extra={"mode": "0640", "path": d.sock})
        with d:
            self.assertEqual(stat.S_IMODE(os.stat(d.sock).st_mode), 0o640)
            self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(d.sock)).st_mode), 0o755)
            ok_id(self, d.unix("hello\n")[0])
            self.assertEqual(d.stop(), 0)
            self.assertFalse(os.path.exists(d.sock), "socket file left behind")

    def test_stale_socket_is_replaced(self):
        with Daemon(http=False) as d0:
            d0.stop()
        d = Daemon(http=False)
        try:
            # A socket file whose owner is gone.
            s = socket.socket(socket.AF_UNIX)
            s.bind(d.sock)
            s.close()
            self.assertTrue(stat.S_ISSOCK(os.stat(d.sock).st_mode))
            d.start()
            ok_id(self, d.unix("after a stale socket\n")[0])
        finally:
            d.close()

    def test_second_daemon_on_the_same_socket_is_refused(self):
        with Daemon(http=False) as first:
            second = Daemon(http=False)
            try:
                second.sock = first.sock
                second.write_config(unix_extra={"path": first.sock})
                rc, log = second.run_to_exit()
                self.assertNotEqual(rc, 0)
                self.assertIn("another alertsink is listening on %s" % first.sock, log)
            finally:
                second.close()
            # The first one is untouched and still answers.
            self.assertTrue(os.path.exists(first.sock))
            ok_id(self, first.unix("still here\n")[0])

    def test_a_file_that_is_not_a_socket_is_not_replaced(self):
        d = Daemon(http=False)
        try:
            with open(d.sock, "w") as f:
                f.write("precious")
            rc, log = d.run_to_exit()
            self.assertNotEqual(rc, 0)
            self.assertIn("is not a socket", log)
            with open(d.sock) as f:
                self.assertEqual(f.read(), "precious")
        finally:
            d.close()

    def test_max_clients(self):
        with Daemon(http=False, unix_extra={"max_clients": 3}) as d:
            held = []
            try:
                for n in range(3):
                    s = socket.socket(socket.AF_UNIX)
                    s.settimeout(10 * SLOW)
                    s.connect(d.sock)
                    s.sendall(b"holding slot %d\n" % n)  # answered: surely counted
                    self.assertTrue(s.recv(100).startswith(b"OK "))
                    held.append(s)
                s = socket.socket(socket.AF_UNIX)
                s.settimeout(10 * SLOW)
                s.connect(d.sock)
                held.append(s)
                self.assertEqual(s.recv(100), b"ERR too many clients\n")
                self.assertEqual(s.recv(100), b"")
            finally:
                for s in held:
                    s.close()
            # Slots free again once the clients have gone.
            def served():
                try:
                    return OK.match(d.unix("after the crowd\n")[0])
                except (OSError, IndexError):
                    return None  # still full: refused (reset, as the line was unread)
            wait_for(served, 10, what="a free slot")

    def test_idle_timeout(self):
        with Daemon(http=False, unix_extra={"timeout": "1s"}) as d:
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(20 * SLOW)
            try:
                s.connect(d.sock)
                t0 = time.monotonic()
                self.assertEqual(s.recv(100), b"")
                self.assertGreater(time.monotonic() - t0, 0.8)
            finally:
                s.close()

    def test_spool_full(self):
        # The sink fails (its directory is missing): everything stays in the spool.
        with Daemon(http=False, outbox_dir=False, spool={"max_size": "2KiB"}) as d:
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(10 * SLOW)
            s.connect(d.sock)
            f = s.makefile("rwb")
            answers = []
            for n in range(30):
                f.write(b"fill the spool %d %s\n" % (n, b"p" * 200))
                f.flush()
                answers.append(f.readline().decode().rstrip("\n"))
                if not answers[-1].startswith("OK"):
                    break
            s.close()
            self.assertTrue(OK.match(answers[0]), answers[0])
            self.assertEqual(answers[-1], "ERR spool full")

    def test_sigterm(self):
        d = Daemon(http=False)
        try:
            d.start()
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(10 * SLOW)
            s.connect(d.sock)
            f = s.makefile("rwb")
            f.write(b"before sigterm\n")
            f.flush()
            i = ok_id(self, f.readline().decode().strip())
            self.assertEqual(d.stop(signal.SIGTERM), 0, d.log())
            self.assertEqual(f.readline(), b"")  # closed by the daemon
            s.close()
            self.assertFalse(os.path.exists(d.sock))
            with self.assertRaises(OSError):
                d.unix("after\n")
            d.start()
            d.wait_outbox([i])
            self.assertEqual(d.stop(), 0)
        finally:
            d.close()

    def test_reload_keeps_the_socket(self):
        d = Daemon(http=False)
        try:
            d.start()
            ino = os.stat(d.sock).st_ino
            results, stop = [], threading.Event()

            def client():
                while not stop.is_set():
                    try:
                        results.extend(d.unix("during reload\n", timeout=20))
                    except OSError as e:
                        results.append(repr(e))
            t = threading.Thread(target=client)
            t.start()
            d.write_config(unix_extra={"mode": "0600"})
            for n in range(3):
                time.sleep(0.2)
                d.send_signal(signal.SIGHUP)
                wait_for(lambda: d.log().count("msg=reloaded") >= n + 1, 20, what="reload")
            stop.set()
            t.join(60)
            self.assertTrue(results)
            bad = [r for r in results if not OK.match(r)]
            self.assertEqual(bad, [])
            self.assertEqual(os.stat(d.sock).st_ino, ino)
            self.assertEqual(stat.S_IMODE(os.stat(d.sock).st_mode), 0o600)
            self.assertEqual(d.stop(), 0)
        finally:
            d.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
