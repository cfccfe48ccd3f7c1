#!/usr/bin/python3
"""seeds.py - the seed corpora of the fuzz harnesses, made from the fixtures.

    python3 tests/fuzz/seeds.py [HARNESS...]

writes tests/fuzz/corpus/NAME/seed-* for each harness (all by default),
from the tree's fixtures (tests/fixtures/**, /work/shared's Alertmanager
fixtures when present, tests/spec/mustache, rules/*.yaml, templates/, the
system's zoneinfo) and a few hand-written inputs for what no fixture
shows.  Files the fuzzers found (merged into the corpus by `make
fuzz-merge`) are named otherwise and left alone; a seed that changes is
rewritten.  Each input is written in the harness's input format (see the
comment at the top of tests/fuzz/fuzz_NAME.c).
"""
import glob
import json
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")
FIX = os.path.join(ROOT, "tests", "fixtures")


def read(path, mode="r"):
    if mode == "rb":
        with open(path, "rb") as f:
            return f.read()
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        return f.read()


def name_of(s):
    return re.sub(r"[^A-Za-z0-9._-]+", "-", s).strip("-")[:80]


class Seeds:
    def __init__(self, harness):
        self.dir = os.path.join(CORPUS, harness)
        self.files = {}

    def add(self, name, data):
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        name = "seed-" + name_of(name)
        n, k = name, 2
        while n in self.files and self.files[n] != data:
            n = "%s-%d" % (name, k)
            k += 1
        self.files[n] = data

    def write(self):
        os.makedirs(self.dir, exist_ok=True)
        for old in glob.glob(os.path.join(self.dir, "seed-*")):
            if os.path.basename(old) not in self.files:
                os.unlink(old)
        for n, data in sorted(self.files.items()):
            path = os.path.join(self.dir, n)
            if not os.path.exists(path) or read(path, "rb") != data:
                with open(path, "wb") as f:
                    f.write(data)
        print("%-13s %3d seeds" % (os.path.basename(self.dir), len(self.files)))


def am_fixtures():
    files = sorted(glob.glob(os.path.join(FIX, "alertmanager-0.25", "*.json")))
    files += sorted(glob.glob("/work/shared/fixtures/alertmanager-0.25/*.json"))
    seen, out = set(), []
    for f in files:
        data = read(f)
        if data not in seen:
            seen.add(data)
            out.append((os.path.basename(f), data))
    return out


def webhook_lines():
    path = os.path.join(FIX, "alertmanager-0.25", "routing", "webhooks.jsonl")
    return [l for l in read(path).splitlines() if l.strip()]


SINGLE = [
    '{"labels":{"alertname":"DiskFull","severity":"critical","instance":"db1:9100"},'
    '"annotations":{"summary":"Disk almost full"},"status":"firing",'
    '"startsAt":"2026-11-24T13:46:31Z"}',
    '[{"title":"backup failed","message":"exit 3"},{"labels":{"alertname":"X"},'
    '"endsAt":"2026-11-24T13:46:53.123+03:00","generatorURL":"http://prom:9090"}]',
    '{"title":"\\u00e7\\u00f6p \\ud83d\\udd25","message":"line one\\nline two","labels":{}}',
    '{"lables":{"alertname":"Typo"}}',
    '{"alerts":[{"labels":{"alertname":"A","service":"mysql-1","severity":"critical",'
    '"team":"web","env":"prod","cluster":"c1"},"status":"resolved",'
    '"startsAt":"2026-11-24T13:46:31Z","endsAt":"2026-11-24T13:50:34Z"}],'
    '"version":"4","groupKey":"{}:{}","truncatedAlerts":0}',
    '{"alerts":[{"labels":{"alertname":"A","":"x"}}]}',
    '[' + ",".join('{"labels":{"alertname":"N%d","service":"db"}}' % i for i in range(12)) + ']',
]


def payload(s):
    for name, data in am_fixtures():
        s.add("am-" + name, data)
    for f in sorted(glob.glob(os.path.join(FIX, "payload", "*.json"))):
        if not f.endswith(".out.json"):
            s.add("payload-" + os.path.basename(f), read(f))
    s.add("routing-alerts.json", read(os.path.join(FIX, "alertmanager-0.25", "routing",
                                                   "alerts.json")))
    for i, l in enumerate(webhook_lines()[:20]):
        s.add("webhook-%02d" % i, l)
    for i, x in enumerate(SINGLE):
        s.add("alert-%d" % i, x)


