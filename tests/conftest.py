"""Suite-wide settings: property tests draw the same examples in CI, fresh ones elsewhere."""

import os

from hypothesis import settings

# CI must not fail on an example no one has seen; developers' runs keep exploring.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
