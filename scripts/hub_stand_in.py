#!/usr/bin/env python3
"""A local stand-in for the Hugging Face Hub's resolve endpoints, serving the embedded tarot model and SAE
as org/tarot and org/tarot-saes/blocks.2.hook_resid_post, so `relp-sae download` can be tried without a network:

    python3 scripts/hub_stand_in.py 8765 &
    HF_ENDPOINT=http://127.0.0.1:8765 HF_HUB_CACHE=/tmp/hf relp-sae download org/tarot

Small files answer with their git blob sha1 as ETag; files over 100 kB as LFS files do (a 302 to /cdn/<sha256>
with X-Linked-Etag and X-Linked-Size); /cdn honours Range requests. The tests use their own C# server (FakeHub).
"""
import hashlib, http.server, os, sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "default")
REPOS = {
    "org/tarot": {name: os.path.join(ROOT, "model", name) for name in os.listdir(os.path.join(ROOT, "model"))},
    "org/tarot-saes": {f"blocks.2.hook_resid_post/{name}": os.path.join(ROOT, "sae", name) for name in os.listdir(os.path.join(ROOT, "sae"))},
}
LFS = 100_000


def read(path):
    with open(path, "rb") as f:
        return f.read()


def commit(repo):
    return hashlib.sha1(repo.encode()).hexdigest()


BLOBS = {hashlib.sha256(read(p)).hexdigest(): p for files in REPOS.values() for p in files.values() if os.path.getsize(p) > LFS}


class Hub(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass  # quiet: a request log would interleave with the client's own output

    def do_HEAD(self):
        self.answer(body=False)

    def do_GET(self):
        self.answer(body=True)

    def answer(self, body):
        parts = self.path.lstrip("/").split("/", 4)
        if parts[0] == "cdn" and parts[1] in BLOBS:
            return self.send(read(BLOBS[parts[1]]), body)
        if len(parts) < 5 or parts[2] != "resolve":
            return self.fail(404, None)
        repo, revision, path = f"{parts[0]}/{parts[1]}", parts[3], parts[4]
        if repo not in REPOS:
            return self.fail(401, "RepoNotFound")
        if revision not in ("main", commit(repo)):
            return self.fail(404, "RevisionNotFound")
        if path not in REPOS[repo]:
            return self.fail(404, "EntryNotFound")
        data = read(REPOS[repo][path])
        if len(data) > LFS:
            sha = hashlib.sha256(data).hexdigest()
            self.send_response(302)
            self.send_header("Location", f"/cdn/{sha}")
            self.send_header("X-Repo-Commit", commit(repo))
            self.send_header("X-Linked-Etag", f'"{sha}"')
            self.send_header("X-Linked-Size", str(len(data)))
            self.send_header("Content-Length", "0")
            return self.end_headers()
        etag = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        self.send(data, body, {"ETag": f'"{etag}"', "X-Repo-Commit": commit(repo)})

    def send(self, data, body, headers=None):
        start = 0
        ranged = self.headers.get("Range", "")
        if ranged.startswith("bytes=") and ranged.endswith("-"):
            start = int(ranged[6:-1])
        self.send_response(206 if start else 200)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        if body:
            self.wfile.write(data[start:])

    def fail(self, status, code):
        self.send_response(status)
        if code:
            self.send_header("X-Error-Code", code)
        self.send_header("Content-Length", "0")
        self.end_headers()


if __name__ == "__main__":
    http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 8765), Hub).serve_forever()
