"""Entry point of the packaged app: what PyInstaller freezes as `litellm-bridge`."""

import multiprocessing

from bridge_app.cli import main

if __name__ == "__main__":
    # Windows: a frozen app that starts worker processes must not re-run the CLI in them.
    multiprocessing.freeze_support()
    main()