# --- configuration -------------------------------------------------------------------

MULTI = """\
include: [conf.d/*.yaml, extra.yaml]
spool: {dir: /var/lib/alertsink/spool, max_age: 1h30m, max_size: 10MiB}
http: {listen: "127.0.0.1:9095", bearer_token_file: token, max_body: 1MiB, timeout: 30s}
unix: {path: /run/alertsink/alertsink.sock, mode: "0660", max_clients: 10}
whatsapp: {phone: "+90 (555) 000-0000", password: "${WA_PASSWORD}", rate_limit: 30/m,
           base_url: "https://api.wamessage.app", timeout: 10s}
smtp: {host: mail.example.org, port: 587, username: alerts, password_file: smtp.pass,
       from: "Alerts <alerts@example.org>", tls: none}
templates: {dir: tpl}
defaults: {fallback_after: 2m, dedup_window: 5m}
workers: 4
receivers:
  - name: ops
    whatsapp: {to: ["+90 555 000 0001"], template: custom, max_length: 300,
               send_time: "2030-01-01 09:00:00"}
    email: {to: [ops@example.org, "On Call <oncall@example.org>"], subject: "{{title}}"}
    mode: fallback
    fallback_after: 1m
  - name: log
    file: {path: /var/log/alertsink/out.jsonl, mode: "0640"}
    channels: [file]
route:
  receiver: ops
  group_by: [alertname, cluster]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
#@file conf.d/routes.yaml
route:
  routes:
    - matchers: ['severity=~"critical|page"', 'team!="db"']
      receiver: ops
      mute_time_intervals: [nights]
      continue: true
    - match: {team: db}
      match_re: {service: "mysql.*"}
      receiver: log
      active_time_intervals: [office]
      group_by: ['...']
time_intervals:
  - name: nights
    time_intervals:
      - times: [{start_time: "22:00", end_time: "24:00"}]
        weekdays: ['monday:friday']
        location: Europe/Istanbul
mute_time_intervals:
  - name: office
    time_intervals: [{weekdays: [saturday, sunday], days_of_month: ['-3:-1'], months: [december]}]
#@file conf.d/empty.yaml
#@file extra.yaml
log: {level: debug}
#@file token
s3cret-token
#@file smtp.pass
hunter2
#@file tpl/custom.mustache
{{#alerts}}{{>line}}{{/alerts}}{{^alerts}}nothing{{/alerts}}
#@file tpl/line.mustache
* {{labels.alertname}} since {{since}}{{#resolvedAt}}, resolved {{resolvedAt}}{{/resolvedAt}}
#@file tpl/email.html.mustache
<ul>{{#alerts}}<li>{{title}}</li>{{/alerts}}</ul>
#@env
WA_PASSWORD=pa$$word with ${braces}
"""

SMALL_CONFIGS = {
    "modules-and-bad-keys": """\
modules: [/usr/lib/alertsink/modules/hello.so]
spool: {dir: s, max_size: 10XB}
receivers: [{name: r, file: {path: o}, email: {to: [not-an-address]}}]
route: {receiver: nobody, group_wait: forever}
""",
    "aliases": """\
spool: {dir: /tmp/s}
x: &f {path: /tmp/o.jsonl}
receivers: [{name: a, file: *f}, {name: b, file: *f}]
route: &r {receiver: a, routes: [{receiver: b, matchers: [x=y]}]}
""",
    "literal-dollar": """\
spool: {dir: "/tmp/$${HOME}"}
receivers: [{name: "r$${x}", file: {path: "/tmp/o-${NAME}.jsonl"}}]
route: {receiver: "r$${x}"}
#@env
NAME=a b: "c"
""",
    "subject-template-error": """\
spool: {dir: /tmp/s}
smtp: {host: localhost, tls: none, from: a@example.org}
receivers: [{name: r, email: {to: [b@example.org], subject: "{{#x}}"}}]
route: {receiver: r}
""",
    "starttls-ca-file": """\
spool: {dir: /tmp/s}
smtp: {host: mail.example.org, tls: starttls, tls_ca_file: ca.pem, from: a@example.org}
receivers: [{name: r, email: {to: [b@example.org]}}]
route: {receiver: r}
#@file ca.pem
-----BEGIN CERTIFICATE-----
MIIBszCCAVmgAwIBAgIUfuzz
-----END CERTIFICATE-----
""",
    "merge-keys-no-env": """\
spool: {dir: /tmp/s}
http: {bearer_token: "${UNSET_TOKEN}"}
receivers:
  - name: a
    file: &f {path: /tmp/a.jsonl, mode: "0640"}
  - name: b
    file: {<<: *f, path: /tmp/b.jsonl}
route: &r
  receiver: a
  group_by: [alertname]
  routes:
    - {<<: [{receiver: b}, {continue: true}], matchers: [x=y]}
#@no-env
""",
    "recursive-template": """\
spool: {dir: /tmp/s}
templates: {dir: t}
receivers: [{name: r, file: {path: /tmp/o, template: self}}]
route: {receiver: r}
#@file t/self.mustache
{{>self}}{{>self}}
""",
}


