#!/usr/bin/env python3
# NAME
#	doc_samples.py - every output sample in a document was produced by a run
# SYNOPSIS
#	doc_samples.py DOC NAME=FILE[,FILE...]...
# DESCRIPTION
#	A fenced code block right after a line "<!-- sample: NAME -->" in DOC
#	holds samples of what the files given for NAME contain: each
#	non-blank line of the block must match a line of one of those files.
#	"..." in a sample stands for any text; everything else is literal.
#	A sample matches anywhere in a line, so that the time stamp and
#	message id that Exim puts first may be left out.
#
#	Prints one line per sample not found, and a count.
# DIAGNOSTICS
#	Exit 0 when every sample was found (and there was at least one), 1
#	otherwise, 2 on usage errors.

import re
import sys


def samples(doc):
    out = []
    want = None
    inblock = False
    with open(doc, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            s = line.rstrip("\n")
            m = re.match(r"\s*<!-- sample: ([\w-]+) -->\s*$", s)
            if m and not inblock:
                want = m.group(1)
                continue
            if s.startswith("```"):
                if inblock:
                    inblock = False
                    want = None
                elif want is not None:
                    inblock = True
                continue
            if inblock and s.strip():
                out.append((want, n, s.strip()))
    return out


def pattern(sample):
    parts = sample.split("...")
    return re.compile(".*".join(re.escape(p) for p in parts))


def main(argv):
    if len(argv) < 3:
        print("usage: doc_samples.py DOC NAME=FILE[,FILE...]...",
              file=sys.stderr)
        return 2
    lines = {}
    for arg in argv[2:]:
        name, _, files = arg.partition("=")
        text = []
        for path in files.split(","):
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    text.extend(x.rstrip("\n") for x in f)
            except OSError as e:
                print(f"cannot read '{path}': {e.strerror}")
        lines[name] = text
    found = missing = 0
    for name, n, s in samples(argv[1]):
        pat = pattern(s)
        if any(pat.search(x) for x in lines.get(name, [])):
            found += 1
        else:
            missing += 1
            print(f"{argv[1]}:{n}: sample '{name}' not produced: {s[:160]}")
    print(f"{found} samples found, {missing} missing")
    return 0 if missing == 0 and found > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
