"""Release tooling: `python -m bridge_app.integrity sign-manifest DIR --key KEYFILE` etc."""

from bridge_app.integrity._tools import tools

if __name__ == "__main__":
    tools(prog_name="python -m bridge_app.integrity")