def kubernetes_config():
    text = read(os.path.join(ROOT, "packaging", "kubernetes", "alertmanager-alertsink.yaml"))
    m = re.search(r"alertsink\.yaml: \|\n((?:    .*\n|\n)+)", text)
    if not m:
        return None
    return "".join(l[4:] + "\n" for l in m.group(1).splitlines())


def config(s):
    for f in ["rules/quickstart.yaml", "rules/example.yaml", "packaging/alertsink.yaml"]:
        s.add(os.path.basename(os.path.dirname(f)) + "-" + os.path.basename(f),
              read(os.path.join(ROOT, f)))
    k8s = kubernetes_config()
    if k8s:
        s.add("kubernetes-alertsink.yaml", k8s)
    s.add("alertmanager.yml", read(os.path.join(FIX, "alertmanager-0.25", "routing",
                                                "alertmanager.yml")))
    s.add("multi-file", MULTI)
    for n, c in SMALL_CONFIGS.items():
        s.add(n, c)


# --- templates -----------------------------------------------------------------------

def mustache(s):
    for f in sorted(glob.glob(os.path.join(ROOT, "templates", "*.mustache"))):
        s.add("template-" + os.path.basename(f), read(f))
    for f in sorted(glob.glob(os.path.join(ROOT, "tests", "spec", "mustache", "*.json"))):
        spec = json.loads(read(f))
        base = os.path.basename(f)[:-5].lstrip("~")
        for i, t in enumerate(spec["tests"]):
            text = t["template"]
            if not text.endswith("\n"):
                text += "\n"
            for pn, ptext in sorted(t.get("partials", {}).items()):
                text += "#@partial %s\n%s\n" % (pn, ptext)
            text += "#@data\n" + json.dumps(t["data"]) + "\n"
            s.add("spec-%s-%03d" % (base, i), text)


def split(s):
    wa = "🔥 *[FIRING:2] DiskFull*\n\n" + "\n".join(
        "🔥 *DiskFull* is firing\n• instance: db%d:9100\n*Summary:* Disk almost full on db%d" % (i, i)
        for i in range(12))
    s.add("whatsapp-message", wa + "\n#@max 160\n")
    s.add("one-long-line", "x" * 300 + "\n#@max 50\n")
    s.add("long-header", ("h" * 90) + "\n" + "body line\n" * 20 + "#@max 120\n")
    s.add("utf8-cut", "başlık\n" + "çğışöü€😀" * 40)
    s.add("no-newline", "a" * 100)
    s.add("empty-first-line", "\n" + "b\n" * 50)
    s.add("invalid-utf8", "head\n" + "\xff\xfe" * 30 + "\n#@max 9\n")


# --- matchers and time intervals -----------------------------------------------------

MATCHERS = [
    'severity=critical', '  team   !=   "db storage"  ', 'a=~"x|y"', 'a !~ x|y ',
    'msg="say \\"hi\\" \\\\ \\n \\d"', 'path=C:\\', '{a="1", b=~"x|y",c!=3}',
    'list="a,b",other=x, ', 'q="a\\",b"', '', '{}', 'a=', 'a==1', 'ns:name=x', 'a=b\u00a0',
    'a=b\u00a0,c=d', 'a=b\v,c=d', 'summary=a,b', 'a', '=b', 'a=~"("', 'a=~"x{2,1}"',
    'a="\\xff"', '{a=1,b}', 'team=~"(?i)db.*"', 'port=~"\\\\d+"', 'env!~".+"',
    'm="q\\"b\\\\s\\nn"', 'x=~"(a+)+$"', 'y=~"\\\\p{L}+"', 'z=~"(?=a)a"',
]


