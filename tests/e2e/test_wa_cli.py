#!/usr/bin/python3
"""test_wa_cli.py - `alertsink wa ...` end to end against the strict fake
Wamessage server (tests/fake_wamessage.py): every subcommand, the token
cache, the 401 rule, argument checking and fault injection
(docs/channels.md).

Each test gets its own fake server on a free loopback port and its own
temporary directory (configuration and spool), and both are cleaned up
even when the test fails.  Every run of the binary is checked for leaked
secrets: neither the password nor any token the fake issued may appear on
its stdout or stderr.
"""

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib.fakes import FakeProcess  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("AS_TEST_DATA", os.path.dirname(HERE))
ALERTSINK = os.environ.get("ALERTSINK") or os.path.join(
    os.environ.get("AS_BUILD_DIR", os.path.join(DATA, "..", "build")), "alertsink")

PHONE = "905550000001"
PASSWORD = "pa55-w0rd-XyZ"


class Fake(FakeProcess):
    """The fake Wamessage server with this file's account."""

    def __init__(self, tmp, *args):
        super().__init__("fake_wamessage.py", tmp, "--phone", PHONE, "--password", PASSWORD,
                         *args)


class WaTest(unittest.TestCase):
    fake_args = ["--device", "7001:" + PHONE]

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="as-wa-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.fake = Fake(self.tmp, *self.fake_args)
        self.addCleanup(self.fake.stop)
        self.spool = os.path.join(self.tmp, "spool")
        self.config = self.write_config()

    def write_config(self, name="alertsink.yaml", base_url=None, password=PASSWORD, reg_id=None,
                     timeout="3s"):
        pw_file = os.path.join(self.tmp, name + ".pass")
        with open(pw_file, "w") as f:
            f.write(password + "\n")
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write("spool: { dir: %s }\n" % json.dumps(self.spool))
            f.write("whatsapp:\n")
            f.write("  base_url: %s\n" % json.dumps(base_url or self.fake.url))
            f.write('  phone: "+90 555 000 0001"\n')
            f.write("  password_file: %s\n" % json.dumps(pw_file))
            f.write("  timeout: %s\n" % timeout)
            if reg_id:
                f.write('  reg_id: "%s"\n' % reg_id)
            f.write("receivers:\n  - name: oncall\n    whatsapp: { to: [\"+90 555 111 2233\"] }\n")
            f.write("route: { receiver: oncall }\n")
        return path

    def wa(self, *args, config=None, stdin=None, env=None, timeout=60):
        cmd = [ALERTSINK, "wa"] + list(args)
        if config is not False:
            cmd[2:2] = ["-c", config or self.config]
        e = dict(os.environ)
        e.pop("ALERTSINK_CONFIG", None)
        e.update(env or {})
        r = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout,
                           env=e)
        self.assert_no_secrets(r)
        return r

    def assert_no_secrets(self, r):
        out = r.stdout + r.stderr
        self.assertNotIn(PASSWORD, out)
        for token in self.fake.state()["issued"]:
            self.assertNotIn(token, out)

    def logins(self):
        return len(self.fake.requests("/user/login"))

    def token_file(self):
        return os.path.join(self.spool, "state", "whatsapp", "wamessage.token")


