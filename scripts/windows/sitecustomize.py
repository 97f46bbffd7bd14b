"""TEST ENVIRONMENT ONLY: Python-level Wine 8.0 shims for the Windows Python that
scripts/windows/setup.sh installs under Wine (C:\\Python311\\Lib\\site-packages). Never part of
the app or of its Windows bundle: real Windows has what a shim here would stand in for.

Empty on purpose. The Python-level gaps met with CPython 3.12 -- `_wmi` reaching the
unimplemented propsys.VariantToString (platform, pip), kernel32.CopyFile2 (shutil.copy2) and
kernel32.PssCaptureSnapshot (os.getppid) -- are 3.12 code paths: in the 3.11 that the Windows
release ships, `platform` asks no WMI, shutil copies with read/write and os.getppid() takes a
Toolhelp32 snapshot, and all three work under Wine (checked). The gaps that remain are
below Python and handled by DLLs (see scripts/windows/README.md). Add a shim here only for
a gap that still bites, with the Wine call it avoids.
"""