def matcher(s):
    for i, m in enumerate(MATCHERS):
        s.add("matcher-%02d" % i, m)
    import yaml  # python3-yaml, a test dependency

    def walk(route, out):
        out.extend(route.get("matchers", []))
        for r in route.get("routes", []):
            walk(r, out)
        return out

    am = yaml.safe_load(read(os.path.join(FIX, "alertmanager-0.25", "routing",
                                          "alertmanager.yml")))
    for i, m in enumerate(walk(am["route"], [])[:20]):
        s.add("alertmanager-%02d" % i, m)
    s.add("with-labels", 'service=~"db|mysql.*",env!=""\n#@labels\n{"service":"mysql-1",'
          '"env":"prod"}\n')


def timeinterval(s):
    src = read(os.path.join(ROOT, "tests", "unit", "test_timeinterval.c"))
    s.add("fields", "- name: office-hours\n  time_intervals:\n    - times:\n"
          "        - start_time: '09:00'\n          end_time: '17:30'\n"
          "        - {start_time: \"20:00\", end_time: \"24:00\"}\n"
          "      weekdays: ['Monday:FRIDAY', 'sunday']\n"
          "      days_of_month: ['1:5', '-3:-1', 15, '1:-1']\n"
          "      months: ['may:august', '1', 'December', '02:3']\n"
          "      years: ['2020:2022', 2030]\n      location: Europe/Istanbul\n"
          "    - weekdays: []\n      months:\n    - {}\n    - ~\n- name: never\n")
    for i, snip in enumerate(re.findall(r'^\s*\{"((?:[^"\\]|\\.)*)",', src, re.M)):
        snip = snip.encode().decode("unicode_escape")
        if snip.startswith("{"):
            body = "    - " + snip + "\n"
        else:
            body = "    - " + snip + "\n"
        s.add("case-%02d" % i, "- name: t%d\n  time_intervals:\n%s" % (i, body))
    for loc in ["Local", "UTC", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]:
        s.add("location-" + loc, "- name: x\n  time_intervals:\n    - times: "
              "[{start_time: '01:30', end_time: '03:00'}]\n      location: %s\n" % loc)


# --- send formats and socket lines ---------------------------------------------------

def args_to_sections(args):
    out, words = "", args.split()
    i = 0
    while i < len(words):
        w = words[i]
        if w.startswith("--") and "=" in w:
            k, v = w[2:].split("=", 1)
        elif w.startswith("--") and i + 1 < len(words):
            k, v = w[2:], words[i + 1]
            i += 1
        else:
            i += 1
            continue
        i += 1
        if k in ("format", "label", "title", "severity"):
            out += "#@%s %s\n" % (k, v.strip("'\""))
    return out


def formats(s):
    for d in ["formats", "nagios", "collectd"]:
        for f in sorted(glob.glob(os.path.join(FIX, d, "*"))):
            stem, ext = os.path.splitext(f)
            if ext in (".err", ".json", ".args") or f.endswith(".out.json"):
                continue
            if ext == ".env" and os.path.exists(stem + ".txt"):
                continue  # taken with its .txt
            text = read(stem + ".txt", "rb") if os.path.exists(stem + ".txt") else b""
            if text and not text.endswith(b"\n"):
                text += b"\n"
            if os.path.exists(stem + ".args"):
                text += args_to_sections(read(stem + ".args")).encode()
            if os.path.exists(stem + ".env"):
                text += b"#@env\n" + read(stem + ".env", "rb")
            s.add("%s-%s" % (d, os.path.basename(stem)), text)


def socketline(s):
    texts = []
    for f in sorted(glob.glob(os.path.join(FIX, "formats", "*.txt"))):
        texts.append(read(f, "rb"))
    s.add("texts", b"\n".join(t.strip(b"\n") for t in texts[:12]) + b"\n")
    s.add("webhooks", "\n".join(webhook_lines()[:6]) + "\n")
    s.add("alerts", "\n".join(SINGLE) + "\n")
    s.add("crlf-and-empty", "disk full on db1\r\n\r\n\n  {\"labels\":\n[1,2]\r\nlast without newline")
    s.add("long-line", "x" * 300 + "\nshort\n" + "y" * 127 + "\r\n")
    s.add("nul", b"a\x00b\n{\"title\":\"t\"}\x00\n")


# --- MIME, Wamessage, SMTP -----------------------------------------------------------