class TestLogin(WaTest):
    def test_login_ok_and_cache_file(self):
        r = self.wa("login")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "OK")
        login = self.fake.requests("/user/login")
        self.assertEqual(len(login), 1)
        self.assertEqual(login[0]["json"], {"phone": PHONE, "password": PASSWORD})
        self.assertNotIn("authorization", login[0]["headers"])
        st = os.stat(self.token_file())
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        with open(self.token_file()) as f:
            cached = json.load(f)
        self.assertEqual(cached["token"], self.fake.state()["tokens"][0])

    def test_login_always_logs_in(self):
        self.assertEqual(self.wa("login").returncode, 0)
        self.assertEqual(self.wa("login").returncode, 0)
        self.assertEqual(self.logins(), 2)
        with open(self.token_file()) as f:
            self.assertEqual(json.load(f)["token"], self.fake.state()["tokens"][-1])

    def test_wrong_password(self):
        cfg = self.write_config("bad.yaml", password="not-the-password")
        r = self.wa("login", config=cfg)
        self.assertEqual(r.returncode, 1)
        self.assertIn("Invalid phone number or password", r.stderr)
        self.assertNotIn("not-the-password", r.stdout + r.stderr)
        self.assertFalse(os.path.exists(self.token_file()))

    def test_token_cached_between_commands(self):
        self.assertEqual(self.wa("devices").returncode, 0)
        self.assertEqual(self.wa("devices").returncode, 0)
        self.assertEqual(self.wa("send", "--to", "+90 555 111 2233", "hi").returncode, 0)
        self.assertEqual(self.logins(), 1)
        token = self.fake.state()["tokens"][0]
        for r in self.fake.requests():
            if r["path"] != "/user/login":
                self.assertEqual(r["headers"].get("authorization"), "Bearer " + token)
        self.assertEqual(stat.S_IMODE(os.stat(self.token_file()).st_mode), 0o600)

    def test_cache_keyed_by_account(self):
        self.assertEqual(self.wa("login").returncode, 0)
        with open(self.token_file()) as f:
            cached = json.load(f)
        self.assertEqual((cached["base_url"], cached["phone"]), (self.fake.url, PHONE))
        # The same spool, a token of another account: not reused.
        cached["phone"] = "905550000009"
        with open(self.token_file(), "w") as f:
            json.dump(cached, f)
        self.assertEqual(self.wa("devices").returncode, 0)
        self.assertEqual(self.logins(), 2)
        self.assertEqual(self.fake.requests("/whatsapp/devices")[0]["status"], 200)

    def test_expired_token_one_relogin(self):
        self.assertEqual(self.wa("login").returncode, 0)
        self.fake.control(expire_tokens=True)  # the cached token is now refused
        r = self.wa("devices")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.logins(), 2)
        dev = self.fake.requests("/whatsapp/devices")
        self.assertEqual([d["status"] for d in dev], [401, 200])
        with open(self.token_file()) as f:
            self.assertEqual(json.load(f)["token"], self.fake.state()["tokens"][-1])

    def test_token_ttl(self):
        self.fake.control(token_ttl=1)
        self.assertEqual(self.wa("devices").returncode, 0)
        time.sleep(1.5)
        self.assertEqual(self.wa("devices").returncode, 0)
        self.assertEqual(self.logins(), 2)

    def test_401_twice_is_a_failure_after_one_relogin(self):
        self.assertEqual(self.wa("login").returncode, 0)
        self.fake.control(fail=[{"status": 401, "count": 5, "path": "/whatsapp/devices",
                                 "message": "Unauthenticated"}])
        r = self.wa("devices")
        self.assertEqual(r.returncode, 1)
        self.assertIn("401", r.stderr)
        self.assertEqual(self.logins(), 2)  # exactly one new login
        self.assertEqual(len(self.fake.requests("/whatsapp/devices")), 2)


class TestDevices(WaTest):
    fake_args = ["--device", "7001:" + PHONE, "--device", "7002:905550000002:disconnected"]

    def test_table(self):
        r = self.wa("devices")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["REGISTRATION_ID", "PHONE", "STATUS"])
        self.assertEqual(lines[1:], ["7001 905550000001 connected",
                                     "7002 905550000002 disconnected"])
        self.assertEqual(self.fake.requests("/whatsapp/devices")[0]["query"], {"page": "-1"})

    def test_config_option_after_subcommand(self):
        r = subprocess.run([ALERTSINK, "wa", "devices", "-c", self.config], capture_output=True,
                           text=True, timeout=60)
        self.assert_no_secrets(r)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("7001 905550000001 connected", r.stdout)

    def test_config_from_environment(self):
        r = self.wa("devices", config=False, env={"ALERTSINK_CONFIG": self.config})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("7001 905550000001 connected", r.stdout)

    def test_send_picks_first_connected(self):
        self.fake.control(devices=[{"reg_id": "7002", "phone": "905550000002", "connected": False},
                                   {"reg_id": "7003", "phone": "905550000003"}])
        r = self.wa("send", "--to", "905551112233", "hello")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.fake.requests("/whatsapp/sendmessage/multi")[0]["form"]["reg_id"],
                         "7003")

    def test_send_no_connected_device(self):
        self.fake.control(disconnect=["7001"])
        r = self.wa("send", "--to", "905551112233", "hello")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no connected WhatsApp device", r.stderr)
        self.assertEqual(self.fake.requests("/whatsapp/sendmessage/multi"), [])


