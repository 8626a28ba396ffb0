"""docs/joint_layout.md embeds exactly the table the code generates."""
from __future__ import annotations

from pathlib import Path

from hpe3d_ros import skeleton

DOC = Path(__file__).resolve().parents[2] / "docs" / "joint_layout.md"


def test_doc_holds_the_generated_table():
    text = DOC.read_text()
    begin, end = "<!-- BEGIN layout_table_markdown() -->\n", "<!-- END layout_table_markdown() -->"
    assert begin in text and end in text, f"{DOC} lacks the table markers"
    embedded = text.split(begin, 1)[1].split(end, 1)[0]
    assert embedded == skeleton.layout_table_markdown(), (
        f"{DOC} is out of date: regenerate the table with hpe3d_ros.skeleton.layout_table_markdown()"
    )
    assert skeleton.LAYOUT_ID in text


def test_every_joint_row_is_documented_once():
    table = skeleton.layout_table_markdown()
    rows = [line for line in table.splitlines()[2:] if line.startswith("| ")]
    assert [int(r.split("|")[1]) for r in rows] == list(range(skeleton.NUM_JOINTS))
    assert [r.split("|")[2].strip() for r in rows] == list(skeleton.JOINT_NAMES)