def mime(s):
    s.add("subject-ascii", "[FIRING:2] DiskFull on db1\n#@to\nops@example.org\n"
          "On Call <oncall@example.org>\n\"Doe, John\" <john@example.org>\n")
    s.add("subject-utf8", "🔥 Disk dolu: /var %97 — çok acil\n#@from Uyarı Sistemi <alerts@example.org>\n")
    s.add("long-words", ("averyveryveryverylongwordwithoutanyspacesatall" * 3 + " ") * 3)
    s.add("encoded-word-lookalike", "=?UTF-8?B?Zm9v?= plain =?x?= \r\nHeader: injected\n")
    s.add("body", "From the start\nline with trailing space \nlast=\ttab\n" + "é" * 80 +
          "\n#@html\n<p>Ünïcödé &amp; <b>bold</b></p>\n")
    s.add("controls", "a\x01b\x7fc\td\re\x00f")
    s.add("bad-addresses", "s\n#@to\na@b@c\n<a@b>x\n@x\nx@\nname <a b@c>\nü@example.org\n"
          "a@example.org.\n")
    for i, t in enumerate(am_fixtures()[:2]):
        s.add("fixture-%d" % i, t[1])


def wamessage(s):
    answers = [
        (200, {"status": True, "message": "Login successful", "token": "t0k"}),
        (200, {"status": True, "data": {"token": "t0k", "user": {"phone": "905550000000"}}}),
        (401, {"status": False, "message": "Invalid phone number or password"}),
        (200, {"status": True, "data": {"code": "MZYX-8O6K", "registrationId": 7102}}),
        (200, {"status": True, "connected": True, "message": "Device connected"}),
        (200, {"status": False, "message": "Waiting for the phone"}),
        (200, {"status": True, "data": [{"registration_id": "7001", "phone": "905550000001",
                                         "status": "connected"},
                                        {"registration_id": 7002, "phone": "905550000002",
                                         "connected": False}]}),
        (200, {"data": {"data": [{"registrationId": 1.5, "phoneNumber": "9"}], "page": -1}}),
        (200, {"status": True, "data": None}),
        (200, [{"reg_id": "1", "status": "online"}, 3, "x"]),
        (429, {"message": "slow down"}),
        (503, None),
        (200, {"status": "error", "error": "quota"}),
        (200, {"base_url": "https://api.wamessage.app", "phone": "905550000000", "token": "t"}),
    ]
    for i, (st, body) in enumerate(answers):
        text = json.dumps(body) if body is not None else "<html>Service Unavailable</html>"
        s.add("answer-%02d-%d" % (i, st), "%s\n#@status %d\n%s" %
              (text, st, "#@retry-after 30\n" if st in (429, 503) else ""))


def smtp(s):
    s.add("session-ok", "220 mail.example.org ESMTP\r\n#@wrote\nEHLO host\r\n#@read\n"
          "250-mail.example.org\r\n250-SIZE 33554432\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n"
          "250 HELP\r\n#@wrote\nAUTH PLAIN AGFsZXJ0cwBodW50ZXIy\r\n#@read\n235 2.7.0 OK\r\n"
          "#@wrote\nMAIL FROM:<a@example.org>\r\n#@read\n250 OK\r\n#@wrote\nRCPT TO:<b@example.org>\r\n"
          "#@read\n550 5.1.1 no such user\r\n#@wrote\nDATA\r\n#@read\n354 go\r\n#@wrote\n.\r\n"
          "#@read\n451 4.3.0 try later\r\n")
    s.add("auth-refused", "220 x\r\n#@wrote\nAUTH LOGIN\r\n#@read\n334 VXNlcm5hbWU6\r\n#@wrote\n"
          "YWxlcnRz\r\n#@read\n334 UGFzc3dvcmQ6\r\n#@wrote\naHVudGVy\r\n#@read\n"
          "535 5.7.8 Authentication credentials invalid\r\n")
    s.add("starttls-refused", "220-first line of a long greeting " + "x" * 200 + "\r\n220 hi\r\n"
          "#@wrote\nSTARTTLS\r\n#@read\n454 no\r\n")
    s.add("bad-replies", "2\r\n99 x\r\n600 y\r\n25a\r\n250x\r\n" + "5" * 600 + "\n#@read\n250")