class TestPair(WaTest):
    def test_pair_links_after_polls(self):
        self.fake.control(link_after=2)
        t0 = time.time()
        r = self.wa("pair", "--phone", "+90 555 999 0000")
        self.assertEqual(r.returncode, 0, r.stderr)
        code = self.fake.requests("/whatsapp/login/code")
        self.assertEqual(len(code), 1)
        self.assertEqual(code[0]["json"], {"phone": "905559990000"})
        answer = code[0]["answer"]["data"]
        self.assertIn(answer["code"], r.stdout)
        self.assertIn("Link with phone number", r.stdout)
        self.assertEqual(r.stdout.splitlines()[-1], str(answer["registrationId"]))
        polls = self.fake.requests("/whatsapp/ws/logincontrol")
        self.assertEqual(len(polls), 2)
        for p in polls:
            self.assertEqual(p["query"], {"registrationId": str(answer["registrationId"]),
                                          "phone": "905559990000"})
        self.assertGreaterEqual(polls[1]["time"] - polls[0]["time"], 1.8)
        self.assertGreaterEqual(time.time() - t0, 3.8)
        self.assertIn(str(answer["registrationId"]), self.fake.state()["devices"])

    def test_pair_timeout(self):
        self.fake.control(link_after=-1)
        t0 = time.time()
        r = self.wa("pair", "--phone", "905559990000", "--timeout", "3s")
        took = time.time() - t0
        self.assertEqual(r.returncode, 1)
        self.assertIn("did not link", r.stderr)
        self.assertGreaterEqual(took, 2.9)
        self.assertLess(took, 10)
        self.assertGreaterEqual(len(self.fake.requests("/whatsapp/ws/logincontrol")), 1)

    def test_pair_keeps_polling_through_a_5xx(self):
        self.fake.control(link_after=2, fail=[{"status": 503, "count": 1,
                                               "path": "/whatsapp/ws/logincontrol"}])
        r = self.wa("pair", "--phone", "905559990000", "--timeout", "20s")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(self.fake.requests("/whatsapp/ws/logincontrol")), 3)


class TestLogout(WaTest):
    def test_logout(self):
        r = self.wa("logout", "--reg-id", "7001", "--phone", "+90 555 000 0001")
        self.assertEqual(r.returncode, 0, r.stderr)
        req = self.fake.requests("/whatsapp/logout")
        self.assertEqual(req[0]["json"], {"reg_id": "7001", "phone": PHONE})
        self.assertEqual(self.fake.state()["devices"], {})

    def test_logout_unknown(self):
        r = self.wa("logout", "--reg-id", "9999", "--phone", PHONE)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no device 9999", r.stderr)


class TestSend(WaTest):
    def sends(self):
        return self.fake.requests("/whatsapp/sendmessage/multi")

    def test_send_normalises_numbers(self):
        r = self.wa("send", "--to", "+90 555 111 2233,+90 (555) 111-2234", "disk", "full")
        self.assertEqual(r.returncode, 0, r.stderr)
        s = self.sends()
        self.assertEqual(len(s), 1)
        self.assertTrue(s[0]["headers"]["content-type"].startswith("multipart/form-data"))
        self.assertEqual(s[0]["form"], {"reg_id": "7001",
                                        "contacts": "905551112233,905551112234",
                                        "message": "disk full"})

    def test_send_stdin_and_configured_reg_id(self):
        cfg = self.write_config("reg.yaml", reg_id="7001")
        r = self.wa("send", "--to", "905551112233", config=cfg, stdin="Merhaba dünya ✓\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.sends()[0]["form"]["message"], "Merhaba dünya ✓")
        self.assertEqual(self.fake.requests("/whatsapp/devices"), [])

    def test_send_file(self):
        blob = bytes(range(256)) * 20 + b"\r\n--boundary-ish\r\n\n\r" + os.urandom(3000)
        path = os.path.join(self.tmp, "graph.png")
        with open(path, "wb") as f:
            f.write(blob)
        r = self.wa("send", "--to", "905551112233", "--file", path, "see attached")
        self.assertEqual(r.returncode, 0, r.stderr)
        s = self.sends()[0]
        self.assertEqual(s["files"]["file"]["filename"], "graph.png")
        self.assertEqual(s["files"]["file"]["size"], len(blob))
        self.assertEqual(s["files"]["file"]["sha256"], hashlib.sha256(blob).hexdigest())
        self.assertEqual(s["form"]["message"], "see attached")

    def test_send_missing_file(self):
        r = self.wa("send", "--to", "905551112233", "--file", os.path.join(self.tmp, "nope"), "x")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(self.fake.requests(), [])

    def test_send_at_valid(self):
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(time.time() + 86400))
        r = self.wa("send", "--to", "905551112233", "--at", when, "later")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.sends()[0]["form"]["send_time"], when)

    def test_send_at_malformed_or_past(self):
        past = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(time.time() - 60))
        for at in ["2030-13-01 10:00:00", "2031-02-29 10:00:00", "2030-02-30 10:00:00",
                   "2030-01-01 24:00:00", "2030-01-01 10:00", "2030-01-01T10:00:00",
                   "tomorrow", "", " 2030-01-01 10:00:00", past]:
            r = self.wa("send", "--to", "905551112233", "--at", at, "x")
            self.assertEqual(r.returncode, 2, at)
            self.assertIn("--at", r.stderr)
        self.assertEqual(self.fake.requests(), [])

    def test_usage_errors(self):
        cases = [
            [],
            ["bogus"],
            ["pair"],
            ["pair", "--phone", "12"],
            ["pair", "--phone", "905559990000", "--timeout", "soon"],
            ["logout", "--phone", PHONE],
            ["logout", "--reg-id", "7001"],
            ["send", "hello"],
            ["send", "--to", "+90 555 abc", "hello"],
            ["send", "--to", ",", "x"],
            ["send", "--to", "905551112233", "--bogus", "x"],
            ["send", "--to", "905551112233"],  # empty stdin, no file
            ["devices", "extra"],
            ["login", "--phone", PHONE],
            ["devices", "--to", "905551112233"],
            ["devices", "--timeout", "2m"],
            ["send", "--to"],
        ]
        for args in cases:
            r = self.wa(*args, stdin="")
            self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
            self.assertIn("usage:", r.stderr, args)
        self.assertEqual(self.fake.requests(), [])

    def test_configuration_errors(self):
        bad = os.path.join(self.tmp, "bad.yaml")
        with open(bad, "w") as f:
            f.write("spool: { dir: /tmp }\nwhatsapp: { phone: \"+90 555 000 0001\" }\n"
                    "receivers: [{name: a, file: {path: /dev/null}}]\nroute: {receiver: a}\n")
        r = self.wa("login", config=bad)
        self.assertEqual(r.returncode, 2)
        self.assertIn("password", r.stderr)
        r = self.wa("login", config=os.path.join(self.tmp, "missing.yaml"))
        self.assertEqual(r.returncode, 2)
        with open(bad, "w") as f:
            f.write("spool: { dir: /tmp }\nwhatsapp: { phone: \"12\", password: x }\n"
                    "receivers: [{name: a, file: {path: /dev/null}}]\nroute: {receiver: a}\n")
        r = self.wa("login", config=bad)
        self.assertEqual(r.returncode, 2)
        self.assertRegex(r.stderr, r"bad\.yaml:2:\d+: invalid phone number")
        self.assertEqual(self.fake.requests(), [])


