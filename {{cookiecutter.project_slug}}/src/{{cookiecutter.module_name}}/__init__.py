"""The research project (see README.md). Its commands: `python -m {{cookiecutter.module_name}} --help`."""

PROJECT_NAME = {{ cookiecutter.project_name | py_str }}  # noqa: E501 (free text, any length)
