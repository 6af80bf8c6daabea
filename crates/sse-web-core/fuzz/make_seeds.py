#!/usr/bin/env python3
"""Writes the seed corpus of the parser_differential fuzz target into seeds/parser_differential/.

Run it from anywhere: `python3 crates/sse-web-core/fuzz/make_seeds.py`. It replaces the directory's
contents, so edit the list here, not the files. scripts/fuzz.sh reads the seeds read-only (new
inputs a run finds go to a temporary directory), so the tree never changes by fuzzing.

Each input's first two bytes are the chunk sizes the target alternates (byte + 1, so 0 means
one-byte chunks, 255 means 256); the rest is the stream. Sizes are picked so a split lands where
it matters: between CR and LF, inside the BOM, inside a UTF-8 sequence, inside a field name.
"""

import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "seeds", "parser_differential")


def c(a, b):
    """The chunk prefix for chunks of a and b bytes (1..=256)."""
    return bytes([a - 1, b - 1])


WHOLE = c(256, 256)  # big chunks: the stream mostly in one piece
BYTES = c(1, 1)  # one byte at a time: every split

SEEDS = {
    # The basics and every field.
    "empty": b"",
    "only-prefix": c(1, 1),
    "one-lf": c(1, 1) + b"\n",
    "one-cr": c(1, 1) + b"\r",
    "one-crlf": c(1, 1) + b"\r\n",
    "message": WHOLE + b"data: hello\n\n",
    "message-bytes": BYTES + b"data: hello\n\n",
    "every-field": WHOLE
    + b"event: update\ndata: first\ndata: second\nid: 42\nretry: 3000\n: a comment\n\n",
    "every-field-bytes": BYTES
    + b"event: update\ndata: first\ndata: second\nid: 42\nretry: 3000\n: a comment\n\n",
    "every-field-2-3": c(2, 3)
    + b"event:update\ndata:first\r\ndata:second\rid:42\r\nretry:3000\n:c\r\n\r\n",
    # Line endings: LF, CR, CRLF, mixed, and CR/LF cut by a chunk boundary.
    "crlf": WHOLE + b"data: a\r\n\r\ndata: b\r\n\r\n",
    "crlf-split": c(8, 1) + b"data: a\r\n\r\n",  # "data: a\r" | "\n" | ...
    "crlf-split-blank": c(9, 1) + b"data: a\r\n\r\ndata: b\r\n\r\n",  # blank line's CR | LF
    "cr-only": WHOLE + b"data: a\r\rdata: b\r\r",
    "cr-only-bytes": BYTES + b"data: a\r\rdata: b\r\rid: 7\r\r",
    "cr-at-end": c(7, 256) + b"data: a\r",  # a CR that ends the input: the line is complete
    "cr-cr-lf": c(1, 2) + b"data: a\r\r\n\n",  # CR, then CRLF, then LF: three line ends
    "lf-cr": c(2, 1) + b"data: a\n\rdata: b\n\r",  # LF then CR is two line ends
    "mixed-endings": c(3, 5) + b"data: a\r\ndata: b\rdata: c\n\r\n\ndata: d\n\r\r",
    "many-blank-lines": c(4, 1) + b"\n\r\n\r\r\n\n\n\r\r\r\n" * 8 + b"data: x\n\n\r\n\r",
    # The BOM: stripped once at the start, whole or split; a second BOM, or one later, is text.
    "bom": WHOLE + b"\xef\xbb\xbfdata: bom\n\n",
    "bom-bytes": BYTES + b"\xef\xbb\xbfdata: bom\n\n",
    "bom-split-2": c(2, 256) + b"\xef\xbb\xbfdata: bom\n\n",  # "\xef\xbb" | "\xbf..."
    "bom-twice": WHOLE + b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\ndata: y\n\n",
    "bom-second-line": WHOLE + b"data: a\n\xef\xbb\xbfdata: b\n\n",
    "bom-partial": c(1, 256) + b"\xef\xbbdata: x\n\n",  # not a BOM: invalid UTF-8, then text
    "bom-alone": BYTES + b"\xef\xbb\xbf\n\n",
    "bom-blank": c(3, 1) + b"\xef\xbb\xbf\r\ndata: x\r\n\r\n",
    "bom-comment": c(2, 2) + b"\xef\xbb\xbf: hi\n",
    # UTF-8: multi-byte characters cut anywhere, and every kind of invalid sequence (replaced).
    "utf8-split": BYTES + "data: é€😀\nevent: ü\nid: ☃\n\n".encode(),
    "utf8-split-2-3": c(2, 3) + "data: é€😀é€😀\n\n".encode(),
    "utf8-invalid": WHOLE + b"data: \xff\xfe\n\ndata: a\x80b\n\n",
    "utf8-truncated": c(7, 1) + b"data: \xe2\x82\n\ndata: \xf0\x9f\x98\n\n",
    "utf8-overlong": WHOLE + b"data: \xc0\x80\xe0\x80\x80\n\n",
    "utf8-surrogate": BYTES + b"data: \xed\xa0\x80\xed\xbf\xbf\n\n",
    "utf8-too-big": WHOLE + b"data: \xf4\x90\x80\x80\xf8\x88\x80\x80\x80\n\n",
    "utf8-in-names": c(3, 2) + b"ev\xffent: x\ndata\xc3: y\ndata: z\n\n",
    "utf8-before-eol": c(9, 1) + b"data: ab\xe2\r\n\r\n",  # an incomplete sequence, then CRLF
    "utf8-cr-inside": BYTES + b"data: \xe2\r\x82\xac\n\n",
    "utf8-separators": WHOLE + "data: a\u2028b\u2029c\u0085d\x0be\x0cf\n\n".encode(),
    # id: NUL makes the field ignored; empty resets; it persists across events.
    "id-nul": WHOLE + b"id: a\x00b\ndata: x\n\n",
    "id-nul-bytes": BYTES + b"id: 1\n\nid: \x00\ndata: x\n\nid: 2\x00\n\n",
    "id-empty": c(2, 1) + b"id: 5\ndata: a\n\nid\ndata: b\n\nid:\n\nid: \n\n",
    "id-persist": c(5, 3) + b"id: 1\ndata: a\n\ndata: b\n\nid: 2\n\nid: 2\n\ndata: c\n\n",
    "id-only": BYTES + b"id: x\n\nid: x\n\nid: y\n\n",
    "id-unterminated": WHOLE + b"id: z\ndata: a\n",
    "id-spaces": c(4, 4) + b"id:  two\n\nid:nospace\n\nid : x\n\n",
    # retry: ASCII digits only; edges of u64 (the reference saturates past u64::MAX).
    "retry-zero": WHOLE + b"retry: 0\n\nretry: 00000\n",
    "retry-u64-max": WHOLE + b"retry: 18446744073709551615\n",
    "retry-u64-over": c(10, 3) + b"retry: 18446744073709551616\nretry: 99999999999999999999999999\n",
    "retry-invalid": WHOLE
    + b"retry: -1\nretry: 1a\nretry:\nretry: \nretry:  5\nretry: +5\nretry: 5 \nretry: 1.5\n\n",
    "retry-unicode-digits": WHOLE + "retry: ١٢\nretry: ５\n".encode(),
    "retry-split": BYTES + b"retry: 12345\r\nretry:7\r",
    "retry-leading-zeros": c(3, 7) + b"retry: 000000000000000000000000018446744073709551615\n",
    # Comments and lines with no colon or unknown names.
    "comments": c(3, 2) + b":\n: hi\n:no space\n:  two spaces\n::\n: a: b\n",
    "comments-between": c(6, 4) + b"data: a\n: between\ndata: b\n:\n\n",
    "no-colon": BYTES + b"data\n\ndata\ndata\n\nevent\ndata: x\n\n",
    "unknown-fields": c(4, 3) + b"foo: bar\nData: x\nDATA: y\n data: z\ndata : w\nretryx: 1\n\n",
    "event-no-data": c(2, 2) + b"event: x\n\ndata: y\n\nevent: z\n",
    "event-empty": WHOLE + b"event:\ndata: a\n\nevent: \ndata: b\n\n",
    "data-colons": c(5, 1) + b"data: a:b: c\n\ndata:no-space\n\ndata:  two\n\ndata:\n\n",
    "data-empty-lines": BYTES + b"data\ndata:\ndata: \n\n",
    "data-trailing-newline": WHOLE + b"data: a\ndata:\n\n",
    "unterminated": WHOLE + b"data: x\n",
    "unterminated-no-eol": WHOLE + b"data: x",
    "unterminated-after-event": c(3, 256) + b"data: a\n\ndata: b",
    "nul-in-data": c(4, 2) + b"data: a\x00b\nevent: \x00\n\n:\x00\n",
    "control-chars": WHOLE + bytes(range(0x01, 0x20)) + b"\ndata: \x7f\x01\n\n",
    "field-name-split": c(1, 2) + b"dat" + b"a: x\nret" + b"ry: 1\nev" + b"ent: e\ni" + b"d: 1\n\n",
    # A realistic stream.
    "stream": c(37, 11)
    + b"".join(
        b"id: %d\nevent: tick\ndata: {\"n\": %d, \"s\": \"caf\xc3\xa9\"}\n: keepalive\n\n"
        % (i, i)
        for i in range(20)
    )
    + b"retry: 1500\n\n",
    # Long lines (over the parser's small-line paths), cut by small and odd chunks.
    "long-data": c(97, 200) + b"data: " + b"x" * 6000 + b"\n\n",
    "long-data-bytes": c(1, 3) + b"data: " + b"ab\xc3\xa9" * 500 + b"\r\n\r\n",
    "long-data-lines": c(255, 129) + b"data: 0123456789abcdef\n" * 200 + b"\n",
    "long-comment": c(64, 64) + b": " + b"c" * 5000 + b"\n",
    "long-id": c(100, 7) + b"id: " + b"i" * 3000 + b"\ndata: x\n\n",
    "long-event": c(31, 33) + b"event: " + b"e" * 3000 + b"\ndata: x\n\n",
    "long-name": c(50, 50) + b"d" * 4000 + b": x\ndata: y\n\n",
    "long-retry": c(17, 255) + b"retry: " + b"9" * 2000 + b"\n",
    "long-unterminated": c(128, 128) + b"data: " + b"u" * 4000,
}


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    total = 0
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        total += len(data)
    print(f"{len(SEEDS)} seeds, {total} bytes, in {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
