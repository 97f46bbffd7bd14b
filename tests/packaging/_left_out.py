"""What a release bundle must not carry (packaging/litellm-bridge.spec, "left out"), checked
on a built bundle's files and on the modules inside its executable's PYZ archive."""

from __future__ import annotations

from pathlib import Path

from PyInstaller.archive.readers import CArchiveReader

#: Packages the spec excludes: nothing of them may be in the folder or in the archive.
EXCLUDED_PACKAGES = ("tokenizers", "huggingface_hub", "hypothesis", "litellm_enterprise")
#: LiteLLM's admin UI folder holds only the stand-in that keeps LiteLLM's import quiet.
UI_STAND_IN = [".litellm_ui_ready", "_next/README.txt", "index.html"]


def archived_modules(executable: Path) -> list[str]:
    reader = CArchiveReader(str(executable))
    return list(reader.open_embedded_archive("PYZ.pyz").toc)


def left_out_problems(bundle: Path, executable: Path) -> list[str]:
    """Every way the bundle at ``bundle`` carries what it should not (empty when none)."""
    internal = bundle / "_internal"
    problems = []
    modules = archived_modules(executable)
    for package in EXCLUDED_PACKAGES:
        if (internal / package).exists():
            problems.append(f"_internal/{package} is in the bundle")
        archived = [m for m in modules if m == package or m.startswith(package + ".")]
        if archived:
            problems.append(f"{executable.name} archives {len(archived)} {package} modules")
    ui = internal / "litellm" / "proxy" / "_experimental" / "out"
    ui_files = sorted(p.relative_to(ui).as_posix() for p in ui.rglob("*") if p.is_file())
    if ui_files != UI_STAND_IN:
        problems.append(f"LiteLLM's admin UI folder holds {len(ui_files)} files: {ui_files[:5]}")
    tokenizers = internal / "litellm" / "litellm_core_utils" / "tokenizers"
    if (tokenizers / "deepseek_tokenizer.json").exists():
        problems.append("the DeepSeek Hugging Face tokenizer file is in the bundle")
    if not (tokenizers / "anthropic_tokenizer.json").is_file():
        problems.append("anthropic_tokenizer.json is missing (litellm.utils reads it at import)")
    return problems
