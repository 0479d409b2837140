#!/usr/bin/env python3
"""Runs every example session in README.md and docs/*.md and compares its output with what the page shows.

A session is a ```text block with lines starting with "$ ": its lines (with "\\" continuation lines)
run in order in one bash, as at a prompt, in a scratch folder that links data/, models/, tests/,
scripts/ and results/ from the repository,
with `relp-sae` on PATH as the freshly built tool; the lines after it, up to the next "$ ", are its
expected output (stdout and stderr together). A line "..." on a page stands for any number of
lines. Pages run in order (README.md, then docs/ by name) in one scratch folder. Timings, rates, ETAs, the .NET version, the core count and the SIMD width are masked before
comparing, and runs of spaces count as one; of a run of progress lines only the last, at 100 %, is kept.

  scripts/readme_examples.py              # run all, print differences with their page, exit 1 if any
  scripts/readme_examples.py --only merge # only the commands containing "merge"
  scripts/readme_examples.py --write      # rewrite each page's output blocks with the real output
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pages():
    """README.md, then every docs/*.md by name: the pages whose sessions are run."""
    docs = os.path.join(REPO, "docs")
    return [os.path.join(REPO, "README.md")] + sorted(os.path.join(docs, f) for f in os.listdir(docs) if f.endswith(".md"))
PROGRESS = re.compile(r"^[\w-]+: +\d+ % ")
MASKS = [
    (re.compile(r"\d[\d,]*(\.\d+)? ?ms\b"), "# ms"),
    (re.compile(r"[\d,.]+ ([\w]+)/s\b"), r"# \1/s"),
    (re.compile(r"ETA \d+s"), "ETA #s"),
    (re.compile(r"\.NET \d+\.\d+\.\d+"), ".NET #"),
    (re.compile(r"\d+ cores"), "# cores"),
    (re.compile(r"Vector\d+"), "Vector#"),
    (re.compile(r'"seconds": [-\d.eE]+'), '"seconds": #'),
    (re.compile(r"\b\d+\.\d s;"), "# s;"),
]
TIMING_HEADER = re.compile(r"seconds|\bms\b|s /")


def mask(lines):
    """Masks run-dependent fields; in box tables, the numbers of every column whose header is a time."""
    out, timing_columns = [], None
    for line in lines:
        for pattern, replacement in MASKS:
            line = pattern.sub(replacement, line)
        if line.startswith("┌"):
            timing_columns = None
        elif line.startswith("│") and timing_columns is None:
            cells = line.strip().strip("│").split("│")
            timing_columns = {i for i, cell in enumerate(cells) if TIMING_HEADER.search(cell)}
        elif line.startswith("│") and timing_columns:
            cells = line.rstrip().strip("│").split("│")
            line = "│" + "│".join(re.sub(r"[\d.]+", "#", c) if i in timing_columns else c for i, c in enumerate(cells)) + "│"
        out.append(re.sub(r" +", " ", line).strip())  # a masked number's width moves centred titles and cells
    return out


def sessions(text):
    """(start, end) line ranges of a page's ```text blocks that hold "$ " commands."""
    lines, found, start = text.split("\n"), [], None
    for i, line in enumerate(lines):
        if start is None and line.strip() == "```text":
            start = i + 1
        elif start is not None and line.strip() == "```":
            if any(l.startswith("$ ") for l in lines[start:i]):
                found.append((start, i))
            start = None
    return lines, found


def commands(block):
    """[(command, expected lines)] of one block."""
    result, i = [], 0
    while i < len(block):
        if not block[i].startswith("$ "):
            i += 1
            continue
        command = block[i][2:]
        while command.endswith("\\"):
            i += 1
            command += "\n" + block[i]
        i += 1
        expected = []
        while i < len(block) and not block[i].startswith("$ "):
            expected.append(block[i])
            i += 1
        result.append((command, expected))
    return result


def matches(expected, actual):
    """Whether the masked lines agree, "..." in expected standing for any run of lines."""
    if "..." not in expected:
        return expected == actual
    k = expected.index("...")
    head, tail = expected[:k], expected[k + 1:]
    return actual[:len(head)] == head and (not tail or actual[-len(tail):] == tail) and len(actual) >= len(head) + len(tail)


def rewritten(expected, actual):
    """The real output in the page's shape: where it elides lines with "...", the same head and tail lengths."""
    if "..." not in expected:
        return actual
    k = expected.index("...")
    tail = len(expected) - k - 1
    return actual[:k] + ["..."] + (actual[-tail:] if tail else [])


MARK = "@@readme-example-done@@"


def run_session(commands_, scratch, env):
    """Runs one session's commands in one bash, so variables, exports, `cd` and background jobs carry
    from one "$ " line to the next as they would at a prompt; returns each command's output lines."""
    script = "".join(f"{c}\necho {MARK}\n" for c in commands_)
    # One pipe for both streams, so progress lines (stderr) and results (stdout) keep their order.
    done = subprocess.run(["bash", "-c", script], cwd=scratch, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=3600)
    outputs = done.stdout.split(MARK + "\n")
    outputs += [""] * (len(commands_) - len(outputs))
    return [clean(o) for o in outputs[:len(commands_)]]


def clean(output):
    lines = [l.rstrip() for l in output.rstrip("\n").split("\n")] if output.strip() else []
    # Of the progress lines, keep the last of each run with the same title, and only at 100 %.
    title = lambda l: l.split(":", 1)[0] if PROGRESS.match(l) else None
    return [l for i, l in enumerate(lines)
            if title(l) is None or (" 100 % " in l and (i + 1 == len(lines) or title(lines[i + 1]) != title(l)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="run only the commands containing this text")
    parser.add_argument("--write", action="store_true", help="rewrite each page's outputs with the real ones")
    args = parser.parse_args()

    subprocess.run(["dotnet", "build", os.path.join(REPO, "src", "RelpSae.Cli"), "-c", "Release", "-v", "q", "-nologo"], check=True,
                   stdout=subprocess.DEVNULL)
    scratch = tempfile.mkdtemp(prefix="readme-examples-")
    for name in ["data", "models", "tests", "scripts", "results"]:
        os.symlink(os.path.join(REPO, name), os.path.join(scratch, name))
    os.makedirs(os.path.join(scratch, "bin"))
    tool = os.path.join(scratch, "bin", "relp-sae")
    with open(tool, "w") as f:
        f.write(f'#!/bin/sh\nexec dotnet "{REPO}/src/RelpSae.Cli/bin/Release/net10.0/relp-sae.dll" "$@"\n')
    os.chmod(tool, 0o755)
    env = dict(os.environ, PATH=os.path.join(scratch, "bin") + os.pathsep + os.environ["PATH"], COLUMNS="80")
    for fixed in ["/tmp/sae-repro", "/tmp/tarot", "/tmp/hf"]:  # absolute outputs the pages name
        shutil.rmtree(fixed, ignore_errors=True)

    failures = 0
    for page in pages():
        failures += run_page(page, args, scratch, env)
    shutil.rmtree(scratch, ignore_errors=True)

    if failures:
        print(f"{failures} example(s) differ", file=sys.stderr)
        return 1 if not args.write else 0
    print("every example matches", file=sys.stderr)
    return 0


def run_page(page, args, scratch, env):
    """Runs one page's sessions; prints each difference with the page it is in; with --write, rewrites
    the page's output blocks. Returns the number of differences."""
    name = os.path.relpath(page, REPO)
    with open(page, encoding="utf-8") as f:
        lines, found = sessions(f.read())
    failures, replacements = 0, []
    for start, end in found:
        block, new_block = lines[start:end], []
        pairs = commands(block)
        chosen = [c for c, _ in pairs if not args.only or args.only in c]
        if chosen:
            print(f"{name}: $ {chosen[0].splitlines()[0]}" + (f"   (+{len(chosen) - 1} more)" if len(chosen) > 1 else ""), file=sys.stderr)
        # A session runs whole (its lines may depend on each other) when any of its commands is chosen.
        outputs = iter(run_session([c for c, _ in pairs], scratch, env) if chosen else [])
        for command, expected in pairs:
            actual = next(outputs, None)
            if actual is None:
                new_block += ["$ " + command] + expected
                continue
            if not matches(mask(expected), mask(actual)):
                failures += 1
                print(f"  {name}: {command.splitlines()[0]}\n  differs; {name} shows:\n    " + "\n    ".join(expected) + "\n  the run printed:\n    " + "\n    ".join(actual), file=sys.stderr)
            new_block += ["$ " + command] + rewritten(expected, actual)
        replacements.append((start, end, new_block))

    if args.write and failures:
        for start, end, new_block in reversed(replacements):
            lines[start:end] = new_block
        with open(page, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        print(f"{name} rewritten with the real outputs", file=sys.stderr)
    return failures

if __name__ == "__main__":
    sys.exit(main())
