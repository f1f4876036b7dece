"""The organisation tree: branch (分行) → sub-branch (支行) → outlet (网点)."""
