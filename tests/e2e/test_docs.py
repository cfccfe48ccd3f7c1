#!/usr/bin/python3
"""test_docs.py - the documentation lives in the repository and its links hold.

  - No file of the repository (.git aside) refers to the product contract
    the developers agreed on outside it: the rules are docs/ and the man
    pages, in the project's words.  The word is searched in upper case as
    the references were written; a licence's "ACTION OF ..." phrase is no
    such reference.
  - Every relative link of docs/*.md and README.md names a file or folder
    that exists, and a link with #anchor names a heading of the page it
    points to (GitHub's anchors).  Links inside code are not links.
  - Every page of docs/ is linked from docs/README.md, the index.
  - Every page of docs/ that a comment or a page names by its path exists.
"""
import os
import re
import subprocess
import unittest

SOURCE = os.environ.get("AS_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
DOCS = os.path.join(SOURCE, "docs")

# Spelled in two halves so that this file does not name it itself.
WORD = "CONT" + "RACT"
REFERENCE = re.compile(r"(?<!OF )\b%s\b|%s\.md" % (WORD, WORD.lower()))
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
REFLINK = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.M)
DOC_NAME = re.compile(r"\bdocs/([A-Za-z0-9_.-]+\.md)\b")


def repository_files():
    """The files of the repository: git's list, else a walk of the tree."""
    try:
        out = subprocess.run(["git", "-C", SOURCE, "ls-files", "-z"], capture_output=True,
                             check=True).stdout.decode()
        files = [f for f in out.split("\0") if f]
        if files:
            return [f for f in files if os.path.isfile(os.path.join(SOURCE, f))]
    except (OSError, subprocess.CalledProcessError):
        pass
    files = []
    for root, dirs, names in os.walk(SOURCE):
        dirs[:] = [d for d in dirs if d != ".git" and not d.startswith(("build", "var"))]
        for n in names:
            files.append(os.path.relpath(os.path.join(root, n), SOURCE))
    return files


def markdown_pages():
    pages = [os.path.join(SOURCE, "README.md")]
    pages += sorted(os.path.join(DOCS, f) for f in os.listdir(DOCS) if f.endswith(".md"))
    return pages


def without_code(text):
    """The text with fenced blocks and inline code blanked (lines kept)."""
    text = re.sub(r"^(```|~~~).*?^\1[^\n]*$", lambda m: "\n" * m.group(0).count("\n"),
                  text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def slug(heading):
    """GitHub's anchor of a heading: lower case, punctuation dropped,
    spaces as hyphens."""
    s = re.sub(r"`|\*\*|__", "", heading.strip()).lower()
    s = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", s)
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(path):
    seen, out = {}, set()
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"^(```|~~~).*?^\1[^\n]*$", "", text, flags=re.S | re.M)
    for m in re.finditer(r"^#{1,6}\s+(.*?)\s*#*\s*$", text, re.M):
        a = slug(m.group(1))
        n = seen.get(a, 0)
        seen[a] = n + 1
        out.add(a if n == 0 else "%s-%d" % (a, n))
    return out


def links(path):
    with open(path, encoding="utf-8") as f:
        text = without_code(f.read())
    found = []
    for no, line in enumerate(text.splitlines(), 1):
        for m in LINK.finditer(line):
            found.append((no, m.group(1)))
    for m in REFLINK.finditer(text):
        found.append((text.count("\n", 0, m.start()) + 1, m.group(1)))
    return found


class Docs(unittest.TestCase):
    def test_no_file_refers_to_the_outside_contract(self):
        hits = []
        for rel in repository_files():
            try:
                with open(os.path.join(SOURCE, rel), encoding="utf-8") as f:
                    text = f.read()
            except (UnicodeDecodeError, OSError):
                continue  # binary: fixtures, corpora
            for no, line in enumerate(text.splitlines(), 1):
                if REFERENCE.search(line):
                    hits.append("%s:%d: %s" % (rel, no, line.strip()))
        self.assertEqual(hits, [], "files that point outside the repository for its rules "
                                   "(point to docs/ or the man pages instead)")

    def test_relative_links_exist(self):
        bad, checked = [], 0
        for page in markdown_pages():
            base = os.path.dirname(page)
            for no, target in links(page):
                if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                    continue  # http:, https:, mailto:
                path, _, anchor = target.partition("#")
                where = os.path.normpath(os.path.join(base, path)) if path else page
                name = "%s:%d: %s" % (os.path.relpath(page, SOURCE), no, target)
                checked += 1
                if not where.startswith(SOURCE + os.sep) and where != SOURCE:
                    bad.append(name + " (outside the repository)")
                elif not os.path.exists(where):
                    bad.append(name + " (no such file)")
                elif anchor and where.endswith(".md") and anchor not in anchors(where):
                    bad.append(name + " (no such heading)")
        self.assertEqual(bad, [], "broken links")
        self.assertGreater(checked, 40)

    def test_index_links_every_page(self):
        index = os.path.join(DOCS, "README.md")
        linked = {os.path.normpath(os.path.join(DOCS, t.partition("#")[0]))
                  for _, t in links(index)}
        pages = [p for p in markdown_pages() if os.path.dirname(p) == DOCS and p != index]
        missing = [os.path.relpath(p, SOURCE) for p in pages if p not in linked]
        self.assertEqual(missing, [], "pages of docs/ that docs/README.md does not list")

    def test_named_pages_exist(self):
        bad = []
        for rel in repository_files():
            if not rel.endswith((".c", ".h", ".py", ".sh", ".md", ".scd", ".mustache",
                                 ".txt", ".in", ".yaml")):
                continue
            with open(os.path.join(SOURCE, rel), encoding="utf-8", errors="replace") as f:
                for no, line in enumerate(f, 1):
                    for m in DOC_NAME.finditer(line):
                        if not os.path.exists(os.path.join(DOCS, m.group(1))):
                            bad.append("%s:%d: docs/%s" % (rel, no, m.group(1)))
        self.assertEqual(bad, [], "references to pages that docs/ does not have")


if __name__ == "__main__":
    unittest.main(verbosity=2)
