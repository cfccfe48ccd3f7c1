"""test_k8s_example.py - the Kubernetes example in packaging/kubernetes/
holds together.

No cluster is needed: every YAML document of every file there is parsed
(python3-yaml) and the essentials are checked against each other:

  - each document has apiVersion, kind and metadata.name;
  - the StatefulSet runs an alertsink container next to each Alertmanager
    (same pod), started with -c on the file its ConfigMap mounts;
  - alertsink's readiness and liveness probes GET /healthz on the port of
    its http.listen, and its startup probe is `alertsink ready` on the
    same configuration file;
  - spool.dir lies on a volume from the volumeClaimTemplates (one spool
    per replica), mounted read-write;
  - every container runs as non-root with a read-only root file system
    and no privilege escalation;
  - each secret alertsink's configuration names (a *_file path, a
    ${NAME}) comes from the Secret, through a mounted item or an
    environment variable;
  - Alertmanager's webhook posts to alertsink on loopback at that port,
    with credentials_file reading the same Secret key as alertsink's
    bearer_token_file, one --cluster.peer per replica; `amtool
    check-config` accepts its configuration;
  - `alertsink -t` accepts alertsink's configuration, with the mount
    points moved into a temporary directory and the secrets provided
    there and in the environment.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import BINARY, SOURCE  # noqa: E402

EXAMPLE_DIR = os.path.join(SOURCE, "packaging", "kubernetes")
AMTOOL = shutil.which("amtool") or "/usr/bin/amtool"


def load_documents():
    docs = []
    for name in sorted(os.listdir(EXAMPLE_DIR)):
        if name.endswith((".yaml", ".yml")):
            with open(os.path.join(EXAMPLE_DIR, name)) as f:
                docs += [(name, d) for d in yaml.safe_load_all(f) if d is not None]
    return docs


def under(path, directory):
    return path == directory or path.startswith(directory.rstrip("/") + "/")


class KubernetesExample(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.docs = load_documents()
        cls.by_kind = {}
        for _, d in cls.docs:
            cls.by_kind.setdefault(d.get("kind"), []).append(d)
        sts = cls.by_kind.get("StatefulSet", [])
        assert len(sts) == 1, "one StatefulSet expected, found %d" % len(sts)
        cls.sts = sts[0]
        cls.pod = cls.sts["spec"]["template"]["spec"]
        cls.containers = {c["name"]: c for c in cls.pod["containers"]}
        cls.volumes = {v["name"]: v for v in cls.pod.get("volumes", [])}
        cls.claims = {t["metadata"]["name"]: t
                      for t in cls.sts["spec"].get("volumeClaimTemplates", [])}
        cls.alertsink = cls.containers["alertsink"]
        cls.alertmanager = cls.containers["alertmanager"]
        cls.as_path, cls.as_text = cls.mounted_file(cls.alertsink,
                                                    cls.arg_after(cls.alertsink, "-c"))
        cls.as_conf = yaml.safe_load(cls.as_text)
        am_file = [a.split("=", 1)[1] for a in cls.alertmanager["args"]
                   if a.startswith("--config.file=")][0]
        cls.am_path, cls.am_text = cls.mounted_file(cls.alertmanager, am_file)
        cls.am_conf = yaml.safe_load(cls.am_text)

    # --- helpers ----------------------------------------------------------------

    @staticmethod
    def arg_after(container, flag):
        args = container.get("command", []) + container.get("args", [])
        return args[args.index(flag) + 1]

    @classmethod
    def mount_of(cls, container, path):
        """The (volumeMount, volume) that holds path in container: the deepest."""
        best = None
        for m in container.get("volumeMounts", []):
            if under(path, m["mountPath"]) and (best is None or
                                                 len(m["mountPath"]) > len(best["mountPath"])):
                best = m
        return (best, cls.volumes.get(best["name"]) if best else None)

    @classmethod
    def mounted_file(cls, container, path):
        """(path, text) of a file that a ConfigMap volume puts at path."""
        m, v = cls.mount_of(container, path)
        assert m is not None and v is not None and "configMap" in v, \
            "%s is not on a ConfigMap volume of %s" % (path, container["name"])
        key = os.path.relpath(path, m["mountPath"])
        cms = [c for c in cls.by_kind.get("ConfigMap", [])
               if c["metadata"]["name"] == v["configMap"]["name"]]
        assert cms, "no ConfigMap named %s" % v["configMap"]["name"]
        return path, cms[0]["data"][key]

    @classmethod
    def secret_key_at(cls, container, path):
        """(secret name, key) that a Secret volume of container puts at path, or None."""
        m, v = cls.mount_of(container, path)
        if m is None or v is None or "secret" not in v:
            return None
        rel = os.path.relpath(path, m["mountPath"])
        items = v["secret"].get("items")
        if items is None:  # every key, by its name
            return v["secret"]["secretName"], rel
        keys = [i["key"] for i in items if i["path"] == rel]
        return (v["secret"]["secretName"], keys[0]) if keys else None

    def port_number(self, container, port):
        if isinstance(port, int):
            return port
        ports = {p["name"]: p["containerPort"] for p in container.get("ports", []) if "name" in p}
        self.assertIn(port, ports, "named port %s not declared" % port)
        return ports[port]

    def listen_port(self):
        listen = str(self.as_conf["http"]["listen"])
        self.assertRegex(listen, r":\d+$", "http.listen must be on in this example")
        return int(listen.rsplit(":", 1)[1])

    # --- the checks -------------------------------------------------------------

    def test_documents_are_complete(self):
        self.assertGreaterEqual(len(self.docs), 4)
        for name, d in self.docs:
            for key in ("apiVersion", "kind"):
                self.assertIn(key, d, "%s: a document without %s" % (name, key))
            self.assertTrue(d.get("metadata", {}).get("name"), "%s: %s without a name" %
                            (name, d.get("kind")))

    def test_alertsink_runs_next_to_each_alertmanager(self):
        self.assertEqual(set(self.containers), {"alertmanager", "alertsink"})
        self.assertEqual(self.arg_after(self.alertsink, "-c"), self.as_path)
        self.assertGreaterEqual(self.sts["spec"]["replicas"], 2)

    def test_probes_ask_healthz_on_the_listen_port(self):
        port = self.listen_port()
        for probe in ("readinessProbe", "livenessProbe"):
            p = self.alertsink.get(probe)
            self.assertIsNotNone(p, "alertsink has no " + probe)
            get = p["httpGet"]
            self.assertEqual(get["path"], "/healthz", probe)
            self.assertEqual(self.port_number(self.alertsink, get["port"]), port, probe)
        cmd = self.alertsink["startupProbe"]["exec"]["command"]
        self.assertEqual(cmd[:2], ["alertsink", "ready"])
        self.assertEqual(cmd[cmd.index("-c") + 1], self.as_path)
        # The kubelet probes the pod's address: http.listen must take it.
        host = str(self.as_conf["http"]["listen"]).rsplit(":", 1)[0]
        self.assertIn(host, ("", "0.0.0.0", "[::]"), "http.listen must not be loopback only")

    def test_spool_is_on_a_claim_of_its_own(self):
        spool = self.as_conf["spool"]["dir"]
        m, _ = self.mount_of(self.alertsink, spool)
        self.assertIsNotNone(m, "spool.dir %s is on no volume" % spool)
        self.assertIn(m["name"], self.claims, "spool.dir must be on a volumeClaimTemplate")
        self.assertFalse(m.get("readOnly", False))
        self.assertNotIn(m["name"], self.volumes, "a claim template, not a shared volume")
        am_claims = [x["name"] for x in self.alertmanager.get("volumeMounts", [])
                     if x["name"] in self.claims]
        self.assertNotIn(m["name"], am_claims, "Alertmanager and alertsink share the spool")
        self.assertTrue(am_claims, "Alertmanager's storage (notification log) is not persistent")

    def test_security_context(self):
        pod_sc = self.pod.get("securityContext", {})
        for name, c in self.containers.items():
            sc = c.get("securityContext", {})
            non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
            user = sc.get("runAsUser", pod_sc.get("runAsUser"))
            self.assertTrue(non_root is True or (user is not None and user != 0),
                            "%s may run as root" % name)
            self.assertNotEqual(user, 0, name)
            self.assertIs(sc.get("readOnlyRootFilesystem"), True, name)
            self.assertIs(sc.get("allowPrivilegeEscalation"), False, name)
            self.assertIn("ALL", sc.get("capabilities", {}).get("drop", []), name)

    def secrets_of_alertsink(self):
        """[(what, secret name, key)] for each secret the configuration reads."""
        out = []
        env = {e["name"]: e for e in self.alertsink.get("env", [])}
        for name in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", self.as_text):
            self.assertIn(name, env, "${%s} is not in alertsink's environment" % name)
            ref = env[name].get("valueFrom", {}).get("secretKeyRef")
            self.assertIsNotNone(ref, "${%s} does not come from a Secret" % name)
            out.append(("${%s}" % name, ref["name"], ref["key"]))
        for path in re.findall(r"_file:\s*(\S+)", self.as_text):
            sk = self.secret_key_at(self.alertsink, path)
            self.assertIsNotNone(sk, "%s is not a key of a mounted Secret" % path)
            out.append((path, sk[0], sk[1]))
        return out

    def test_secrets_come_from_the_secret(self):
        found = self.secrets_of_alertsink()
        self.assertGreaterEqual(len(found), 2)
        self.assertNotRegex(self.as_text, r"(?m)^\s*(password|bearer_token):\s*[^\s$]",
                            "a literal secret in the ConfigMap")

    def test_alertmanager_posts_to_its_own_alertsink(self):
        port = self.listen_port()
        recvs = {r["name"]: r for r in self.am_conf["receivers"]}
        root = self.am_conf["route"]["receiver"]
        hook = recvs[root]["webhook_configs"][0]
        self.assertEqual(hook["url"], "http://127.0.0.1:%d/api/v1/alertmanager" % port)
        cred = hook["http_config"]["authorization"]["credentials_file"]
        am_key = self.secret_key_at(self.alertmanager, cred)
        self.assertIsNotNone(am_key, "credentials_file %s is not a mounted Secret key" % cred)
        as_key = self.secret_key_at(self.alertsink, self.as_conf["http"]["bearer_token_file"])
        self.assertEqual(am_key, as_key, "Alertmanager's token is not alertsink's")
        args = self.alertmanager["args"]
        peers = [a for a in args if a.startswith("--cluster.peer=")]
        self.assertEqual(len(peers), self.sts["spec"]["replicas"])
        for flag in ("--cluster.listen-address=", "--cluster.advertise-address=",
                     "--cluster.peer-timeout=", "--storage.path="):
            self.assertTrue([a for a in args if a.startswith(flag)], flag + " missing")
        storage = [a.split("=", 1)[1] for a in args if a.startswith("--storage.path=")][0]
        m, _ = self.mount_of(self.alertmanager, storage)
        self.assertIn(m["name"], self.claims)

    @unittest.skipUnless(os.access(AMTOOL, os.X_OK), "amtool is not installed")
    def test_amtool_accepts_the_alertmanager_config(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "alertmanager.yml")
            with open(path, "w") as f:
                f.write(self.am_text)
            p = subprocess.run([AMTOOL, "check-config", path], capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_alertsink_accepts_its_config(self):
        """alertsink -t on the ConfigMap's text, every mount point moved into
        a temporary directory, the secrets written there or set in the
        environment."""
        with tempfile.TemporaryDirectory() as tmp:
            mounts = sorted(self.alertsink["volumeMounts"], key=lambda m: -len(m["mountPath"]))
            moved = {m["mountPath"]: os.path.join(tmp, m["name"]) for m in mounts}
            text = self.as_text
            for src in sorted(moved, key=len, reverse=True):
                text = re.sub(r"(?<![\w/])%s(?=/|\s|$)" % re.escape(src), moved[src], text)
            self.assertNotEqual(text, self.as_text)
            env = dict(os.environ)
            env.pop("ALERTSINK_CONFIG", None)
            for what, secret, key in self.secrets_of_alertsink():
                if what.startswith("${"):
                    env[what[2:-1]] = "value-of-%s-%s" % (secret, key)
                else:
                    m, _ = self.mount_of(self.alertsink, what)
                    target = os.path.join(moved[m["mountPath"]],
                                          os.path.relpath(what, m["mountPath"]))
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    with open(target, "w") as f:
                        f.write("value-of-%s-%s\n" % (secret, key))
            for m in mounts:
                os.makedirs(moved[m["mountPath"]], exist_ok=True)
            conf_dir = moved[self.mount_of(self.alertsink, self.as_path)[0]["mountPath"]]
            conf = os.path.join(conf_dir, os.path.basename(self.as_path))
            with open(conf, "w") as f:
                f.write(text)
            p = subprocess.run([BINARY, "-t", "-c", conf], capture_output=True, text=True, env=env)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr + "\n" + text)
            self.assertIn("is valid", p.stderr)
            # Without the secrets it is not valid: the check above checked them.
            del env[[w for w, _, _ in self.secrets_of_alertsink() if w.startswith("${")][0][2:-1]]
            p = subprocess.run([BINARY, "-t", "-c", conf], capture_output=True, text=True, env=env)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
