#!/usr/bin/python3
"""fake_wamessage.py - a strict fake of the Wamessage WhatsApp API for tests.

It speaks the API of docs/channels.md and is as strict as that page: a send
that is not multipart/form-data, a contact that is not all digits, a missing,
unknown or expired bearer token, an unknown reg_id, an unknown form field or
a malformed send_time are all refused, with the JSON error shape
{"status": false, "message": "..."} a real server gives.

Usage:
    fake_wamessage.py [--port 0] [--port-file F] [--phone 905550000001]
                      [--password secret] [--device 7001:905550000001[:disconnected]]
                      [--token-ttl SECONDS] [--link-after N] [--delay-ms MS]

It prints the port it listens on (127.0.0.1) on stdout, and writes it to
--port-file when given.  Tests steer it over HTTP (fake_http.py: /_control
with "fail", "hang", "reset", "clear"; /_requests; /_state), with these
control keys of its own:

    "disconnect": "7001" | ["7001"], "connect": ...      a device's connected state
    "token_ttl": SECONDS (null = forever)                 applies to issued tokens too
    "expire_tokens": true                                 forget every issued token
    "link_after": N                                       logincontrol polls before linking
    "token_at_top": true                                  login answers {"token"} not {"data":{"token"}}
    "devices": [{"reg_id","phone","connected"}]           replace the device list

A request's record also holds the form fields and uploaded files (base64)
of a multipart body.  /_state: live tokens, every token issued, devices,
pending pairings, login count.
"""

import base64
import datetime
import hashlib
import random
import re
import string
import time
from email import policy
from email.parser import BytesParser

from fake_http import FakeHandler, FakeState, parser, serve

CONTACT_RE = re.compile(r"^[1-9][0-9]{7,14}$")
SEND_FIELDS = {"reg_id", "contacts", "message", "file", "send_time"}


class State(FakeState):
    def __init__(self, args):
        super().__init__(args)
        self.phone = args.phone
        self.password = args.password
        self.token_ttl = args.token_ttl
        self.link_after = args.link_after
        self.token_at_top = False
        self.tokens = {}  # live tokens -> issued at (time.time())
        self.issued = []  # every token ever issued, for leak checks
        self.logins = 0
        self.devices = {}  # reg_id -> {"phone", "connected"}
        for d in args.device:
            f = d.split(":")
            self.devices[f[0]] = {"phone": f[1], "connected": len(f) < 3 or f[2] != "disconnected"}
        self.pending = {}  # reg_id -> {"phone", "code", "polls"}
        self.next_reg = 7100
        self.sent = 0

    def token_ok(self, token):
        with self.lock:
            at = self.tokens.get(token)
            if at is None:
                return "unknown token"
            if self.token_ttl is not None and time.time() - at > self.token_ttl:
                return "token expired"
            return None

    def control(self, c):
        super().control(c)
        for key, state in (("disconnect", False), ("connect", True)):
            regs = c.get(key, [])
            for r in ([regs] if isinstance(regs, str) else regs):
                if r in self.devices:
                    self.devices[r]["connected"] = state
        if "token_ttl" in c:
            self.token_ttl = c["token_ttl"]
        if c.get("expire_tokens"):
            self.tokens.clear()
        if "link_after" in c:
            self.link_after = c["link_after"]
        if "token_at_top" in c:
            self.token_at_top = bool(c["token_at_top"])
        if "devices" in c:
            self.devices = {str(d["reg_id"]): {"phone": d["phone"],
                                               "connected": d.get("connected", True)}
                            for d in c["devices"]}

    def snapshot(self):
        return {"tokens": list(self.tokens), "issued": self.issued, "logins": self.logins,
                "devices": self.devices, "pending": self.pending}


