"""Developer tool: list untranslated entries of the Russian catalog as JSON, or fill them.

    python scripts/po_todo.py list > todo.json      # {msgid: ""} (plural ids as "a|b")
    python scripts/po_todo.py fill done.json        # writes the translations into the .po
"""

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "recruit/translations/ru/LC_MESSAGES/messages.po"


def main() -> None:
    """Entry point."""
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="ru")
    if sys.argv[1] == "list":
        todo = {}
        for message in catalog:
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if message.fuzzy or not all(strings):
                key = "|".join(message.id) if isinstance(message.id, tuple) else message.id
                todo[key] = ""
        json.dump(todo, sys.stdout, ensure_ascii=False, indent=1)
        return
    done = json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
    for message in catalog:
        key = "|".join(message.id) if isinstance(message.id, tuple) else message.id
        if done.get(key):
            value = done[key]
            message.string = tuple(value) if isinstance(message.id, tuple) else value
            message.flags.discard("fuzzy")
    with PO.open("wb") as fh:
        write_po(fh, catalog, width=0, omit_header=False, sort_output=True)


if __name__ == "__main__":
    main()