class TestFaults(WaTest):
    def setUp(self):
        super().setUp()
        self.config = self.write_config(timeout="1s")
        self.assertEqual(self.wa("login").returncode, 0)

    def send(self):
        return self.wa("send", "--to", "905551112233", "x")

    def test_500(self):
        self.fake.control(fail=[{"status": 500, "path": "/whatsapp/sendmessage/multi",
                                 "message": "database on fire"}])
        r = self.send()
        self.assertEqual(r.returncode, 1)
        self.assertIn("HTTP 500", r.stderr)
        self.assertIn("database on fire", r.stderr)

    def test_429_retry_after(self):
        self.fake.control(fail=[{"status": 429, "retry_after": "7",
                                 "path": "/whatsapp/sendmessage/multi", "message": "slow down"}])
        r = self.send()
        self.assertEqual(r.returncode, 1)
        self.assertIn("HTTP 429: slow down", r.stderr)
        self.assertIn("Retry-After 7 s", r.stderr)

    def test_400_with_servers_message(self):
        self.fake.control(fail=[{"status": 400, "path": "/whatsapp/sendmessage/multi",
                                 "message": "contact blocked"}])
        r = self.send()
        self.assertEqual(r.returncode, 1)
        self.assertIn("contact blocked", r.stderr)

    def test_hang_past_timeout(self):
        self.fake.control(hang={"seconds": 6, "path": "/whatsapp/devices"})
        t0 = time.time()
        r = self.wa("devices")
        self.assertEqual(r.returncode, 1)
        self.assertLess(time.time() - t0, 5)
        self.assertIn("timed out after 1000 ms", r.stderr)

    def test_connection_reset(self):
        self.fake.control(reset={"path": "/whatsapp/devices"})
        r = self.wa("devices")
        self.assertEqual(r.returncode, 1)
        self.assertIn("connection broke", r.stderr)

    def test_connection_refused(self):
        cfg = self.write_config("dead.yaml", base_url="http://127.0.0.1:1")
        r = self.wa("devices", config=cfg)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot connect", r.stderr)

    def test_dns_failure(self):
        cfg = self.write_config("dns.yaml", base_url="http://no-such-host.invalid")
        r = self.wa("login", config=cfg)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"cannot resolve|cannot connect")


if __name__ == "__main__":
    unittest.main(verbosity=2)
