"""One build step; the project's metadata is in pyproject.toml.

templates/, questionnaire.yaml and rules.yaml stay at the repository root, outside the
`screening` package. This step copies them into the built package as screening/_bundled/,
so a wheel (and `pip install .`) carries them; screening.config uses those copies when the
repository's own files are not next to the package. A source checkout and an editable
install use the repository's files.

It is a setuptools build sub-command (setuptools.command.build.SubCommand): its
get_source_files() also puts the files in the sdist, with no MANIFEST.in.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import ClassVar

from setuptools import Command, setup
from setuptools.command.build import build

CONTENT = (
    "templates",
    "questionnaire.yaml",
    "rules.yaml",
    "questionnaire.es.yaml",
    "rules.es.yaml",
)  # at the repository root
BUNDLED = ("screening", "_bundled")  # inside the built package: screening.config.BUNDLED


class build_content(Command):
    """Copy templates/, questionnaire.yaml and rules.yaml into the built package."""

    description = "copy templates/, questionnaire.yaml and rules.yaml into screening/_bundled"
    user_options: ClassVar[list] = []  # no options

    def initialize_options(self) -> None:
        self.build_lib = None
        self.editable_mode = False

    def finalize_options(self) -> None:
        self.set_undefined_options("build_py", ("build_lib", "build_lib"))

    def get_source_files(self) -> list[str]:
        """The files, relative to the project root (the build's working directory)."""
        files = []
        for name in CONTENT:
            path = Path(name)
            if path.is_dir():
                files += sorted(
                    p.as_posix()
                    for p in path.rglob("*")
                    if p.is_file()
                    and not any(part.startswith(".") for part in p.parts)
                    and "__pycache__" not in p.parts
                )
            elif path.is_file():
                files.append(name)
            else:
                raise FileNotFoundError(f"{name} is missing: the package needs it")
        return files

    def get_output_mapping(self) -> dict[str, str]:
        target = os.path.join(self.build_lib, *BUNDLED)
        return {os.path.join(target, *Path(src).parts): src for src in self.get_source_files()}

    def get_outputs(self) -> list[str]:
        return list(self.get_output_mapping())

    def run(self) -> None:
        if self.editable_mode:
            return  # an editable install reads the repository's own files
        # A fresh copy each build: a template removed from the repository goes from the wheel.
        shutil.rmtree(os.path.join(self.build_lib, *BUNDLED), ignore_errors=True)
        for target, source in self.get_output_mapping().items():
            self.mkpath(os.path.dirname(target))
            self.copy_file(source, target)


class build_with_content(build):
    sub_commands = build.sub_commands + [("build_content", None)]


setup(cmdclass={"build": build_with_content, "build_content": build_content})
