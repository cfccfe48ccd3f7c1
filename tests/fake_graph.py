#!/usr/bin/python3
"""fake_graph.py - a strict fake of Meta's Graph API for the WhatsApp
Business Cloud API, for tests.

It serves the two calls alertsink makes and refuses, in the Graph API's
error shape ({"error": {"message", "type", "code", "error_data": {"details"},
"fbtrace_id"}}) and with the codes Meta uses, anything a real server would
refuse and more:

  POST /{version}/{phone_number_id}/messages
      the version and the phone number id of the command line; Authorization:
      Bearer with the token (none: code 2500, another: 190, expired: 190);
      Content-Type application/json; "messaging_product": "whatsapp";
      "recipient_type" "individual" if given; "to" digits only (no +, no
      spaces, 8 to 15 digits); no key it does not know; and either
        "type": "text", "text": {"body": 1 to 4096 characters, "preview_url"}
            refused with 131047 unless the recipient's 24-hour window is open
            (--window, "window" control)
        "type": "template", "template": {"name", "language": {"code"},
            "components": [{"type": "body", "parameters": [{"type": "text",
            "text"}]}]}  the template must be approved (--template) in that
            language (else 132001), with its number of parameters (else
            132000), each non-empty, without new lines, tabs or more than
            four spaces in a row (else 132018)
      a recipient made undeliverable answers 131026.  Success:
      {"messaging_product", "contacts": [{"input", "wa_id"}], "messages": [{"id"}]}.
  GET /{version}/{phone_number_id}
      the number: verified_name, display_phone_number, quality_rating, ...

Usage:
    fake_graph.py [--port 0] [--port-file F] [--delay-ms MS] [--version v24.0]
                  [--phone-number-id 106540352242922] [--token TOKEN]
                  [--window 905551112233 | --window '*'] [--template NAME:LANG:NPARAMS]
                  [--display-number "+1 555-025-3483"] [--verified-name NAME]
                  [--quality GREEN]

Steered over HTTP (fake_http.py: /_control with "fail" (plus "code": the
Graph API error code, default 131000 for a 5xx and 100 otherwise), "hang",
"reset", "clear"; /_requests; /_state), with these control keys:

    "window": {"open": [...], "close": [...]}   24-hour windows ("*": everyone)
    "undeliverable": ["9055..."]                these recipients answer 131026
    "expire_token": true | false                the token answers 190 (expired) or works
    "quality": "YELLOW"                         the number's quality rating

A request's record also holds "to" and "type" of a message, and "wamid"
of a message taken.
"""

import re

from fake_http import FakeHandler, FakeState, parser, serve

TO_RE = re.compile(r"^[1-9][0-9]{7,14}$")
MESSAGE_KEYS = {"messaging_product", "recipient_type", "to", "type", "text", "template"}
TEXT_MAX = 4096


class State(FakeState):
    def __init__(self, args):
        super().__init__(args)
        self.version = args.version
        self.phone_number_id = args.phone_number_id
        self.token = args.token
        self.token_expired = False
        self.windows = set(args.window)
        self.undeliverable = set()
        self.templates = {}  # (name, language) -> number of body parameters
        for t in args.template:
            name, lang, n = t.split(":")
            self.templates[(name, lang)] = int(n)
        self.display_number = args.display_number
        self.verified_name = args.verified_name
        self.quality = args.quality
        self.sent = 0

    def control(self, c):
        super().control(c)
        w = c.get("window", {})
        self.windows |= set(w.get("open", []))
        self.windows -= set(w.get("close", []))
        if "undeliverable" in c:
            self.undeliverable = set(c["undeliverable"])
        if "expire_token" in c:
            self.token_expired = bool(c["expire_token"])
        if "quality" in c:
            self.quality = c["quality"]

    def snapshot(self):
        return {"sent": self.sent, "windows": sorted(self.windows),
                "undeliverable": sorted(self.undeliverable),
                "token_expired": self.token_expired}


