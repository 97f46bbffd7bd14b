"""TEST ENVIRONMENT ONLY: Wine 8.0 shims for the Windows Python that scripts/windows/setup.sh
installs under Wine. Never part of the app or of its Windows bundle: real Windows has what
these stand in for. Each shim names the Wine gap it covers; keep the list as short as the
gaps that still bite (see scripts/windows/README.md).
"""
