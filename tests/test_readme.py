"""The README's and docs/'s commands run as written on a fresh clone, once `make run` or
`make test` ran; their links lead somewhere.

`make` installs uv under ~/.local/bin, which is not on PATH: a command must not need `uv`. What
the commands need is `make` and what it builds (`.venv/bin/...`).
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from proveo.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README = "\n".join(document.read_text() for document in DOCUMENTS)
# Lines of ```bash blocks, and inline code that starts like a command.
_BLOCK = re.compile(r"```(?:bash|sh|console)\n(.*?)```", re.DOTALL)
_INLINE = re.compile(r"`((?:make|uv|\.venv/bin/|\.ci/|proveo|python)[^`]*)`")


# Programs a Debian machine has after `make test` (curl is in its TEST_APT_PACKAGES).
SYSTEM_PROGRAMS = {"curl", "mkdir"}


def _block_commands() -> list[str]:
    commands = []
    for block in _BLOCK.findall(README):
        for line in block.replace("\\\n", " ").splitlines():
            command = line.split("#", 1)[0].strip()
            if command:
                commands.append(command)
    return commands


def _inline_commands() -> list[str]:
    return _INLINE.findall(_BLOCK.sub("", README))


def _make_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z-]*):", makefile, re.MULTILINE))


class TestReadmeCommands:
    def test_the_readme_shows_commands(self) -> None:
        assert len(_block_commands()) >= 5
        assert len(_inline_commands()) >= 5

    @pytest.mark.parametrize("command", _block_commands())
    def test_each_shell_line_starts_with_something_a_fresh_clone_has(self, command: str) -> None:
        program = shlex.split(command)[0]
        if program == "make":
            assert shlex.split(command)[1] in _make_targets()
        elif program in SYSTEM_PROGRAMS:
            assert shutil.which(program), f"{program} is not installed"
        elif program != "export":
            # A path inside the clone (created by make), never a program expected on PATH.
            assert program.startswith((".venv/", ".ci/")), command
            assert (ROOT / program).exists(), command

    def test_no_command_needs_uv_on_path(self) -> None:
        commands = _block_commands() + _inline_commands()
        assert [c for c in commands if c.startswith("uv ")] == [], (
            "uv lives in ~/.local/bin, not on PATH: use .venv/bin/... or a make target"
        )

    def test_inline_commands_name_real_targets_and_files(self) -> None:
        for command in _inline_commands():
            program, *args = command.split()
            if program == "make" and args:
                assert args[0] in _make_targets(), command
            elif program.startswith((".venv/bin/", ".ci/")):
                assert (ROOT / program).exists(), command

    def test_proveo_commands_parse_with_the_real_cli(self) -> None:
        for command in _block_commands() + _inline_commands():
            words = shlex.split(command)
            # A bare name is prose, and `[...]` marks a synopsis.
            if words[0] != ".venv/bin/proveo" or len(words) == 1 or "[" in command:
                continue
            build_parser().parse_args(words[1:])


_LINK = re.compile(r"\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)
_FENCE = re.compile(r"```.*?```", re.DOTALL)


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(document: Path) -> set[str]:
    return {_anchor(heading) for heading in _HEADING.findall(_FENCE.sub("", document.read_text()))}


class TestDocumentLinks:
    def test_the_readme_links_every_document_in_docs(self) -> None:
        readme = (ROOT / "README.md").read_text()
        for document in DOCUMENTS[1:]:
            assert f"docs/{document.name}" in readme, document.name

    @pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
    def test_every_relative_link_names_a_file_and_heading_that_exist(self, document: Path) -> None:
        broken = []
        for target in _LINK.findall(_FENCE.sub("", document.read_text())):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            path, _, anchor = target.partition("#")
            linked = (document.parent / path).resolve() if path else document
            missing_heading = anchor and linked.suffix == ".md" and anchor not in _anchors(linked)
            if not linked.exists() or missing_heading:
                broken.append(target)
        assert broken == []
