# SPDX-License-Identifier: MIT
"""The abuse tests use the integration suite's fixtures (make_server and its Server)."""
import importlib.util
import os

_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration",
                     "conftest.py")
_spec = importlib.util.spec_from_file_location("tdns_integration_conftest", _path)
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
globals().update({k: v for k, v in vars(_mod).items() if not k.startswith("__")})