class Handler(FakeHandler):
    server_version = "FakeWamessage/1.0"

    def fail(self, status, message, headers=None, **extra):
        self.answer(status, {"status": False, "message": message}, headers)

    def note_body(self):
        if self.headers.get("Content-Type", "").startswith("multipart/form-data"):
            self.parse_multipart()
        else:
            super().note_body()

    def bearer(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            self.fail(401, "Unauthenticated: missing bearer token")
            return False
        why = self.server.state.token_ok(auth[7:].strip())
        if why:
            self.fail(401, "Unauthenticated: " + why)
            return False
        return True

    def route(self, method, path):
        routes = {
            ("POST", "/user/login"): self.login,
            ("POST", "/whatsapp/login/code"): self.login_code,
            ("GET", "/whatsapp/ws/logincontrol"): self.logincontrol,
            ("GET", "/whatsapp/devices"): self.devices,
            ("POST", "/whatsapp/sendmessage/multi"): self.sendmessage,
            ("POST", "/whatsapp/logout"): self.logout,
        }
        fn = routes.get((method, path))
        if fn is None:
            return self.fail(404, "no route %s %s" % (method, path))
        fn()

    # --- the API --------------------------------------------------------------

    def login(self):
        st = self.server.state
        b = self.json_body()
        if b is None:
            return
        phone, password = b.get("phone"), b.get("password")
        if not isinstance(phone, str) or not isinstance(password, str):
            return self.fail(400, "phone and password are required")
        if not phone.isdigit():
            return self.fail(400, "phone must be digits with the country code")
        if phone != st.phone or password != st.password:
            return self.fail(401, "Invalid phone number or password")
        token = "".join(random.choice(string.ascii_letters + string.digits) for _ in range(40))
        with st.lock:
            st.tokens[token] = time.time()
            st.issued.append(token)
            st.logins += 1
            top = st.token_at_top
        if top:
            self.answer(200, {"status": True, "message": "Login successful", "token": token})
        else:
            self.answer(200, {"status": True, "message": "Login successful",
                              "data": {"token": token, "user": {"phone": phone}}})

    def login_code(self):
        st = self.server.state
        if not self.bearer():
            return
        b = self.json_body()
        if b is None:
            return
        phone = b.get("phone")
        if not isinstance(phone, str) or not CONTACT_RE.match(phone):
            return self.fail(400, "phone must be digits with the country code, no +")
        code = "".join(random.choice(string.ascii_uppercase + string.digits) for _ in range(8))
        code = code[:4] + "-" + code[4:]
        with st.lock:
            reg = str(st.next_reg)
            st.next_reg += 1
            st.pending[reg] = {"phone": phone, "code": code, "polls": 0}
        self.answer(200, {"status": True, "data": {"code": code, "registrationId": int(reg)}})

    def logincontrol(self):
        st = self.server.state
        if not self.bearer():
            return
        q = self.record["query"]
        reg, phone = q.get("registrationId"), q.get("phone")
        if not reg or not phone:
            return self.fail(400, "registrationId and phone are required")
        if not phone.isdigit():
            return self.fail(400, "phone must be digits, without +")
        with st.lock:
            p = st.pending.get(reg)
            if p is None and reg in st.devices:
                linked = True
            elif p is None or p["phone"] != phone:
                linked = None
            else:
                p["polls"] += 1
                linked = st.link_after >= 0 and p["polls"] >= st.link_after
                if linked:
                    st.devices[reg] = {"phone": phone, "connected": True}
                    del st.pending[reg]
        if linked is None:
            return self.fail(404, "no pairing for this registrationId and phone")
        if linked:
            self.answer(200, {"status": True, "connected": True, "message": "Device connected"})
        else:
            self.answer(200, {"status": False, "message": "Waiting for the phone"})

    def devices(self):
        st = self.server.state
        if not self.bearer():
            return
        if self.record["query"].get("page") != "-1":
            return self.fail(400, "page is required (-1 for all)")
        with st.lock:
            data = [{"registration_id": r, "phone": d["phone"],
                     "status": "connected" if d["connected"] else "disconnected"}
                    for r, d in st.devices.items()]
        self.answer(200, {"status": True, "data": data})

    def parse_multipart(self):
        """The form fields and uploads of a multipart/form-data body, recorded;
        (form, files, None) or (None, None, (status, message))."""
        ctype = self.headers.get("Content-Type", "")
        if not ctype.startswith("multipart/form-data") or "boundary=" not in ctype:
            return None, None, (415, "expected multipart/form-data, got %r" % ctype)
        msg = BytesParser(policy=policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + self.body())
        if not msg.is_multipart() or msg.defects:
            self.record["raw_b64"] = base64.b64encode(self.body()).decode()
            return None, None, (400, "malformed multipart body: %s" % (msg.defects or "not multipart"))
        form, files = {}, {}
        self.record["form"] = form
        self.record["files"] = files
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not name:
                return None, None, (400, "a form part has no name")
            if name not in SEND_FIELDS:
                return None, None, (400, "unknown field %r" % name)
            if name in form or name in files:
                return None, None, (400, "field %r given twice" % name)
            data = part.get_payload(decode=True) or b""
            fname = part.get_filename()
            if name == "file":
                if fname is None:
                    return None, None, (400, "file must be an upload")
                files[name] = {"filename": fname, "size": len(data),
                               "content_type": part.get_content_type(),
                               "sha256": hashlib.sha256(data).hexdigest(),
                               "content_b64": base64.b64encode(data).decode()}
                continue
            if fname is not None:
                return None, None, (400, "field %r must not be a file" % name)
            try:
                form[name] = data.decode("utf-8")
            except UnicodeDecodeError:
                return None, None, (400, "field %r is not UTF-8" % name)
        return form, files, None

    def sendmessage(self):
        st = self.server.state
        if not self.bearer():
            return
        form, files, err = self.parse_multipart()
        if err:
            return self.fail(err[0], err[1])
        for k in ("reg_id", "contacts"):
            if not form.get(k):
                return self.fail(400, "%s is required" % k)
        if "message" not in form and "file" not in files:
            return self.fail(400, "message is required")
        contacts = form["contacts"].split(",")
        for c in contacts:
            if not CONTACT_RE.match(c):
                return self.fail(400, "invalid contact %r: digits with the country code" % c)
        if form.get("send_time"):
            try:
                datetime.datetime.strptime(form["send_time"], "%Y-%m-%d %H:%M:%S")
            except ValueError:
                return self.fail(400, "send_time must be YYYY-MM-DD HH:MM:SS")
            if len(form["send_time"]) != 19:
                return self.fail(400, "send_time must be YYYY-MM-DD HH:MM:SS")
        with st.lock:
            dev = st.devices.get(form["reg_id"])
            connected = dev is not None and dev["connected"]
            if connected:
                st.sent += 1
                n = st.sent
        if dev is None:
            return self.fail(404, "unknown reg_id %s" % form["reg_id"])
        if not connected:
            return self.fail(400, "device %s is not connected" % form["reg_id"])
        self.answer(200, {"status": True, "message": "Messages queued",
                          "data": {"id": n, "count": len(contacts)}})

    def logout(self):
        st = self.server.state
        if not self.bearer():
            return
        b = self.json_body()
        if b is None:
            return
        reg, phone = b.get("reg_id"), b.get("phone")
        if not isinstance(reg, (str, int)) or not isinstance(phone, str) or not phone.isdigit():
            return self.fail(400, "reg_id and phone (digits) are required")
        with st.lock:
            dev = st.devices.get(str(reg))
            ok = dev is not None and dev["phone"] == phone
            if ok:
                del st.devices[str(reg)]
        if not ok:
            return self.fail(404, "no device %s with phone %s" % (reg, phone))
        self.answer(200, {"status": True, "message": "Logged out"})

def main():
    ap = parser(__doc__.split("\n")[0])
    ap.add_argument("--phone", default="905550000001")
    ap.add_argument("--password", default="s3cret-pass")
    ap.add_argument("--device", action="append", default=[])
    ap.add_argument("--token-ttl", type=float, default=None)
    ap.add_argument("--link-after", type=int, default=2)
    args = ap.parse_args()
    serve(args, State(args), Handler)


if __name__ == "__main__":
    main()
