#!/usr/bin/python3
"""A test SMTP server on Debian's aiosmtpd, for the email sink's tests.

Run it as a program; it binds a loopback port (0 = any free one), prints
"READY <port>" on stdout once it listens, and serves until killed.  Every
message it accepts is written to --spool as N.eml (the bytes as received,
dot-unstuffed) beside N.json (the envelope: mail_from, rcpt_tos, whether
the session was under TLS, the SNI name, the AUTH login).

What it can be told to do:
  --tls-cert/--tls-key   offer STARTTLS with this certificate (otherwise it
                         is not offered at all)
  --auth-user/--auth-password
                         offer AUTH PLAIN and LOGIN and require a login with
                         exactly these credentials before MAIL
  --auth-optional        offer AUTH but take mail without it too
  --auth-require-tls     advertise AUTH only after STARTTLS
  --reject ADDR          answer RCPT TO:<ADDR> with 550 (repeatable)
  --reject-temp ADDR     answer RCPT TO:<ADDR> with 450 (repeatable)
  --tempfail N           answer MAIL FROM with 451 in the next N transactions
  --hang greeting        accept connections and never say a word
  --hang data            take the message, never answer the final dot
  --drop-in-data N       in the next N transactions, close the connection in
                         the middle of DATA: after the 354 and the message's
                         first line, before the final dot
"""

import argparse
import asyncio
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Recorder:
    """aiosmtpd handler: the per-address and per-transaction behaviours."""

    def __init__(self, opts):
        self.opts = opts
        self.tempfail = opts.tempfail
        self.reject = {a.lower() for a in opts.reject}
        self.reject_temp = {a.lower() for a in opts.reject_temp}
        self.count = 0
        self.sni = {}
        self.drop_in_data = opts.drop_in_data

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.tempfail > 0:
            self.tempfail -= 1
            return "451 4.3.0 Temporary failure, try again later (test)"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if address.lower() in self.reject_temp:
            return "450 4.2.1 <%s>: Mailbox busy, try again later" % address
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.opts.hang == "data":
            await asyncio.sleep(3600)
        self.count += 1
        base = os.path.join(self.opts.spool, "%d" % self.count)
        ssl_obj = session.ssl.get("ssl_object") if session.ssl else None
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": ssl_obj is not None,
            "sni": self.sni.get(id(ssl_obj)) if ssl_obj is not None else None,
            "auth_login": (session.login_data.decode()
                           if isinstance(session.login_data, bytes) else session.login_data),
        }
        # .json first, .eml last: a test that sees the .eml sees both.
        with open(base + ".json.tmp", "w") as f:
            json.dump(meta, f)
        os.rename(base + ".json.tmp", base + ".json")
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 Message accepted"


class DroppingSMTP(SMTP):
    """aiosmtpd's server, less polite: --drop-in-data hangs up mid-message."""

    async def smtp_DATA(self, arg):
        h = self.event_handler
        if h.drop_in_data > 0 and self.envelope.rcpt_tos and not arg:
            h.drop_in_data -= 1
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            await self._reader.readuntil(b"\r\n")
            self.transport.close()
            return
        await super().smtp_DATA(arg)


def make_authenticator(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        # handled=False: aiosmtpd then answers 535 itself.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
    return authenticate


async def hang(reader, writer):
    try:
        await reader.read()  # until the client gives up
    finally:
        writer.close()


async def main(opts):
    loop = asyncio.get_running_loop()
    if opts.hang == "greeting":
        server = await asyncio.start_server(hang, opts.host, opts.port)
    else:
        handler = Recorder(opts)
        kwargs = {"hostname": "smtp.test", "decode_data": False}
        if opts.tls_cert:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(opts.tls_cert, opts.tls_key)
            ctx.sni_callback = lambda obj, name, c: handler.sni.__setitem__(id(obj), name)
            kwargs["tls_context"] = ctx
        if opts.auth_user is not None:
            kwargs["authenticator"] = make_authenticator(opts.auth_user, opts.auth_password)
            kwargs["auth_required"] = not opts.auth_optional
            kwargs["auth_require_tls"] = opts.auth_require_tls
        server = await loop.create_server(lambda: DroppingSMTP(handler, **kwargs), opts.host,
                                          opts.port)
    port = server.sockets[0].getsockname()[1]
    print("READY %d" % port, flush=True)
    async with server:
        await server.serve_forever()


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--spool", default=".")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--auth-user")
    p.add_argument("--auth-password", default="")
    p.add_argument("--auth-require-tls", action="store_true")
    p.add_argument("--auth-optional", action="store_true")
    p.add_argument("--reject", action="append", default=[])
    p.add_argument("--reject-temp", action="append", default=[])
    p.add_argument("--tempfail", type=int, default=0)
    p.add_argument("--hang", choices=["greeting", "data"])
    p.add_argument("--drop-in-data", type=int, default=0)
    opts = p.parse_args(argv)
    if opts.host not in ("127.0.0.1", "localhost", "::1"):
        p.error("--host must be a loopback address")
    return opts


if __name__ == "__main__":
    import logging
    logging.basicConfig(level=logging.WARNING)
    try:
        asyncio.run(main(parse_args(sys.argv[1:])))
    except KeyboardInterrupt:
        pass
