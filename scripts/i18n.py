"""The zh-hans catalogue: source strings are Chinese, so its translations are the sources.

`python scripts/i18n.py fill locale/zh_Hans/LC_MESSAGES/django.po` completes every empty or
fuzzy entry with its own text (a wording change can then be made in the catalogue alone)
and sets the Chinese plural rule. `make messages` runs makemessages, this, and
compilemessages. The parser is shared with the catalogue test.
"""

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Entry:
    comments: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr.values()) and not self.fuzzy


def _unquote(line: str) -> str:
    return ast.literal_eval(line)


def parse_po(path: Path) -> list[Entry]:
    entries, entry, target = [], Entry(), None
    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line:
            if target is not None:
                entries.append(entry)
            entry, target = Entry(), None
            continue
        if line.startswith("#,"):
            entry.flags += [f.strip() for f in line[2:].split(",")]
        elif line.startswith("#"):
            entry.comments.append(raw)
        elif line.startswith("msgctxt "):
            entry.msgctxt, target = _unquote(line[8:]), "msgctxt"
        elif line.startswith("msgid_plural "):
            entry.msgid_plural, target = _unquote(line[13:]), "msgid_plural"
        elif line.startswith("msgid "):
            entry.msgid, target = _unquote(line[6:]), "msgid"
        elif line.startswith("msgstr["):
            index = int(line[7 : line.index("]")])
            entry.msgstr[index] = _unquote(line[line.index("]") + 1 :].strip())
            target = ("msgstr", index)
        elif line.startswith("msgstr "):
            entry.msgstr[0], target = _unquote(line[7:]), ("msgstr", 0)
        elif line.startswith('"'):
            text = _unquote(line)
            if isinstance(target, tuple):
                entry.msgstr[target[1]] += text
            elif target == "msgctxt":
                entry.msgctxt += text
            elif target == "msgid":
                entry.msgid += text
            elif target == "msgid_plural":
                entry.msgid_plural += text
    return entries


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    escaped = escaped.replace("\t", "\\t")
    return f'"{escaped}"'


def write_po(path: Path, entries: list[Entry]) -> None:
    out = []
    for entry in entries:
        out += entry.comments
        if entry.flags:
            out.append("#, " + ", ".join(entry.flags))
        if entry.msgctxt is not None:
            out.append("msgctxt " + _quote(entry.msgctxt))
        out.append("msgid " + _quote(entry.msgid))
        if entry.msgid_plural is not None:
            out.append("msgid_plural " + _quote(entry.msgid_plural))
            for index, text in sorted(entry.msgstr.items()):
                out.append(f"msgstr[{index}] " + _quote(text))
        else:
            out.append("msgstr " + _quote(entry.msgstr.get(0, "")))
        out.append("")
    path.write_text("\n".join(out), encoding="utf-8")


def fill(path: Path) -> int:
    entries = parse_po(path)
    filled = 0
    for entry in entries:
        if entry.msgid == "":  # the header
            header = entry.msgstr.get(0, "")
            lines = [ln for ln in header.split("\n") if ln and not ln.startswith("Plural-Forms")]
            lines = [
                ln.replace("CHARSET", "UTF-8") if ln.startswith("Content-Type") else ln
                for ln in lines
            ]
            lines = [("Language: zh_Hans" if ln.startswith("Language:") else ln) for ln in lines]
            lines.append("Plural-Forms: nplurals=1; plural=0;")
            entry.msgstr[0] = "\n".join(lines) + "\n"
            entry.flags = [f for f in entry.flags if f != "fuzzy"]
            continue
        if entry.translated:
            continue
        entry.flags = [f for f in entry.flags if f != "fuzzy"]
        entry.comments = [c for c in entry.comments if not c.startswith("#|")]
        if entry.msgid_plural is not None:
            entry.msgstr = {0: entry.msgid_plural}
        else:
            entry.msgstr = {0: entry.msgid}
        filled += 1
    write_po(path, entries)
    return filled


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "fill":
        sys.exit("usage: i18n.py fill PATH.po")
    print(f"{fill(Path(sys.argv[2]))} entries completed")