def tz(s):
    for z in ["UTC", "Europe/Istanbul", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata",
              "Pacific/Chatham", "America/Sao_Paulo", "Africa/Casablanca"]:
        p = os.path.join("/usr/share/zoneinfo", z)
        if os.path.exists(p):
            s.add("zoneinfo-" + z.replace("/", "-"), read(p, "rb"))
    for i, spec in enumerate(["EST5EDT,M3.2.0,M11.1.0", "<+0330>-3:30", "CET-1CEST,M3.5.0,M10.5.0/3",
                              "AEST-10AEDT,M10.1.0,M4.1.0/3", "XXX3YYY,J60/-1,300/167",
                              "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", "UTC0", "NZST-12NZDT-13:45,M9.5.0,M4.1.0/3"]):
        s.add("posix-%d" % i, spec + "\n")


def graph(s):
    def err(code, msg, details=None, sub=None):
        e = {"message": msg, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}
        if details is not None:
            e["error_data"] = {"messaging_product": "whatsapp", "details": details}
        if sub is not None:
            e["error_subcode"] = sub
        return {"error": e}
    answers = [
        (200, {"messaging_product": "whatsapp", "contacts": [{"input": "905550000001",
               "wa_id": "905550000001"}], "messages": [{"id": "wamid.HBgM"}]}),
        (200, {"display_phone_number": "+90 555 000 00 00", "verified_name": "Alerts",
               "quality_rating": "GREEN", "id": "106540352242922"}),
        (401, err(190, "Error validating access token: Session has expired", sub=463)),
        (400, err(131047, "Re-engagement message", "Message failed to send because more than "
                  "24 hours have passed since the customer last replied to this number.")),
        (400, err(131026, "Message undeliverable")),
        (429, err(130429, "Rate limit hit", "Cloud API message throughput has been reached.")),
        (400, err(131056, "(Business Account, Consumer Account) pair rate limit hit")),
        (400, err(80007, "Rate limit issues")),
        (503, err(2, "Service temporarily unavailable")),
        (400, err(100, "Invalid parameter", "Param text['body'] must be at most 4096 chars")),
        (500, None),
        (200, {"error": "not an object"}),
        (400, {"error": {"code": "190", "message": 7}}),
    ]
    for i, (st, body) in enumerate(answers):
        text = json.dumps(body) if body is not None else "<html>Internal Server Error</html>"
        s.add("answer-%02d-%d" % (i, st), "%s\n#@status %d\n%s" %
              (text, st, "#@retry-after 30\n" if st in (429, 503) else ""))
    s.add("text", "🔥 [FIRING:2] DiskFull\n\nsummary:\tdisk 95%     full\n" + "é" * 300)
    s.add("empty", "")


RE2_EXTRA = [
    "(?=a)a", "(a)\\1", "(?>a+)b", "a++", "(?R)", "(?(1)a|b)", "\\Qa.b\\E", "\\Qunclosed",
    "[[:alpha:]]+", "\\pL\\p{Greek}\\PN", "(?i)\\p{Lu}", "x{1001}", "((a*)*)*b", "(a|aa)*c",
    "[\\x{10FFFF}-\\x{0}]", "(?U)a+?", "(?m)^a$", "(?s:.)", "\\z\\A\\b\\B", "a)|(b",
    "[^\\D\\S]", "(?P<n>x)(?P=n)", "\\C", "a{,3}", "\\8", "[a-\\d]",
]


def re2(s):
    cases = {}
    for line in read(os.path.join(FIX, "re2", "cases.jsonl")).splitlines():
        if line.strip() and not line.startswith("#"):
            c = json.loads(line)
            cases.setdefault(c["re"], [])
            if "in" in c:
                cases[c["re"]].append(c["in"])
    for i, (r, ins) in enumerate(sorted(cases.items())):
        s.add("case-%03d" % i, r + "\n" + "".join("#@match\n%s\n" % x for x in ins[:4]))
    for i, r in enumerate(RE2_EXTRA):
        s.add("pcre-%02d" % i, r)


HARNESSES = {
    "payload": payload, "config": config, "mustache": mustache, "matcher": matcher,
    "timeinterval": timeinterval, "formats": formats, "socketline": socketline, "mime": mime,
    "split": split, "wamessage": wamessage, "smtp": smtp, "tz": tz, "re2": re2,
    "graph": graph,
}


def main():
    names = sys.argv[1:] or sorted(HARNESSES)
    for n in names:
        s = Seeds(n)
        HARNESSES[n](s)
        s.write()


if __name__ == "__main__":
    main()
