# PyInstaller runtime hook: runs inside the frozen app before any of its own code.
# LiteLLM fetches its model cost map from the internet at import unless told not to, and a
# bundle must work offline and never phone home, so this is set before litellm can load.
import os

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
# Hugging Face tokenizers LiteLLM may load must not try the hub: fail fast, offline.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
