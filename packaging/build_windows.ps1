# Builds the Windows one-folder bundle (packaging\dist\litellm-bridge), signs its manifest and,
# with --archive, packs litellm-bridge-<version>-windows-<arch>.zip beside it.
# Extra arguments go to packaging\build.py (--key FILE, --release, --archive, --no-cache,
# --skip-manifest). The signing key comes from --key, $env:BRIDGE_SIGNING_KEY or
# $env:BRIDGE_SIGNING_KEY_FILE; without one a development key under packaging\build\ is used.
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..")
$Venv = if ($env:BRIDGE_VENV) { $env:BRIDGE_VENV } else { Join-Path (Get-Location) ".venv" }
$Python = Join-Path $Venv "Scripts\python.exe"
if (-not (Test-Path $Python)) {
    $Base = if ($env:PYTHON) { $env:PYTHON } else { "python" }
    & $Base -m venv $Venv
    if ($LASTEXITCODE -ne 0) { throw "Cannot create the virtual environment $Venv" }
    & $Python -m pip install -q --upgrade pip
    & $Python -m pip install -q -c constraints.txt -c constraints-windows.txt -e ".[dev]"
    if ($LASTEXITCODE -ne 0) { throw "Installing the app and its pinned dependencies failed" }
}
& $Python packaging\build.py @args
if ($LASTEXITCODE -ne 0) { throw "The bundle build failed (exit $LASTEXITCODE)" }
