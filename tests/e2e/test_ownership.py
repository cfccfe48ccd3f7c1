"""test_ownership.py - who owns what the daemon and its commands write
(found by review):

  - file.mode was not honoured: the umask (077) cut it to 0600; a file the
    sink creates now has exactly its mode;
  - `alertsink send` run as root on a spool of another user's left its
    maildrop/ file and dedup claims root's, which the daemon could not
    read: the notification waited there in silence for ever.  send now
    delivers without such a spool and says so.
"""
import os
import pwd
import stat
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import BINARY, Daemon, alert  # noqa: E402


class Ownership(unittest.TestCase):
    def test_file_mode_is_honoured(self):
        d = Daemon(unix=False)
        self.addCleanup(d.close)
        path = os.path.join(d.outbox_dir, "shared.jsonl")
        d.write_config(receivers='  - name: shared\n    file: {path: "%s", mode: "0640"}\n' % path,
                       route="{receiver: shared}")
        d.start()
        r = d.post("/api/v1/alerts", alert("ModeCheck"))
        self.assertEqual(r.status, 200, r)
        d.wait_drained()
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o640)
        self.assertEqual(d.stop(), 0, d.log())

    @unittest.skipUnless(os.geteuid() == 0, "needs root to own a spool as another user")
    def test_send_as_root_on_another_users_spool(self):
        d = Daemon(http=False, unix=False)
        self.addCleanup(d.close)
        nobody = pwd.getpwnam("nobody")
        os.makedirs(d.spool, exist_ok=True)
        os.chown(d.spool, nobody.pw_uid, nobody.pw_gid)
        p = subprocess.run([BINARY, "send", "-c", d.config, "--timeout", "5s", "root test"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("belongs to nobody", p.stderr)
        self.assertIn("delivering without it", p.stderr)
        self.assertEqual(os.listdir(d.spool), [])  # nothing of root's in it
        self.assertTrue(d.outbox_lines())


if __name__ == "__main__":
    unittest.main(verbosity=2)
