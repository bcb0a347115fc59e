"""The research project (see README.md).

Entry points:
    python -m {{cookiecutter.module_name}}.train
    python -m {{cookiecutter.module_name}}.lr_find
    python -m {{cookiecutter.module_name}}.export
"""

PROJECT_NAME = {{ cookiecutter.project_name | py_str }}  # noqa: E501 (free text, any length)
