"""{{cookiecutter.module_name}}: see README.md. Entry points: `python -m {{cookiecutter.module_name}}.train`, `.lr_find`, `.export`."""

PROJECT_NAME = {{ cookiecutter.project_name | py_str }}