class Handler(FakeHandler):
    server_version = "FakeGraph/1.0"

    def fail(self, status, message, headers=None, code=None, details=None, **extra):
        if code is None:
            code = 131000 if status >= 500 else 100
        err = {"message": message, "type": "OAuthException", "code": code,
               "error_data": {"messaging_product": "whatsapp", "details": details or message},
               "fbtrace_id": "AbCdEfFakeTrace"}
        self.answer(status, {"error": err}, headers)

    def bearer(self):
        st = self.server.state
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            self.fail(400, "An active access token must be used to query information about "
                      "the current user.", code=2500)
            return False
        if auth[7:].strip() != st.token:
            self.fail(401, "Invalid OAuth access token - Cannot parse access token", code=190)
            return False
        with st.lock:
            expired = st.token_expired
        if expired:
            self.fail(401, "Error validating access token: Session has expired on Sunday, "
                      "01-Mar-26 00:00:00 PST.", code=190)
            return False
        return True

    def route(self, method, path):
        st = self.server.state
        parts = path.strip("/").split("/")
        if len(parts) < 2 or parts[0] != st.version:
            return self.fail(400, "Unknown path components: %s (this server speaks %s)"
                             % (path, st.version), code=2500)
        if parts[1] != st.phone_number_id:
            return self.fail(400, "Unsupported %s request. Object with ID '%s' does not exist"
                             % (method.lower(), parts[1]), code=100)
        if method == "POST" and parts[2:] == ["messages"]:
            return self.messages()
        if method == "GET" and len(parts) == 2:
            return self.phone_number()
        return self.fail(400, "Unknown path components: /" + "/".join(parts[2:]), code=2500)

    # --- the API --------------------------------------------------------------

    def phone_number(self):
        st = self.server.state
        if not self.bearer():
            return
        with st.lock:
            quality = st.quality
        self.answer(200, {"verified_name": st.verified_name,
                          "code_verification_status": "VERIFIED",
                          "display_phone_number": st.display_number,
                          "quality_rating": quality, "platform_type": "CLOUD_API",
                          "throughput": {"level": "STANDARD"}, "id": st.phone_number_id})

    def invalid(self, what):
        self.fail(400, "(#100) Invalid parameter", details=what, code=100)

    def messages(self):
        st = self.server.state
        if not self.bearer():
            return
        ctype = self.headers.get("Content-Type", "")
        if not ctype.startswith("application/json"):
            return self.invalid("expected Content-Type application/json, got %r" % ctype)
        b = self.json_body()
        if b is None:
            return
        unknown = set(b) - MESSAGE_KEYS
        if unknown:
            return self.invalid("unknown parameters: %s" % ", ".join(sorted(unknown)))
        if b.get("messaging_product") != "whatsapp":
            return self.fail(400, "(#100) The parameter messaging_product is required.",
                             code=100)
        if b.get("recipient_type", "individual") != "individual":
            return self.invalid("recipient_type must be individual")
        to = b.get("to")
        self.record["to"] = to
        self.record["type"] = b.get("type")
        if not isinstance(to, str) or not TO_RE.match(to):
            return self.invalid("to: %r is not a phone number: digits with the country code, "
                                "no + or spaces" % (to,))
        kind = b.get("type")
        if kind == "text":
            if "template" in b:
                return self.invalid("a text message has no template")
            err = self.check_text(b.get("text"), to)
        elif kind == "template":
            if "text" in b:
                return self.invalid("a template message has no text")
            err = self.check_template(b.get("template"))
        else:
            return self.invalid("type must be text or template, not %r" % (kind,))
        if err:
            return self.fail(*err[:2], code=err[2], details=err[3] if len(err) > 3 else None)
        with st.lock:
            gone = to in st.undeliverable
        if gone:
            return self.fail(400, "Message Undeliverable.", code=131026,
                             details="Message Undeliverable.")
        with st.lock:
            st.sent += 1
            wamid = "wamid.FAKE%08d" % st.sent
        self.record["wamid"] = wamid
        self.answer(200, {"messaging_product": "whatsapp",
                          "contacts": [{"input": to, "wa_id": to}],
                          "messages": [{"id": wamid}]})

    def check_text(self, text, to):
        """None, or (status, message, code[, details])."""
        st = self.server.state
        if not isinstance(text, dict) or set(text) - {"body", "preview_url"}:
            return (400, "(#100) Invalid parameter", 100, "text: expected {body, preview_url}")
        body = text.get("body")
        if not isinstance(body, str) or not body:
            return (400, "(#100) The parameter text['body'] is required.", 100)
        if len(body) > TEXT_MAX:
            return (400, "(#100) Param text['body'] must be at most 4096 characters long.", 100)
        if "preview_url" in text and not isinstance(text["preview_url"], bool):
            return (400, "(#100) Invalid parameter", 100, "text.preview_url: a boolean")
        with st.lock:
            open_window = "*" in st.windows or to in st.windows
        if not open_window:
            return (400, "Re-engagement message", 131047,
                    "Message failed to send because more than 24 hours have passed since the "
                    "customer last replied to this number.")
        return None

    def check_template(self, t):
        st = self.server.state
        if not isinstance(t, dict) or set(t) - {"name", "language", "components"}:
            return (400, "(#100) Invalid parameter", 100,
                    "template: expected {name, language, components}")
        name, lang = t.get("name"), t.get("language")
        if not isinstance(name, str) or not isinstance(lang, dict) or set(lang) != {"code"}:
            return (400, "(#100) Invalid parameter", 100,
                    "template: a name and language: {code}")
        want = st.templates.get((name, lang["code"]))
        if want is None:
            return (404, "(#132001) Template name does not exist in the translation", 132001,
                    "template name (%s) does not exist in %s" % (name, lang["code"]))
        params = []
        for comp in t.get("components", []):
            if not isinstance(comp, dict) or comp.get("type") != "body" or \
                    set(comp) != {"type", "parameters"}:
                return (400, "(#100) Invalid parameter", 100, "components: body only")
            for p in comp["parameters"]:
                if not isinstance(p, dict) or p.get("type") != "text" or set(p) != {"type", "text"}:
                    return (400, "(#100) Invalid parameter", 100,
                            "parameters: {type: text, text}")
                params.append(p["text"])
        self.record["params"] = params
        if len(params) != want:
            return (400, "(#132000) Number of parameters does not match the expected number "
                    "of params", 132000, "body: number of localizable_params (%d) does not "
                    "match the expected number of params (%d)" % (len(params), want))
        for p in params:
            if not isinstance(p, str) or not p.strip() or "\n" in p or "\t" in p or \
                    "     " in p:
                return (400, "(#132018) There was an issue with the parameters in your "
                        "template.", 132018, "Param text cannot have new-line/tab characters "
                        "or more than 4 consecutive spaces, and cannot be empty")
        return None


def main():
    ap = parser(__doc__.split("\n")[0])
    ap.add_argument("--version", default="v24.0")
    ap.add_argument("--phone-number-id", default="106540352242922")
    ap.add_argument("--token", default="EAAG-fake-graph-token")
    ap.add_argument("--window", action="append", default=[])
    ap.add_argument("--template", action="append", default=[])
    ap.add_argument("--display-number", default="+1 555-025-3483")
    ap.add_argument("--verified-name", default="Alertsink Test")
    ap.add_argument("--quality", default="GREEN")
    args = ap.parse_args()
    serve(args, State(args), Handler)


if __name__ == "__main__":
    main()
